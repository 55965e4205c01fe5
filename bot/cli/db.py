"""``unionbot db upgrade``: the database structure brought up to date."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import add_subverbs, add_verb, run_quiet
from bot.config import Settings
from bot.render import say


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    db = add_verb(verbs, "db")
    up = add_verb(add_subverbs(db, "db"), "db upgrade", common)
    up.set_defaults(func=run_quiet(_db_upgrade))


async def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from models import migrate
    from models.db import Database

    db = Database(settings.database.url)
    try:
        await migrate.upgrade(db)
        state = await migrate.status(db)
    finally:
        await db.dispose()
    print(say("cli", "db_upgraded", version=state["current"]))
    return 0
