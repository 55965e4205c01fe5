"""A configuration problem as one Chinese line naming the key (``server.port：…``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.render import say, table


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
    key = ".".join(str(part) for part in error["loc"]) or say("config", "whole_file")
    problem = table("config", "problems").get(error["type"])
    cause = error.get("ctx", {}).get("error")
    context = {name: str(value) for name, value in error.get("ctx", {}).items()}
    words = _CHOICES.fullmatch(context.get("pattern", ""))
    if isinstance(cause, ConfigProblem):
        message = say(cause.template, cause.code, **cause.values)
    elif problem is None:  # a validator's own message, already Chinese
        message = str(error["msg"]).removeprefix("Value error, ")
    elif words:
        message = say("config", "choices", words=words[1].split("|"))
    else:
        message = problem.format(**{name: value.replace(" or ", " 或 ") for name, value in context.items()})
    return say("config", "keyed", key=key, message=message)


_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_problem(exc: Exception) -> str:
    """Why a configuration file could not be read as TOML, with the line and column."""
    if isinstance(exc, UnicodeDecodeError):
        return say("config", "not_utf8")
    where = _WHERE.search(str(exc))
    return say("config", "not_toml", line=where and where[1], column=where and where[2])
