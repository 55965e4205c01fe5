"""The ``unionbot`` command line (verbs of DESIGN §7): one module per verb group."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from bot.errors import ConfigError

VERB_GROUPS = ("serve", "members", "db", "proposals", "holidays", "events", "outbox", "scheduler", "funds")


def build_parser() -> argparse.ArgumentParser:
    from bot.cli.common import add_argument, words_of
    from bot.cli.i18n import Parser

    words = words_of("unionbot")
    common = Parser(add_help=False)
    add_argument(common, "unionbot", "--config", default=None)
    parser = Parser(prog="unionbot", description=words["description"])
    verbs = parser.add_subparsers(dest="verb", required=True, metavar=words["verbs"])
    for name in VERB_GROUPS:
        importlib.import_module(f"bot.cli.{name}").add_parsers(verbs, common)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, read while the garbage collector rests: loading the verbs creates
    ~10^5 objects that live as long as the process, and collecting among them finds nothing."""
    from bot.cli.i18n import chinese_argparse

    collecting = gc.isenabled()
    gc.disable()
    try:
        with chinese_argparse():
            return build_parser().parse_args(argv)
    finally:
        if collecting:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
