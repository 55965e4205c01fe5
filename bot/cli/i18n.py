"""The ``unionbot`` command line in Chinese, argparse's own words included.

argparse looks its messages up through ``gettext`` when it builds a parser (headings, the
``-h`` help) and when it parses (errors). ``chinese_argparse()`` answers those look-ups
from ``ARGPARSE_ZH`` while the command line is built and parsed; ``Parser`` says its
errors in one Chinese line after the usage and exits with code 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

USAGE_ERROR = 2  # a command line argparse cannot use, as for a bad configuration

ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "参数",
    "options": "选项",
    "show this help message and exit": "显示这段帮助并退出",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 必须写一个",
    "unrecognized arguments: %s": "看不懂的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "没有「%(value)s」这一项，可选：%(choices)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "没有「%(parser_name)s」这个命令，可选：%(choices)s",
    "invalid %(type)s value: %(value)r": "「%(value)s」不是有效的值",
    "expected one argument": "后面要跟一个值",
    "expected at most one argument": "后面最多跟一个值",
    "expected at least one argument": "后面至少要跟一个值",
    "expected %s argument": "后面要跟 %s 个值",
    "expected %s arguments": "后面要跟 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是 %(matches)s",
    "not allowed with argument %s": "不能和 %s 一起使用",
    "ignored explicit argument %r": "这个选项不带值：%r",
    "unexpected option string: %s": "多余的选项：%s",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "can't open '%(filename)s': %(error)s": "无法打开「%(filename)s」：%(error)s",
}


def translate(message: str) -> str:
    """argparse's message in Chinese (unchanged when it has no translation)."""
    return ARGPARSE_ZH.get(message, message)


def translate_plural(singular: str, plural: str, count: int) -> str:
    return translate(singular if count == 1 else plural)


@contextmanager
def chinese_argparse() -> Iterator[None]:
    """argparse speaks Chinese inside the block (build the parser and parse in it)."""
    saved = {name: getattr(argparse, name) for name in ("_", "ngettext")}
    argparse._ = translate  # type: ignore[attr-defined]
    argparse.ngettext = translate_plural  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(argparse, name, value)


class Formatter(argparse.HelpFormatter):
    """Help text with Chinese headings: 「选项：」 rather than 「选项:」."""

    def format_help(self) -> str:
        return re.sub(r"^(\S[^\n]*):$", r"\1：", super().format_help(), flags=re.MULTILINE)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are the usage and one Chinese line, exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, translate("%(prog)s: error: %(message)s\n")
                  % {"prog": self.prog, "message": message})


def number_of(kind: type[int] | type[float], example: str) -> Callable[[str], int | float]:
    """An argparse ``type`` for a whole (``int``) or any number, refused in Chinese."""
    name = "整数" if kind is int else "数字"

    def convert(text: str) -> int | float:
        try:
            return kind(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"「{text}」不是{name}，例如 {example}") from None

    return convert
