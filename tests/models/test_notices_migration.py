"""Migration 0009 creates the notice tables exactly as the models describe them."""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from models.db import Database
from tests.models.test_proposals import _tables_named

NOTICE_TABLES = {"notice", "notice_objection", "notice_counter"}


def _diff(connection: Connection) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, SQLModel.metadata) if _tables_named(d) & NOTICE_TABLES]


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables >= NOTICE_TABLES
