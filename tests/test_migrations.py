from __future__ import annotations

from sqlalchemy import inspect

from models.db import Database
from models.migrate import status


async def test_upgrade_creates_every_table_and_is_at_head(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert {
        "branch", "member", "member_role", "member_child", "account", "chat",
        "inbound_record", "audit_log", "dialog_state", "alembic_version",
    } <= tables
    state = await status(db)
    assert state["up_to_date"] is True
    assert state["current"] == state["head"]


async def test_sqlite_runs_in_wal_mode(sqlite_db: Database) -> None:
    async with sqlite_db.read_engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
