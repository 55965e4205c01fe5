"""Supporting ideas — 支持 / 取消支持 — and judging them — 评选.

One support per member and idea: the support row's primary key (idea, member) holds it.
On PostgreSQL the insert runs in a savepoint: a second support by the same member at the
same moment waits on the key for the first to commit, fails and is refused; SQLite's
writers take turns, so the check before the insert is exact there. The counter on the
idea is raised by one ``UPDATE … SET support_count = support_count + 1`` only when a row
was really added (exact under any concurrency). The statements of this hot path are
compiled once (``models.fixed_sql``).

Not for one's own idea (an anonymous one is recognised by its pseudonym), only while the
idea's round is open (a pool idea: during the year it was submitted) and it has not been
judged, and at most ``max_supports`` per member and round (0: no cap; the member's row
is locked first on PostgreSQL so two supports at once cannot pass it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, snapshot, table_of
from models.fixed_sql import FixedInsert, FixedStatement
from models.ideas.pseudonym import Pseudonyms
from models.ideas.rounds import is_open
from models.ideas.tables import Idea, IdeaRound, IdeaSupport, Refused, Status, format_number, parse_number
from models.org import Member

_i = table_of(Idea)
_s = table_of(IdeaSupport)

# the statements of every 支持, compiled once (``models.fixed_sql``)
_BY_SEQ = FixedStatement(select(*_i.c).where(_i.c.seq == bindparam("seq")))
_KEYS = tuple(str(column.key) for column in _i.c)
_SUPPORTED = FixedStatement(select(_s.c.idea_id).where(
    _s.c.idea_id == bindparam("idea_id"), _s.c.member_id == bindparam("member_id")))
_ADD = FixedInsert(_s, ("idea_id", "member_id", "round_id", "year", "at"))
_BUMP = FixedStatement(update(_i).where(_i.c.id == bindparam("idea_id"))
                       .values(support_count=_i.c.support_count + bindparam("delta")))
_BUMP_RETURNING = (update(_i).where(_i.c.id == bindparam("idea_id"))
                   .values(support_count=_i.c.support_count + bindparam("delta"))
                   .returning(_i.c.support_count))
_COUNT = FixedStatement(select(_i.c.support_count).where(_i.c.id == bindparam("idea_id")))
_REMOVE = FixedStatement(delete(_s).where(_s.c.idea_id == bindparam("idea_id"),
                                          _s.c.member_id == bindparam("member_id")))


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def load(session: AsyncSession, number: str, *, lock: bool = False) -> Idea:
    """The idea numbered ``number`` (``D31``); Refused when there is none.

    ``lock``: a session instance, locked for this transaction; otherwise a read-only
    snapshot (changes to it are not saved).
    """
    seq = parse_number(number)
    if seq is None:
        raise Refused("bad_number", text=number[:20])
    found: Idea | None
    if lock:
        found = await session.scalar(select(Idea).where(col(Idea.seq) == seq).with_for_update()
                                     .execution_options(populate_existing=True))
    else:
        rows = await _BY_SEQ.rows(session, {"seq": seq})
        found = snapshot(Idea, dict(zip(_KEYS, rows[0], strict=True))) if rows else None
    if found is None:
        raise Refused("unknown_number", number=format_number(seq))
    return found


async def _bump(session: AsyncSession, idea_id: int, delta: int) -> int:
    """Change an idea's support count by ``delta`` in one UPDATE; the count after it."""
    params = {"idea_id": idea_id, "delta": delta}
    if _is_postgres(session):
        return int((await execute_core(session, _BUMP_RETURNING, params)).scalar_one())
    await _BUMP.execute(session, params)
    return int((await _COUNT.rows(session, {"idea_id": idea_id}))[0][0])


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
    params = {"idea_id": idea.id, "member_id": member_id}
    if await _SUPPORTED.rows(session, params):
        raise Refused("support_twice", number=idea.number)
    row = {**params, "round_id": idea.round_id, "year": idea.year, "at": now}
    if _is_postgres(session):  # a second support of the same member at this moment waits here
        try:
            async with session.begin_nested():
                await _ADD.run(session, row)
        except IntegrityError:
            raise Refused("support_twice", number=idea.number) from None
    else:  # SQLite writers take turns: the check above is exact
        await _ADD.run(session, row)
    return Supported(await _bump(session, idea.id or 0, 1), used + 1, cap)


async def withdraw_support(
    session: AsyncSession, *, idea: Idea, member_id: int, now: datetime, year: int
) -> int:
    """Take the member's support back; the idea's supports now."""
    await _check_open(session, idea, now, year)
    if not await _REMOVE.execute(session, {"idea_id": idea.id, "member_id": member_id}):
        raise Refused("support_none", number=idea.number)
    return await _bump(session, idea.id or 0, -1)


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
