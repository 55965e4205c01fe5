"""Looking events up: by code, what is on, who signed up, which chats hear of it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.audit import AuditLog
from models.base import execute_core, table_of
from models.events.tables import ACTIVE, CANCELLED, CONFIRMED, WAITLIST, Event, Signup, closes_at
from models.org import Branch, Chat, Member
from models.pacing import PAGE_ROWS, Pacer, paced

_s = table_of(Signup)
_m = table_of(Member)
_b = table_of(Branch)

_BY_NUMBER = select(Event).where(col(Event.number) == bindparam("number"))
_LOCKED = _BY_NUMBER.with_for_update().execution_options(populate_existing=True)
_STATUSES = select(_s.c.event_id, _s.c.status).where(
    _s.c.member_id == bindparam("member_id"),
    _s.c.event_id.in_(bindparam("event_ids", expanding=True)),
)
_ROSTER = (
    select(
        _s.c.member_id, _s.c.seq, _s.c.status, _s.c.guests, _s.c.note, _s.c.answers,
        _s.c.signed_up_at, _s.c.place_seq, _s.c.checked_in_at,
        _m.c.staff_no, _m.c.name, _m.c.phone, _b.c.name.label("branch"),
    )
    .join(_m, _m.c.id == _s.c.member_id)
    .join(_b, _b.c.id == _m.c.branch_id)
    .where(_s.c.event_id == bindparam("event_id"), _s.c.status.in_(ACTIVE))
)
_ROSTER_PAGE = (  # keyset pagination on the (event_id, seq) index
    _ROSTER.where(_s.c.seq > bindparam("after")).order_by(_s.c.seq).limit(bindparam("rows"))
)
_ACTIVE_MEMBERS = (
    select(_s.c.member_id, _s.c.status, _s.c.seq, _m.c.name)
    .join(_m, _m.c.id == _s.c.member_id)
    .where(_s.c.event_id == bindparam("event_id"), _s.c.status.in_(ACTIVE))
    .order_by(_s.c.seq)
)
_MOST_GUESTS = select(func.coalesce(func.max(_s.c.guests), 0)).where(
    _s.c.event_id == bindparam("event_id"), _s.c.status.in_(ACTIVE)
)


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One active sign-up as officers see it in 名单 and the export."""

    number: int  # place number (confirmed) or waitlist position
    status: str
    member_id: int
    staff_no: str
    name: str
    branch: str
    phone: str | None
    guests: int
    note: str | None
    answers: dict[str, str]
    signed_up_at: datetime
    checked_in_at: datetime | None

    @property
    def party(self) -> int:
        return 1 + self.guests


async def event_by_number(session: AsyncSession, number: int, *, lock: bool = False) -> Event | None:
    """The event ``A<number>``; ``lock`` takes its row lock (PostgreSQL ``FOR UPDATE``)."""
    event: Event | None = await session.scalar(_LOCKED if lock else _BY_NUMBER, {"number": number})
    return event


async def current_events(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> list[Event]:
    """Events not cancelled and not yet over, soonest first."""
    query = (
        select(Event)
        .where(col(Event.status) != CANCELLED)
        .where(or_(col(Event.ends_at) > now, col(Event.starts_at) > now - timedelta(days=1)))
        .order_by(col(Event.starts_at), col(Event.number))
    )
    events = list(await session.scalars(query))
    return [event for event in events if now < closes_at(event, tz)]


async def statuses(session: AsyncSession, member_id: int, event_ids: Iterable[int]) -> dict[int, str]:
    """The member's sign-up status (any, incl. withdrawn) for each of the events."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = await execute_core(session, _STATUSES, {"member_id": member_id, "event_ids": ids})
    return {event_id: status for event_id, status in rows.all()}


async def roster(session: AsyncSession, event_id: int) -> list[RosterLine]:
    """Everyone signed up: places in the order given, then the waitlist in sign-up order.

    Read ``PAGE_ROWS`` sign-ups at a time, the event loop getting a turn between pages,
    so that a big event's roster does not stall the webhooks (``models.pacing``)."""
    rows: list[Row[Any]] = []
    pacer = Pacer()
    while True:
        after = rows[-1].seq if rows else 0
        params = {"event_id": event_id, "after": after, "rows": PAGE_ROWS}
        page = (await execute_core(session, _ROSTER_PAGE, params)).all()
        rows.extend(page)
        if len(page) < PAGE_ROWS:
            break
        await pacer.turn()
    confirmed = sorted((r for r in rows if r.status == CONFIRMED), key=lambda r: r.place_seq)
    waiting = [r for r in rows if r.status == WAITLIST]  # already in sign-up order
    numbered = [*enumerate(confirmed, start=1), *enumerate(waiting, start=1)]
    return [_line(number, row) async for number, row in paced(numbered, pacer)]


def _line(number: int, row: Row[Any]) -> RosterLine:
    return RosterLine(
        number=number, status=row.status, member_id=row.member_id,
        staff_no=row.staff_no, name=row.name, branch=row.branch, phone=row.phone,
        guests=row.guests, note=row.note, answers=json.loads(row.answers or "{}"),
        signed_up_at=row.signed_up_at, checked_in_at=row.checked_in_at,
    )


@dataclass(frozen=True, slots=True)
class Participant:
    member_id: int
    status: str
    seq: int
    name: str


async def participants(session: AsyncSession, event_id: int) -> list[Participant]:
    """Members with an active sign-up (place or waitlist), in sign-up order."""
    rows = await execute_core(session, _ACTIVE_MEMBERS, {"event_id": event_id})
    return [Participant(*row) for row in rows.all()]


async def most_guests(session: AsyncSession, event_id: int) -> int:
    """The most guests any active sign-up brings."""
    value = (await execute_core(session, _MOST_GUESTS, {"event_id": event_id})).scalar_one()
    return int(value)


async def outside_audience(
    session: AsyncSession, event_id: int, branch_id: int | None, gender: str | None
) -> list[str]:
    """Names of members signed up who would not be in the audience ``branch_id``/``gender``."""
    query = (
        select(_m.c.name)
        .join(_s, _s.c.member_id == _m.c.id)
        .where(_s.c.event_id == event_id, _s.c.status.in_(ACTIVE))
    )
    conditions = []
    if branch_id is not None:
        conditions.append(_m.c.branch_id != branch_id)
    if gender is not None:
        conditions.append(or_(_m.c.gender.is_(None), _m.c.gender != gender))
    if not conditions:
        return []
    rows = await execute_core(session, query.where(or_(*conditions)).order_by(_s.c.seq))
    return [name for (name,) in rows.all()]


async def audience_chats(session: AsyncSession, branch_id: int | None) -> list[Chat]:
    """Group chats (and robots) that hear of an event for this audience.

    The whole union's events go to every group chat; a branch's events only to the
    chats of that branch.
    """
    query = select(Chat).where(col(Chat.chat_type).in_(("group", "robot"))).order_by(col(Chat.id))
    if branch_id is not None:
        query = query.where(col(Chat.branch_id) == branch_id)
    return list(await session.scalars(query))


async def branch_by_name(session: AsyncSession, name: str) -> Branch | None:
    branch: Branch | None = await session.scalar(select(Branch).where(col(Branch.name) == name))
    return branch


async def branch_names(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(col(Branch.id), col(Branch.name)))
    return {int(branch_id): str(name) for branch_id, name in rows.all()}


async def root_branch_ids(session: AsyncSession) -> set[int]:
    """The union itself (校工会): branches without a parent."""
    rows = await session.scalars(select(col(Branch.id)).where(col(Branch.parent_id).is_(None)))
    return {int(branch_id) for branch_id in rows if branch_id is not None}


async def cancelled_by(session: AsyncSession, code: str) -> str | None:
    """Who called the event off (取消活动), as the audit log names them; None if unknown."""
    name = await session.scalar(
        select(col(AuditLog.actor))
        .where(col(AuditLog.action) == "event.cancel", col(AuditLog.target) == f"event:{code}")
        .where(col(AuditLog.actor_id).is_not(None))
        .order_by(col(AuditLog.id).desc()).limit(1)
    )
    return str(name) if name else None
