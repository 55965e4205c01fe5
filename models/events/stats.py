"""Event statistics — 活动统计: the figures a union work report quotes.

"全年开展教职工文体活动35场次，参与4000余人次": 场次 counts events held (not cancelled,
started by now) in the year; 人次 counts persons, guests included, once per event.
Per branch, 场次 goes to the branch the event was for (the whole union's events to the
union itself) and 人次 to the branch of the member who signed up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import table_of
from models.events.tables import CANCELLED, CONFIRMED, Event, Signup
from models.org import Member

_e = table_of(Event)
_s = table_of(Signup)
_m = table_of(Member)


@dataclass(frozen=True, slots=True)
class BranchFigures:
    branch_id: int | None  # None: the whole union's events
    events: int  # 场次 held for this branch's members
    signups: int  # 报名人次 of its members (with guests)
    attended: int  # 签到人次 of its members (with guests)


@dataclass(frozen=True, slots=True)
class YearFigures:
    year: int
    until: datetime  # figures are of events started before this moment
    events: int  # 场次 held
    cancelled: int  # called off
    upcoming: int  # still to come this year
    signups: int  # 人次 with a place
    attended: int  # 人次 checked in
    people: int  # different members who checked in at least once
    without_checkin: int  # held events where nobody checked in (check-in not used)
    branches: tuple[BranchFigures, ...]


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


async def year_figures(session: AsyncSession, *, year: int, now: datetime, tz: ZoneInfo) -> YearFigures:
    """Statistics of the events of ``year`` (in the union's time zone) held before ``now``."""
    start, end = year_bounds(year, tz)
    until = min(end, now)
    in_year = and_(_e.c.starts_at >= start, _e.c.starts_at < end)
    held = and_(_e.c.starts_at >= start, _e.c.starts_at < until, _e.c.status != CANCELLED)

    counts = (await session.execute(select(
        func.count().filter(held),
        func.count().filter(and_(in_year, _e.c.status == CANCELLED)),
        func.count().filter(and_(in_year, _e.c.status != CANCELLED, _e.c.starts_at >= until)),
    ))).one()
    branches = await _branch_figures(session, held)
    attendance = (await session.execute(
        select(func.count(distinct(_s.c.member_id)), func.count(distinct(_s.c.event_id)))
        .select_from(_s.join(_e, _e.c.id == _s.c.event_id))
        .where(held, _s.c.checked_in_at.is_not(None))
    )).one()
    return YearFigures(
        year=year, until=until, events=int(counts[0]), cancelled=int(counts[1]),
        upcoming=int(counts[2]),
        signups=sum(b.signups for b in branches), attended=sum(b.attended for b in branches),
        people=int(attendance[0]), without_checkin=int(counts[0]) - int(attendance[1]),
        branches=branches,
    )


async def _branch_figures(session: AsyncSession, held: ColumnElement[bool]) -> tuple[BranchFigures, ...]:
    """Per branch: events organised for it, and 人次 signed up and checked in by its members."""
    party = 1 + _s.c.guests
    came = _s.c.checked_in_at.is_not(None)
    signed = (
        select(
            _m.c.branch_id,
            func.coalesce(func.sum(party), 0),
            func.coalesce(func.sum(case((came, party), else_=0)), 0),
        )
        .select_from(_s.join(_e, _e.c.id == _s.c.event_id).join(_m, _m.c.id == _s.c.member_id))
        .where(held, _s.c.status == CONFIRMED)
        .group_by(_m.c.branch_id)
    )
    by_member_branch = {row[0]: (int(row[1]), int(row[2])) for row in await session.execute(signed)}
    organised = select(_e.c.audience_branch_id, func.count()).where(held).group_by(_e.c.audience_branch_id)
    by_event_branch = {row[0]: int(row[1]) for row in await session.execute(organised)}
    branch_ids = sorted(set(by_member_branch) | set(by_event_branch), key=lambda b: (b is not None, b or 0))
    return tuple(
        BranchFigures(branch_id, by_event_branch.get(branch_id, 0), *by_member_branch.get(branch_id, (0, 0)))
        for branch_id in branch_ids
    )
