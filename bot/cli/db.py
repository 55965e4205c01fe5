"""``unionbot db upgrade``: the database structure brought up to date."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli.common import add_subverbs, add_verb, settings_of, setup_logging
from bot.config import Settings
from bot.render import say


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    db = add_verb(verbs, "db")
    up = add_verb(add_subverbs(db, "db"), "db upgrade", common)
    up.set_defaults(func=cmd_db_upgrade)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings, quiet=True)
    print(asyncio.run(_db_upgrade(settings)))
    return 0


async def _db_upgrade(settings: Settings) -> str:
    from models import migrate
    from models.db import Database

    db = Database(settings.database.url)
    try:
        await migrate.upgrade(db)
        state = await migrate.status(db)
    finally:
        await db.dispose()
    return say("cli", "db_upgraded", version=state["current"])
