"""Where a member's sign-up stands.

``lock_for`` reads an event with one member's sign-up, ``hold_lock`` does so under the
event's row lock; place numbers (第 n 位) are ranks by ``place_seq`` among those
holding a place, waitlist positions ranks by ``seq``: both always gapless. ``recount``
computes the counts the event row keeps, to check or repair them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import execute_core, snapshot, table_of
from models.events.tables import ACTIVE, CONFIRMED, WAITLIST, Event, EventRefusal, Signup, code_of
from models.fixed_sql import FixedStatement

_s = table_of(Signup)
_e = table_of(Event)

_MINE_COLUMNS = (
    _s.c.id, _s.c.status, _s.c.seq, _s.c.place_seq, _s.c.guests, _s.c.note, _s.c.answers,
    _s.c.checked_in_at,
)
_MINE = FixedStatement(
    select(*_MINE_COLUMNS).where(
        _s.c.event_id == bindparam("event_id"), _s.c.member_id == bindparam("member_id")
    )
)
_EVENT_AND_MINE = FixedStatement(
    select(_e, *(column.label(f"mine_{column.name}") for column in _MINE_COLUMNS))
    .select_from(_e.outerjoin(_s, and_(
        _s.c.event_id == _e.c.id, _s.c.member_id == bindparam("member_id")
    )))
    .where(_e.c.number == bindparam("number"))
)
_LOCK_EVENT = select(_e).where(_e.c.number == bindparam("number")).with_for_update()
COUNT_COLUMNS = ("places_taken", "confirmed_count", "waiting_count", "last_seq", "last_place")
_RECOUNT = select(
    func.coalesce(func.sum(1 + _s.c.guests).filter(_s.c.status == CONFIRMED), 0),
    func.count().filter(_s.c.status == CONFIRMED),
    func.count().filter(_s.c.status == WAITLIST),
    func.coalesce(func.max(_s.c.seq), 0),
    func.coalesce(func.max(_s.c.place_seq), 0),
).where(_s.c.event_id == bindparam("event_id"))
_PLACE = FixedStatement(
    select(func.count()).where(
        _s.c.event_id == bindparam("event_id"), _s.c.status == CONFIRMED,
        _s.c.place_seq < bindparam("place_seq"),
    )
)
_POSITION = FixedStatement(
    select(func.count()).where(
        _s.c.event_id == bindparam("event_id"), _s.c.status == WAITLIST, _s.c.seq < bindparam("seq")
    )
)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a sign-up stands: ``number`` is the place (confirmed) or waitlist position."""

    status: str
    number: int
    guests: int
    note: str | None
    answers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Mine:
    """A member's sign-up row, as read under the lock."""

    id: int
    status: str
    seq: int
    place_seq: int | None
    guests: int
    note: str | None
    answers: str
    checked_in_at: datetime | None


async def _one(session: AsyncSession, statement: FixedStatement, params: dict[str, Any]) -> int:
    return int((await statement.rows(session, params))[0][0])


async def mine_of(session: AsyncSession, event_id: int, member_id: int) -> Mine | None:
    rows = await _MINE.rows(session, {"event_id": event_id, "member_id": member_id})
    return Mine(*rows[0]) if rows else None


@dataclass(frozen=True, slots=True)
class Locked:
    """An event read with one member's sign-up (None if never); ``held``: under the
    event's row lock (always on SQLite, whose writers are serialised)."""

    event: Event
    mine: Mine | None
    held: bool = True


async def lock_for(session: AsyncSession, number: int, member_id: int) -> Locked:
    """Read the event ``A<number>`` with the member's sign-up, for ``sign_up``.

    On SQLite (writers already serialised) this is under the lock. On PostgreSQL it
    is not: ``sign_up`` takes the lock itself, as briefly as it can (see
    ``models.events.admit``), or with ``hold_lock`` when it must change more.
    """
    rows = await _EVENT_AND_MINE.rows(session, {"number": number, "member_id": member_id})
    if not rows:
        raise EventRefusal("unknown_event", code=code_of(number))
    values = dict(zip(_EVENT_AND_MINE.keys, rows[0], strict=True))
    event = snapshot(Event, {column.name: values[column.name] for column in _e.c})
    held = session.bind is None or session.bind.dialect.name != "postgresql"
    if values["mine_id"] is None:
        return Locked(event, None, held)
    return Locked(event, Mine(*(values[f"mine_{column.name}"] for column in _MINE_COLUMNS)), held)


async def hold_lock(session: AsyncSession, number: int, member_id: int) -> Locked:
    """Lock the event ``A<number>`` (PostgreSQL ``FOR UPDATE``) and read it with the
    member's sign-up.

    The lock is taken first and the sign-up read by a second statement: a statement
    that waited for the lock sees the newest event row, but a joined table only as it
    was when the statement began, which could miss the sign-up the lock holder just made.
    """
    row = (await execute_core(session, _LOCK_EVENT, {"number": number})).first()
    if row is None:
        raise EventRefusal("unknown_event", code=code_of(number))
    event = snapshot(Event, dict(row._mapping))
    assert event.id is not None
    return Locked(event, await mine_of(session, event.id, member_id))


async def place_of(session: AsyncSession, event_id: int, place_seq: int) -> int:
    return await _one(session, _PLACE, {"event_id": event_id, "place_seq": place_seq}) + 1


async def position_of(session: AsyncSession, event_id: int, seq: int) -> int:
    return await _one(session, _POSITION, {"event_id": event_id, "seq": seq}) + 1


async def standing_of(session: AsyncSession, event_id: int, member_id: int) -> Standing | None:
    """The member's active sign-up for the event, or None."""
    mine = await mine_of(session, event_id, member_id)
    return None if mine is None or mine.status not in ACTIVE else await standing_from(session, event_id, mine)


async def standing_from(session: AsyncSession, event_id: int, mine: Mine) -> Standing:
    if mine.status == CONFIRMED and mine.place_seq is not None:
        number = await place_of(session, event_id, mine.place_seq)
    else:
        number = await position_of(session, event_id, mine.seq)
    return Standing(mine.status, number, mine.guests, mine.note, json.loads(mine.answers or "{}"))


async def recount(session: AsyncSession, event_id: int) -> dict[str, int]:
    """The event's counts computed from its sign-ups (to check or repair the stored ones)."""
    row = (await execute_core(session, _RECOUNT, {"event_id": event_id})).one()
    return dict(zip(COUNT_COLUMNS, (int(value) for value in row), strict=True))
