"""Migration 0005: ``event.moved_at`` for events that existed before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, inspect

from models.base import UTCDateTime
from models.db import Database
from models.events.admin import EventDraft, create_event
from models.events.signups import Applicant, sign_up
from models.events.standing import lock_for
from models.events.tables import Timing
from models.migrate import alembic_config, status, upgrade
from tests.factories import make_member

TZ = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2027, 4, 1, 2, 0, tzinfo=UTC)
EDITED = datetime(2027, 4, 10, 8, 30, tzinfo=UTC)

_event = sa.table(
    "event", *(sa.column(name, sa.Integer()) for name in (
        "number", "capacity", "max_guests", "revision", "places_taken", "confirmed_count",
        "waiting_count", "last_seq", "last_place")),
    *(sa.column(name, sa.String()) for name in ("title", "place", "fields", "status")),
    *(sa.column(name, UTCDateTime()) for name in ("starts_at", "created_at", "updated_at")),
)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def _event_columns(connection: Connection) -> list[str]:
    return [column["name"] for column in inspect(connection).get_columns("event")]


async def _signed_up_event(db: Database) -> None:
    """A1, with one sign-up, made with the current models."""
    member = await make_member(db, "10001", "张三", birth_date=None)
    assert member.id is not None
    now = datetime.now(UTC)
    async with db.write() as session:
        await create_event(session, draft=EventDraft(
            title="教职工羽毛球赛", place="体育馆", starts_at=now + timedelta(days=7), capacity=5,
        ), created_by=None, now=now)
    async with db.write() as session:
        await sign_up(session, locked=await lock_for(session, 1, member.id),
                      who=Applicant(member.id, member.branch_id, member.gender), guests=0, note=None,
                      answers={}, now=now, tz=TZ, timing=Timing())


async def _signups(db: Database) -> int:
    async with db.read_engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM event_signup"))).scalar_one())


async def test_events_moved_before_0005_count_as_moved_when_last_changed(db: Database) -> None:
    await _signed_up_event(db)
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_downgrade, "0004")
        assert "moved_at" not in await conn.run_sync(_event_columns)
    assert await _signups(db) == 1  # going back keeps the sign-ups
    async with db.write_engine.begin() as conn:
        for number, revision in ((2, 0), (3, 2)):
            await conn.execute(sa.insert(_event).values(
                number=number, title=f"活动{number}", place="体育馆", fields="[]", status="open",
                starts_at=CREATED + timedelta(days=30), capacity=10, max_guests=0, revision=revision,
                places_taken=0, confirmed_count=0, waiting_count=0, last_seq=0, last_place=0,
                created_at=CREATED, updated_at=EDITED,
            ))
    await upgrade(db)
    assert (await status(db))["up_to_date"] is True
    moved_at = sa.column("moved_at", UTCDateTime())
    async with db.read_engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(sa.column("number"), moved_at).select_from(sa.table("event")).order_by("number")
        )).all()
    assert [tuple(row) for row in rows] == [(1, None), (2, None), (3, EDITED)]
    assert await _signups(db) == 1
