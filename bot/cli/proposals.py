"""``unionbot proposals export``: a year's proposals and their statistics as XLSX."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.common import add_argument, add_subverbs, add_verb, export_failed, run_quiet
from bot.cli.i18n import number_of
from bot.config import Settings
from bot.render import say


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    proposals = add_verb(verbs, "proposals")
    export = add_verb(add_subverbs(proposals, "proposals"), "proposals export", common)
    add_argument(export, "proposals export", "--year", type=number_of(int, "--year 2026"))
    add_argument(export, "proposals export", "file")
    export.set_defaults(func=run_quiet(_proposals_export))


async def _proposals_export(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.app import open_database
    from models.proposals.export import export_proposals

    tz = settings.union.tz
    today = datetime.now(tz).date()
    year: int = today.year if args.year is None else args.year
    path = Path(args.file)
    if path.suffix.lower() != ".xlsx":
        return export_failed("proposals_suffix", year=year)
    if not 2000 <= year <= 2100:
        return export_failed("proposals_year", year=year, this_year=today.year)
    async with open_database(settings) as db:
        try:
            done = await export_proposals(db, path, year=year, tz=tz, today=today)
        except OSError as exc:
            return export_failed("cannot_write", path=path, error=exc.strerror or exc)
    print(say("cli", "proposals_exported", year=year, count=done.count, path=path))
    return 0
