"""What the board (公开栏) shows of notices: published 公告 and 公示, public fields only.

A withdrawn or not yet published notice is not shown; objections are never read here,
only whether the 公示 is still open. Lists take the branches whose notices to include
(None: every branch).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.notices.tables import Kind, Notice, State
from models.org import Branch

_FIELDS = (
    col(Notice.id), col(Notice.number), col(Notice.kind), col(Notice.title), col(Notice.category),
    col(Notice.published_at), col(Notice.ends_at), col(Notice.estimated), col(Branch.name),
)
#: How much of the text a list shows (a 公告 without a title is named by its opening).
LEAD_CHARS = 120
_LEAD = func.substr(col(Notice.body), 1, LEAD_CHARS)


@dataclass(frozen=True, slots=True)
class PublicNotice:
    """A published 公告 or 公示 as anyone may read it (``body``: its opening in lists)."""

    id: int
    number: str
    kind: str  # a Kind value
    title: str
    category: str | None
    published_at: datetime
    ends_at: datetime | None
    estimated: bool
    branch: str
    body: str

    @property
    def heading(self) -> str:
        """The title, or for a 公告 without one the first line of its text."""
        return self.title or next((line.strip() for line in self.body.splitlines() if line.strip()), "")

    @property
    def is_disclosure(self) -> bool:
        return self.kind == Kind.DISCLOSURE.value

    def is_open(self, now: datetime) -> bool:
        """A 公示 still in its 公示期 at ``now``."""
        return self.ends_at is not None and now < self.ends_at


@dataclass(frozen=True, slots=True)
class NoticePage:
    items: list[PublicNotice]
    number: int
    count: int
    total: int


def _where(kind: Kind | None, branches: Collection[int] | None) -> ColumnElement[bool]:
    shown = and_(col(Notice.state) == State.PUBLISHED.value, col(Notice.published_at).is_not(None))
    if kind is not None:
        shown = and_(shown, col(Notice.kind) == kind.value)
    if branches is not None:
        shown = and_(shown, col(Notice.branch_id).in_(sorted(branches)))
    return shown


def _notice(row: tuple[object, ...]) -> PublicNotice:
    return PublicNotice(*row)  # type: ignore[arg-type]


async def latest(
    session: AsyncSession, *, kind: Kind, branches: Collection[int] | None, limit: int,
    open_at: datetime | None = None,
) -> list[PublicNotice]:
    """The latest published notices of ``kind``; with ``open_at``, only 公示 open then."""
    where = _where(kind, branches)
    if open_at is not None:
        where = and_(where, col(Notice.ends_at) > open_at)
    rows = await session.execute(
        select(*_FIELDS, _LEAD).join(Branch, col(Branch.id) == col(Notice.branch_id)).where(where)
        .order_by(col(Notice.published_at).desc(), col(Notice.id).desc()).limit(limit)
    )
    return [_notice(tuple(row)) for row in rows.all()]


async def page_of(
    session: AsyncSession, *, kind: Kind | None, branches: Collection[int] | None, number: int, size: int,
) -> NoticePage | None:
    """Page ``number`` (from 1) of the published notices, latest first; None past the last."""
    where = _where(kind, branches)
    total = int(await session.scalar(select(func.count()).select_from(Notice).where(where)) or 0)
    count = max(1, -(-total // size))
    if number > count:
        return None
    rows = await session.execute(
        select(*_FIELDS, _LEAD).join(Branch, col(Branch.id) == col(Notice.branch_id)).where(where)
        .order_by(col(Notice.published_at).desc(), col(Notice.id).desc())
        .limit(size).offset((number - 1) * size)
    )
    return NoticePage([_notice(tuple(row)) for row in rows.all()], number, count, total)


async def one(session: AsyncSession, number: str) -> PublicNotice | None:
    """The published notice numbered ``number``, with its text; None if not published."""
    row = (await session.execute(
        select(*_FIELDS, col(Notice.body)).join(Branch, col(Branch.id) == col(Notice.branch_id))
        .where(col(Notice.number) == number, _where(None, None))
    )).first()
    if row is None:
        return None
    return _notice(tuple(row))


async def results_of(session: AsyncSession, notice_id: int) -> list[PublicNotice]:
    """The published 公告 that give the result of the 公示 ``notice_id``, oldest first."""
    rows = await session.execute(
        select(*_FIELDS, col(Notice.body)).join(Branch, col(Branch.id) == col(Notice.branch_id))
        .where(col(Notice.refers_to_id) == notice_id, _where(Kind.ANNOUNCEMENT, None))
        .order_by(col(Notice.published_at), col(Notice.id))
    )
    return [_notice(tuple(row)) for row in rows.all()]


