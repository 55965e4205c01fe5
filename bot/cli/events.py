"""``unionbot events export``: an event's sign-up list as XLSX or CSV."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.cli.common import add_argument, add_subverbs, add_verb, export_failed, run_quiet
from bot.config import Settings
from bot.render import say


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    events = add_verb(verbs, "events")
    export = add_verb(add_subverbs(events, "events"), "events export", common)
    add_argument(export, "events export", "code")
    add_argument(export, "events export", "file")
    export.set_defaults(func=run_quiet(_events_export))


async def _events_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_database
    from models.events.export import export_roster
    from models.events.queries import event_by_number
    from models.events.tables import parse_code

    code, path = args.code, Path(args.file)
    fmt = path.suffix.lower().lstrip(".")
    number = parse_code(code)
    if fmt not in ("xlsx", "csv"):
        return export_failed("events_suffix", code=code)
    if number is None:
        return export_failed("not_an_event_code", code=code)
    async with open_database(settings) as db, db.read() as session:
        event = await event_by_number(session, number)
        if event is None:
            return export_failed("no_such_event", number=number)
        built = await export_roster(session, event, tz=settings.union.tz, fmt=fmt)
    try:
        await asyncio.to_thread(path.write_bytes, built.data)
    except OSError as exc:
        return export_failed("cannot_write", path=path, error=exc.strerror)
    print(say("cli", "signups_exported", code=event.code, title=event.title, rows=built.rows, path=path))
    return 0
