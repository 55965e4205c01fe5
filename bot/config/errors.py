"""A configuration problem as one Chinese line naming the key (``server.port：…``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.render import say

# pydantic's error types → what is wrong, in Chinese; ``{…}`` are the error's context values
PROBLEMS = {
    "extra_forbidden": "没有这一项（可以写的项见 config.example.toml）",
    "missing": "必须填写",
    "int_type": "应为整数，例如 10",
    "int_parsing": "应为整数，例如 10",
    "int_from_float": "应为整数，不能带小数",
    "float_type": "应为数字，例如 1.5",
    "float_parsing": "应为数字，例如 1.5",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为加引号的文字",
    "list_type": "应为方括号括起的列表，例如 [\"a\", \"b\"]",
    "dict_type": "应为一节设置（[节名] 下面的若干项）",
    "model_type": "应为一节设置（[节名] 下面的若干项）",
    "model_attributes_type": "应为一节设置（[节名] 下面的若干项）",
    "literal_error": "只能是 {expected}",
    "string_pattern_mismatch": "写法不对，应符合 {pattern}",
    "string_too_short": "至少要 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
}


class ConfigProblem(ValueError):
    """A validator's refusal: ``code`` names a macro of ``templates/notices/<template>.txt.j2``
    and ``values`` fill it."""

    def __init__(self, template: str, code: str, /, **values: Any) -> None:
        super().__init__(code)
        self.template = template
        self.code = code
        self.values = values


_CHOICES = re.compile(r"\^\(([\w|]+)\)\$")  # a pattern listing the allowed words


def describe(error: Mapping[str, Any]) -> str:
    """``key：problem`` for one pydantic error of the settings."""
    key = ".".join(str(part) for part in error["loc"]) or "（整个文件）"
    problem = PROBLEMS.get(error["type"])
    cause = error.get("ctx", {}).get("error")
    context = {name: str(value) for name, value in error.get("ctx", {}).items()}
    words = _CHOICES.fullmatch(context.get("pattern", ""))
    if isinstance(cause, ConfigProblem):
        message = say(cause.template, cause.code, **cause.values)
    elif problem is None:  # a validator's own message, already Chinese
        message = str(error["msg"]).removeprefix("Value error, ")
    elif words:
        message = "只能是 " + "、".join(words[1].split("|"))
    else:
        message = problem.format(**{name: value.replace(" or ", " 或 ") for name, value in context.items()})
    return f"{key}：{message}"


_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(exc: Exception) -> str:
    """Why a configuration file could not be read as TOML, with the line and column."""
    if isinstance(exc, UnicodeDecodeError):
        return "不是 UTF-8 编码的文字文件，请用 UTF-8 编码保存"
    where = _WHERE.search(str(exc))
    place = f"第 {where[1]} 行第 {where[2]} 列" if where else "末尾"
    return f"不是有效的 TOML：{place}写法有误（请检查引号、方括号和等号）"
