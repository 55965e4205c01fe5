"""``unionbot holidays <年份>``: a year's festivals and statutory holiday arrangements."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli.common import add_argument, add_verb
from bot.render import say


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    holidays = add_verb(verbs, "holidays", common)
    add_argument(holidays, "holidays", "year")
    holidays.set_defaults(func=cmd_holidays)


def holiday_year(year: int | str, data_dir: Path | None = None) -> str:
    """The holiday calendar of ``year``: one line per festival, with its arrangement.

    Raises CalendarRefusal for an unsupported year or a malformed data file.
    """
    from models.calendar.arrangements import library_knows
    from models.calendar.festivals import festivals, parse_year

    number = parse_year(year)
    known_year = library_knows(date(number, 7, 1))
    return say("calendar", "holiday_year", year=number, festivals=festivals(number, data_dir),
               known_year=known_year)


def cmd_holidays(args: argparse.Namespace) -> int:
    from models.calendar.arrangements import CalendarRefusal

    try:
        print(holiday_year(args.year))
    except CalendarRefusal as exc:
        print(say("calendar", exc.code, **exc.values), file=sys.stderr)
        return 2
    return 0
