"""What the board (公开栏) shows of ideas: the ranking by support, and the 金点子 and
采纳 ones with the officers' public answer (评语, the department that takes it up).

An anonymous idea is shown without any submitter (the table does not hold one in the
clear); a named idea shows its submitter's name, as ``点子 <编号>`` does in chat.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.ideas.tables import RANK_ORDER, Idea, Status
from models.org import Member

_FIELDS = (
    col(Idea.number), col(Idea.title), col(Idea.status), col(Idea.support_count), col(Idea.anonymous),
    col(Member.name), col(Idea.submitted_at), col(Idea.judge_note), col(Idea.department),
    col(Idea.judged_at),
)
CHOSEN = (Status.GOLDEN.value, Status.ADOPTED.value)


@dataclass(frozen=True, slots=True)
class PublicIdea:
    number: str
    title: str
    status: str  # the label: 待评选 / 金点子 / 采纳 / 存档
    supports: int
    anonymous: bool
    submitter: str | None  # None when anonymous
    submitted_at: datetime
    answer: str | None  # 评语
    department: str | None  # 采纳: the department that takes it up
    judged_at: datetime | None

    @property
    def golden(self) -> bool:
        return self.status == Status.GOLDEN.label


@dataclass(frozen=True, slots=True)
class IdeaPage:
    items: list[PublicIdea]
    number: int
    count: int
    total: int


def _where(branches: Collection[int] | None) -> ColumnElement[bool]:
    return true() if branches is None else col(Idea.branch_id).in_(sorted(branches))


def _select(where: ColumnElement[bool]) -> Select[Any]:
    named = and_(col(Member.id) == col(Idea.member_id), col(Idea.anonymous).is_(False))
    return select(*_FIELDS).outerjoin(Member, named).where(where)


def _idea(row: tuple[object, ...]) -> PublicIdea:
    number, title, status, supports, anonymous, name, at, note, department, judged = row
    return PublicIdea(
        number=str(number), title=str(title), status=Status(str(status)).label, supports=int(supports),  # type: ignore[call-overload]
        anonymous=bool(anonymous), submitter=None if anonymous or name is None else str(name),
        submitted_at=at, answer=note if isinstance(note, str) else None,  # type: ignore[arg-type]
        department=department if isinstance(department, str) else None,
        judged_at=judged if isinstance(judged, datetime) else None,
    )


async def ranking(
    session: AsyncSession, *, branches: Collection[int] | None, number: int, size: int,
) -> IdeaPage | None:
    """Page ``number`` (from 1) of the ideas by support (ties: earlier first); None past the last."""
    where = _where(branches)
    total = int(await session.scalar(select(func.count()).select_from(Idea).where(where)) or 0)
    count = max(1, -(-total // size))
    if number > count:
        return None
    rows = await session.execute(_select(where).order_by(*RANK_ORDER).limit(size).offset((number - 1) * size))
    return IdeaPage([_idea(tuple(row)) for row in rows.all()], number, count, total)


async def top(session: AsyncSession, *, branches: Collection[int] | None, limit: int) -> list[PublicIdea]:
    """The first ``limit`` ideas of the ranking (no count: for the front page)."""
    rows = await session.execute(_select(_where(branches)).order_by(*RANK_ORDER).limit(limit))
    return [_idea(tuple(row)) for row in rows.all()]


async def chosen(session: AsyncSession, *, branches: Collection[int] | None, limit: int) -> list[PublicIdea]:
    """The latest 金点子 and 采纳 ideas with their answers, latest judged first."""
    where = and_(_where(branches), col(Idea.status).in_(CHOSEN))
    rows = await session.execute(
        _select(where).order_by(col(Idea.judged_at).desc(), col(Idea.seq).desc()).limit(limit)
    )
    return [_idea(tuple(row)) for row in rows.all()]
