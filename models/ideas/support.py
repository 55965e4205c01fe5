"""Supporting ideas — 支持 / 取消支持 — and judging them — 评选.

One support per member and idea: the support row's primary key (idea, member) holds it,
and the insert is ``ON CONFLICT DO NOTHING``, so two concurrent supports by the same
member add one row, and the counter on the idea is raised by one ``UPDATE … SET
support_count = support_count + 1`` only when a row was really added (exact under any
concurrency). Not for one's own idea (an anonymous one is recognised by its pseudonym),
only while the idea's round is open (a pool idea: during the year it was submitted) and
it has not been judged, and at most ``max_supports`` per member and round (0: no cap;
the member's row is locked first on PostgreSQL so two supports at once cannot pass it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, table_of
from models.ideas.pseudonym import Pseudonyms
from models.ideas.rounds import is_open
from models.ideas.tables import Idea, IdeaRound, IdeaSupport, Refused, Status, format_number, parse_number
from models.org import Member

_i = table_of(Idea)
_s = table_of(IdeaSupport)


def _add(dialect: str) -> Insert:
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return maker(_s).on_conflict_do_nothing().returning(_s.c.idea_id)


_ADDS = {dialect: _add(dialect) for dialect in ("sqlite", "postgresql")}
_RAISE = (
    update(_i).where(_i.c.id == bindparam("idea_id"))
    .values(support_count=_i.c.support_count + bindparam("delta")).returning(_i.c.support_count)
)
_REMOVE = delete(_s).where(_s.c.idea_id == bindparam("idea_id"), _s.c.member_id == bindparam("member_id"))


async def load(session: AsyncSession, number: str, *, lock: bool = False) -> Idea:
    """The idea numbered ``number`` (``D31``); Refused when there is none."""
    seq = parse_number(number)
    if seq is None:
        raise Refused("bad_number", text=number[:20])
    statement = select(Idea).where(col(Idea.seq) == seq)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    found: Idea | None = await session.scalar(statement)
    if found is None:
        raise Refused("unknown_number", number=format_number(seq))
    return found


def is_own(idea: Idea, member_id: int, keys: Pseudonyms) -> bool:
    if idea.anonymous:
        return keys.is_author(member_id, idea.author_tag)
    return idea.member_id == member_id


async def _check_open(session: AsyncSession, idea: Idea, now: datetime, year: int) -> None:
    """Refused unless supports may change now: idea not judged, its round (or pool year) open."""
    if idea.status != Status.OPEN.value:
        raise Refused("support_judged", number=idea.number, status=Status(idea.status).label)
    if idea.round_id is None:
        if idea.year != year:
            raise Refused("support_pool_closed", number=idea.number, year=idea.year)
        return
    found = await session.get(IdeaRound, idea.round_id)
    if found is not None and not is_open(found, now):
        raise Refused("support_round_closed", number=idea.number, name=found.name,
                      closes_at=found.closes_at)


async def supports_in_round(session: AsyncSession, member_id: int, idea: Idea) -> int:
    statement = select(func.count()).select_from(IdeaSupport).where(col(IdeaSupport.member_id) == member_id)
    if idea.round_id is None:
        statement = statement.where(col(IdeaSupport.round_id).is_(None), col(IdeaSupport.year) == idea.year)
    else:
        statement = statement.where(col(IdeaSupport.round_id) == idea.round_id)
    return int(await session.scalar(statement) or 0)


@dataclass(frozen=True, slots=True)
class Supported:
    count: int  # the idea's supports now
    used: int  # the member's supports in this round, this one included
    cap: int  # 0: no cap


async def support(
    session: AsyncSession, *, idea: Idea, member_id: int, now: datetime, year: int, cap: int,
    keys: Pseudonyms,
) -> Supported:
    """Add the member's support to ``idea``."""
    await _check_open(session, idea, now, year)
    if is_own(idea, member_id, keys):
        raise Refused("support_own", number=idea.number)
    used = 0
    if cap:
        await session.scalar(select(col(Member.id)).where(col(Member.id) == member_id).with_for_update())
        used = await supports_in_round(session, member_id, idea)
        if used >= cap:
            raise Refused("support_cap", cap=cap, number=idea.number)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    added = (await execute_core(session, _ADDS[dialect], {
        "idea_id": idea.id, "member_id": member_id, "round_id": idea.round_id, "year": idea.year, "at": now,
    })).scalar()
    if added is None:
        raise Refused("support_twice", number=idea.number)
    count = int((await execute_core(session, _RAISE, {"idea_id": idea.id, "delta": 1})).scalar_one())
    return Supported(count, used + 1, cap)


async def withdraw_support(
    session: AsyncSession, *, idea: Idea, member_id: int, now: datetime, year: int
) -> int:
    """Take the member's support back; the idea's supports now."""
    await _check_open(session, idea, now, year)
    removed = (await execute_core(session, _REMOVE, {"idea_id": idea.id, "member_id": member_id})).rowcount
    if not removed:
        raise Refused("support_none", number=idea.number)
    return int((await execute_core(session, _RAISE, {"idea_id": idea.id, "delta": -1})).scalar_one())


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    note: str | None
    department: str | None


async def judge(
    session: AsyncSession, *, idea: Idea, verdict: Verdict, officer_id: int, now: datetime
) -> Status:
    """评选: give ``idea`` (loaded with ``lock``) its status; returns the status before."""
    before = Status(idea.status)
    if before is verdict.status and idea.judge_note == verdict.note and idea.department == verdict.department:
        raise Refused("judge_same", number=idea.number, status=before.label)
    idea.status = verdict.status.value
    idea.judge_note = verdict.note
    idea.department = verdict.department
    idea.judged_at = now
    idea.judged_by = officer_id
    await session.flush()
    return before
