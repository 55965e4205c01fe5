"""Reading notices: one by number, pages of a list, and what the scheduler has to do.

Who sees what: a member sees the published notices of their own branch and of the
branches above it (the 校工会's reach everyone); an officer also sees the scheduled
and withdrawn-before-publication notices of the branches they manage.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.notices.tables import Kind, Notice, NoticeObjection, State
from models.scope import branch_tree

_BY_NUMBER = select(Notice).where(col(Notice.number) == bindparam("number"))


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose eyes a list is for: the branches whose published notices they read, and
    those they manage (None: all of them; empty: none)."""

    reads: frozenset[int] | None
    manages: frozenset[int] | None


async def viewer(
    session: AsyncSession, branch_id: int, *, officer: bool, union_wide: bool, manages: Collection[int],
) -> Viewer:
    """The viewer of a member of ``branch_id``: their branch and every branch above it."""
    tree = await branch_tree(session)
    reads = {branch_id}
    parent = tree.get(branch_id)
    while parent is not None and parent not in reads:
        reads.add(parent)
        parent = tree.get(parent)
    if union_wide:
        return Viewer(None, None)
    return Viewer(frozenset(reads), frozenset(manages) if officer else frozenset())


async def by_number(session: AsyncSession, number: str) -> Notice | None:
    found: Notice | None = await session.scalar(_BY_NUMBER, {"number": number})
    return found


def _visible(who: Viewer) -> ColumnElement[bool]:
    if who.reads is None:
        return true()
    published = col(Notice.published_at).is_not(None)
    reads = and_(published, col(Notice.branch_id).in_(sorted(who.reads)))
    if not who.manages:
        return reads
    return or_(reads, col(Notice.branch_id).in_(sorted(who.manages)))


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Notice]
    page: int
    pages: int
    total: int


async def page_of(session: AsyncSession, kind: Kind, who: Viewer, page: int, size: int) -> Page:
    """Page ``page`` (from 1) of the notices of ``kind`` ``who`` may see, latest first."""
    where = and_(col(Notice.kind) == kind.value, _visible(who))
    total = int(await session.scalar(select(func.count()).select_from(Notice).where(where)) or 0)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = await session.scalars(
        select(Notice).where(where).order_by(col(Notice.seq).desc()).limit(size).offset((page - 1) * size)
    )
    return Page(list(rows), page, pages, total)


async def may_see(session: AsyncSession, notice: Notice, who: Viewer) -> bool:
    if who.reads is None:
        return True
    if who.manages and notice.branch_id in who.manages:
        return True
    return notice.published_at is not None and notice.branch_id in who.reads


async def due_publications(session: AsyncSession, until: datetime) -> list[Notice]:
    """Scheduled notices whose time has come (also long overdue ones), oldest first."""
    rows = await session.scalars(
        select(Notice).where(col(Notice.state) == State.SCHEDULED.value, col(Notice.publish_at) <= until)
        .order_by(col(Notice.publish_at), col(Notice.id))
    )
    return list(rows)


async def scheduled_between(session: AsyncSession, start: datetime, end: datetime) -> list[Notice]:
    """Scheduled notices to publish in ``(start, end]``."""
    rows = await session.scalars(
        select(Notice).where(col(Notice.state) == State.SCHEDULED.value)
        .where(col(Notice.publish_at) > start, col(Notice.publish_at) <= end)
        .order_by(col(Notice.publish_at), col(Notice.id))
    )
    return list(rows)


async def ending(session: AsyncSession, until: datetime, start: datetime | None = None) -> list[Notice]:
    """Published 公示 ending by ``until`` (after ``start``) whose officers were not yet told."""
    query = (
        select(Notice).where(col(Notice.kind) == Kind.DISCLOSURE.value)
        .where(col(Notice.state) == State.PUBLISHED.value, col(Notice.expired_at).is_(None))
        .where(col(Notice.ends_at) <= until)
    )
    if start is not None:
        query = query.where(col(Notice.ends_at) > start)
    rows = await session.scalars(query.order_by(col(Notice.ends_at), col(Notice.id)))
    return list(rows)


async def objections_of(session: AsyncSession, notice_id: int) -> list[NoticeObjection]:
    rows = await session.scalars(
        select(NoticeObjection).where(col(NoticeObjection.notice_id) == notice_id)
        .order_by(col(NoticeObjection.id))
    )
    return list(rows)


async def objection_counts(session: AsyncSession, notice_ids: Collection[int]) -> dict[int, int]:
    if not notice_ids:
        return {}
    rows = await session.execute(
        select(col(NoticeObjection.notice_id), func.count()).where(
            col(NoticeObjection.notice_id).in_(sorted(notice_ids))
        ).group_by(col(NoticeObjection.notice_id))
    )
    return {int(notice_id): int(count) for notice_id, count in rows.tuples()}
