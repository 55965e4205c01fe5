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


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_revision_lines_are_read_as_alembic_writes_them() -> None:
    from models.migrate import _revisions_of

    assert _revisions_of("revision = '0003'\ndown_revision = '0002'\n") == ("0003", ("0002",))
    assert _revisions_of('revision: str = "a1"\ndown_revision: str | None = None\n') == ("a1", ())
    assert _revisions_of("revision = 'm'\ndown_revision = ('a', 'b')\n") == ("m", ("a", "b"))
    assert _revisions_of("    revision = 'x'\n") is None  # not at module level: not a revision file


async def test_an_up_to_date_database_is_not_handed_to_alembic(db: Database) -> None:
    from unittest import mock

    from models import migrate

    with mock.patch("alembic.command.upgrade", side_effect=AssertionError("alembic ran")):
        await migrate.upgrade(db)
    assert (await status(db))["up_to_date"] is True
