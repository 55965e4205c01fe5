"""The ``unionbot`` command line in Chinese, argparse's own words included.

argparse looks its messages up through ``gettext`` when it builds a parser (headings, the
``-h`` help) and when it parses (errors). ``chinese_argparse()`` answers those look-ups
from the table ``argparse`` of ``templates/notices/cli_parser.txt.j2`` while the command
line is built and parsed; ``Parser`` says its errors in one Chinese line after the usage
and exits with code 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from bot.render import say, table

USAGE_ERROR = 2  # a command line argparse cannot use, as for a bad configuration

def translate(message: str) -> str:
    """argparse's message in Chinese (unchanged when it has no translation)."""
    translations: dict[str, str] = table("cli_parser", "argparse")
    return translations.get(message, message)


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

    def convert(text: str) -> int | float:
        try:
            return kind(text.strip())
        except ValueError:
            message = say("cli", "not_a_number", text=text, whole=kind is int, example=example)
            raise argparse.ArgumentTypeError(message) from None

    return convert
