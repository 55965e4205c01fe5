"""``execute_core`` runs ``INSERT … ON CONFLICT`` (which SQLAlchemy does not cache) from a
compilation kept per dialect and parameter names, with the same results as a fresh one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from models import base
from models.base import execute_core, table_of
from models.db import Database
from models.org import Chat
from models.proposals.numbers import next_number

SEEN = datetime(2027, 5, 1, 8, 0, tzinfo=UTC)
CHAT = table_of(Chat)
REMEMBER = {
    name: make(CHAT).on_conflict_do_nothing(index_elements=["channel", "chat_id"])
    for name, make in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


async def test_an_upsert_run_again_counts_on(db: Database) -> None:
    async with db.write() as session:
        taken = [await next_number(session, 2027) for _ in range(3)]
        other = await next_number(session, 2028)
    assert taken == [(1, "T2027-001"), (2, "T2027-002"), (3, "T2027-003")]
    assert other == (1, "T2028-001")


async def test_the_columns_given_decide_the_statement(db: Database) -> None:
    remember = REMEMBER[db.dialect]
    async with db.write() as session:
        await execute_core(session, remember, {"channel": "onebot", "chat_id": "1", "chat_type": "group",
                                               "name": "一群", "first_seen": SEEN})
        await execute_core(session, remember, {"channel": "onebot", "chat_id": "2", "chat_type": "group",
                                               "first_seen": SEEN})
        await execute_core(session, remember, [
            {"channel": "onebot", "chat_id": chat_id, "chat_type": "group", "first_seen": SEEN}
            for chat_id in ("1", "3")])  # "1" is there already: left as it is
    async with db.read() as session:
        rows = (await session.execute(
            select(Chat.chat_id, Chat.name, Chat.first_seen).order_by(Chat.chat_id))).all()
    assert [tuple(row) for row in rows] == [("1", "一群", SEEN), ("2", None, SEEN), ("3", None, SEEN)]
    assert len(base._COMPILED[remember]) == 3  # named columns, fewer columns, several rows
