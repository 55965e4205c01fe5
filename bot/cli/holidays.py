"""``unionbot holidays <年份>``: a year's festivals and statutory holiday arrangements."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import add_argument, add_verb


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    holidays = add_verb(verbs, "holidays", common)
    add_argument(holidays, "holidays", "year")
    holidays.set_defaults(func=cmd_holidays)


def cmd_holidays(args: argparse.Namespace) -> int:
    from models.calendar.festivals import format_year

    try:
        print(format_year(args.year))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0
