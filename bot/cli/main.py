"""The ``unionbot`` command line (verbs of DESIGN §7): one module per verb group."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli import db, events, funds, holidays, members, outbox, proposals, scheduler, serve
from bot.cli.common import add_argument, words_of
from bot.cli.i18n import Parser, chinese_argparse
from bot.errors import ConfigError

VERB_GROUPS = (serve, members, db, proposals, holidays, events, outbox, scheduler, funds)


def build_parser() -> argparse.ArgumentParser:
    words = words_of("unionbot")
    common = Parser(add_help=False)
    add_argument(common, "unionbot", "--config", default=None)
    parser = Parser(prog="unionbot", description=words["description"])
    verbs = parser.add_subparsers(dest="verb", required=True, metavar=words["verbs"])
    for group in VERB_GROUPS:
        group.add_parsers(verbs, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with chinese_argparse():
        args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
