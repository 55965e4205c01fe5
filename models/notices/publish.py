"""Creating, publishing, withdrawing and expiring notices.

Each change of state is one conditional ``UPDATE … WHERE state = …`` in the caller's
transaction, so of two processes (a second replica, a scheduler tick and an officer's
撤回) exactly one makes it: on PostgreSQL the second waits for the first's row lock and
then finds the condition no longer true; on SQLite writers take turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, table_of
from models.notices.numbers import next_number
from models.notices.tables import PREFIXES, Kind, Notice, State

_n = table_of(Notice)

_PUBLISH = (
    update(_n).where(_n.c.id == bindparam("notice_id"), _n.c.state == State.SCHEDULED.value)
    .values(state=State.PUBLISHED.value, published_at=bindparam("now"))
)
_WITHDRAW = (
    update(_n).where(_n.c.id == bindparam("notice_id"), _n.c.state != State.WITHDRAWN.value)
    .values(state=State.WITHDRAWN.value, withdrawn_at=bindparam("now"), withdrawn_by=bindparam("by"))
)
_EXPIRE = (
    update(_n).where(
        _n.c.id == bindparam("notice_id"), _n.c.state == State.PUBLISHED.value,
        _n.c.expired_at.is_(None), _n.c.ends_at <= bindparam("now"),
    ).values(expired_at=bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class Draft:
    """What an officer wrote: everything a new notice needs but its number."""

    kind: Kind
    branch_id: int
    author_id: int | None
    body: str
    publish_at: datetime
    title: str = ""
    category: str | None = None
    ends_at: datetime | None = None
    estimated: bool = False
    refers_to_id: int | None = None


async def create(session: AsyncSession, draft: Draft, now: datetime) -> Notice:
    """Number and store a notice: published now, or scheduled when ``publish_at`` is later."""
    seq, number = await next_number(session, PREFIXES[draft.kind])
    later = draft.publish_at > now
    notice = Notice(
        number=number, kind=draft.kind.value, seq=seq, branch_id=draft.branch_id,
        author_id=draft.author_id, title=draft.title, body=draft.body, category=draft.category,
        state=(State.SCHEDULED if later else State.PUBLISHED).value,
        publish_at=draft.publish_at if later else now, published_at=None if later else now,
        ends_at=draft.ends_at, estimated=draft.estimated, refers_to_id=draft.refers_to_id,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    return notice


async def claim_publication(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """Mark a scheduled notice published; False when it is not scheduled (any more)."""
    result = await execute_core(session, _PUBLISH, {"notice_id": notice_id, "now": now})
    return bool(result.rowcount)


async def withdraw(session: AsyncSession, notice_id: int, by: int | None, now: datetime) -> bool:
    """Withdraw a notice; False when it already was."""
    result = await execute_core(session, _WITHDRAW, {"notice_id": notice_id, "now": now, "by": by})
    return bool(result.rowcount)


async def claim_expiry(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """Record that a 公示 past its end was handled; False when it was already (or is not due)."""
    result = await execute_core(session, _EXPIRE, {"notice_id": notice_id, "now": now})
    return bool(result.rowcount)


async def lock(session: AsyncSession, notice_id: int) -> Notice:
    """The notice as it is now, its row locked until the transaction ends (PostgreSQL; SQLite
    writers hold the database), so a decision on its state is not undone by a concurrent run."""
    found = await session.scalar(
        select(Notice).where(col(Notice.id) == notice_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found
