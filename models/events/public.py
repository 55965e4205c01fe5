"""What the board (公开栏) shows of events: those not cancelled and not yet over, with
time, place, who may sign up and the places left. Never who signed up."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.events.tables import CANCELLED, Event, code_of
from models.org import Branch

_FIELDS = (
    col(Event.number), col(Event.title), col(Event.place), col(Event.starts_at), col(Event.ends_at),
    col(Event.deadline), col(Event.capacity), col(Event.places_taken), col(Event.waiting_count),
    col(Event.max_guests), col(Event.audience_gender), col(Event.note), col(Branch.name),
)


@dataclass(frozen=True, slots=True)
class PublicEvent:
    number: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime | None
    deadline: datetime | None  # 报名截止, when the officer set one
    capacity: int
    taken: int
    waiting: int
    max_guests: int
    gender: str | None  # 女职工 only: "女"
    note: str | None
    branch: str | None  # None: the whole union

    @property
    def code(self) -> str:
        return code_of(self.number)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.taken, 0)


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[PublicEvent]
    number: int
    count: int
    total: int


def _where(now: datetime, branches: Collection[int] | None) -> ColumnElement[bool]:
    upcoming = and_(
        col(Event.status) != CANCELLED,
        or_(col(Event.ends_at) > now, and_(col(Event.ends_at).is_(None), col(Event.starts_at) > now)),
    )
    if branches is None:
        return upcoming
    audience_id = col(Event.audience_branch_id)
    audience = or_(audience_id.is_(None), audience_id.in_(sorted(branches)))
    return and_(upcoming, audience)


def _select(where: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_FIELDS).outerjoin(Branch, col(Branch.id) == col(Event.audience_branch_id)).where(where)
        .order_by(col(Event.starts_at), col(Event.number))
    )


async def soonest(
    session: AsyncSession, *, now: datetime, branches: Collection[int] | None, limit: int,
) -> list[PublicEvent]:
    """The first ``limit`` events not yet over (no count: for the front page)."""
    rows = await session.execute(_select(_where(now, branches)).limit(limit))
    return [PublicEvent(*row) for row in rows.tuples()]


async def upcoming(
    session: AsyncSession, *, now: datetime, branches: Collection[int] | None, number: int, size: int,
) -> EventPage | None:
    """Page ``number`` (from 1) of the events not yet over, soonest first; None past the last.
    ``branches``: the events open to members of any of them (and the whole union's)."""
    where = _where(now, branches)
    total = int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)
    count = max(1, -(-total // size))
    if number > count:
        return None
    rows = await session.execute(_select(where).limit(size).offset((number - 1) * size))
    return EventPage([PublicEvent(*row) for row in rows.tuples()], number, count, total)
