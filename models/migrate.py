"""Schema migrations (Alembic), run programmatically: ``unionbot db upgrade``."""

from __future__ import annotations

import logging
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from models.db import Database

logger = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "models:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> tuple[str | None, str | None]:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return MigrationContext.configure(connection).get_current_revision(), head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def status(db: Database) -> dict[str, Any]:
    """The revision the database is at and the newest one the code knows."""
    async with db.read_engine.connect() as conn:  # no write lock: SQLite's server may be writing
        current, head = await conn.run_sync(_current)
    return {"current": current, "head": head, "up_to_date": current == head}
