"""Periodic 经费公示 drafts: due on the first working day of a period, made once even when
two servers run the same minute, never made by a plan ahead of time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text

from bot.config import Settings
from models.db import Database
from models.funds.ledger import NewEntry, record
from models.funds.tables import FundStatement, Kind
from models.org import Role
from models.outbox import OutboxMessage
from scheduler.funds_drafts import FundDrafts, first_working_day
from scheduler.jobs import run_due
from scheduler.occasions import World
from scheduler.planner import plan
from tests.factories import get_branch, make_member, make_settings

DUE = datetime(2026, 10, 8, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, the first working day after 国庆


def settings(publish: str = "quarterly") -> Settings:
    return make_settings(funds={"publish": publish}, onebot={"enabled": True, "api_url": "http://127.0.0.1:9"})


async def _books(db: Database) -> None:
    await make_member(db, "2", "院干部", branch="计算机学院分工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "cs")])
    await make_member(db, "4", "外院干部", branch="外国语学院分工会", roles=[Role.OFFICER])
    for name, amount in (("计算机学院分工会", 120000), ("外国语学院分工会", 5000)):
        async with db.write() as session:
            branch = await get_branch(session, name)
            await record(session, branch.id or 0, NewEntry(
                kind=Kind.EXPENSE, amount_fen=amount, category_code="30102", description="球赛",
                occurred_on=date(2026, 8, 1)), now=DUE, today=date(2026, 9, 1))


@pytest.fixture
async def second(db: Database) -> AsyncIterator[Database]:
    """Another server's connection to the same database."""
    if db.is_sqlite:
        other = Database(db.url)
    else:
        async with db.read() as session:
            path = (await session.execute(text("SHOW search_path"))).scalar_one()
        other = Database(db.url, connect_args={"server_settings": {"search_path": path}})
    yield other
    await other.dispose()


def test_first_working_days() -> None:
    assert first_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert first_working_day(date(2026, 1, 1)) == date(2026, 1, 4)
    assert first_working_day(date(2026, 7, 1)) == date(2026, 7, 1)


@pytest.mark.parametrize(("publish", "keys"), [
    ("quarterly", ["funds-draft:2026Q3"]), ("monthly", ["funds-draft:2026-09"]), ("yearly", []),
    ("off", []),
])
async def test_occasions_follow_publish(db: Database, publish: str, keys: list[str]) -> None:
    async with db.read() as session:
        world = World(session, settings(publish), DUE)
        found = await FundDrafts().occasions(
            world, datetime(2026, 9, 30, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC))
    assert [o.key for o in found] == keys
    assert all(o.due_at == DUE for o in found)


async def test_two_servers_draft_once(db: Database, second: Database) -> None:
    await _books(db)
    chosen = settings()
    outcomes = await asyncio.gather(run_due(db, chosen, DUE), run_due(second, chosen, DUE))
    assert sorted(o.queued for result in outcomes for o in result) == [0, 1]
    async with db.read() as session:
        statements = list(await session.scalars(select(FundStatement).order_by(FundStatement.id)))
        messages = list(await session.scalars(select(OutboxMessage)))
    assert [(s.number, s.status) for s in statements] == [("F2026Q3", "draft"), ("F2026Q3", "draft")]
    (message,) = messages
    body = json.loads(message.payload)["text"]
    assert body.startswith("计算机学院分工会经费收支公示（2026年第三季度）F2026Q3\n期初余额：0.00 元")
    assert body.endswith("请核对，确认无误后发送「经费公示 2026Q3 发布」。")
    again = await run_due(db, chosen, DUE.replace(hour=3))
    assert [(o.queued, o.already, len(o.unreachable)) for o in again] == [(0, 1, 1)]


async def test_a_plan_ahead_drafts_nothing(db: Database) -> None:
    await _books(db)
    async with db.write() as session:
        items = await plan(World(session, settings(), datetime(2026, 10, 1, tzinfo=UTC)),
                           datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC))
    assert [len(i.deliveries) for i in items if i.occasion.key == "funds-draft:2026Q3"] == [2]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(FundStatement)) == 0
