"""Reading ideas: the ranking (点子榜), one's own (我的点子), and who filed one.

Nothing here returns who filed an anonymous idea except ``author_of``, which only the
bot uses, to tell that member privately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.ideas.pseudonym import Pseudonyms
from models.ideas.tables import RANK_ORDER, Idea, IdeaRound, IdeaSupport
from models.org import Branch, Member


@dataclass(frozen=True, slots=True)
class Line:
    """An idea as a list shows it."""

    number: str
    title: str
    status: str
    support_count: int
    anonymous: bool
    submitted_at: datetime


_LINE = (col(Idea.number), col(Idea.title), col(Idea.status), col(Idea.support_count),
         col(Idea.anonymous), col(Idea.submitted_at))


def scope_clause(*, round_id: int | None = None, year: int | None = None) -> ColumnElement[bool]:
    """The ideas of a round, or (``round_id`` None) every idea of a year."""
    if round_id is not None:
        return col(Idea.round_id) == round_id
    return col(Idea.year) == year


async def ranking(
    session: AsyncSession, where: ColumnElement[bool], *, page: int, size: int
) -> tuple[list[Line], int]:
    """One page of the ideas in ``where`` by support (ties: earlier first), and the total."""
    total = int(await session.scalar(select(func.count()).select_from(Idea).where(where)) or 0)
    statement: Select[tuple[str, str, str, int, bool, datetime]] = (
        select(*_LINE).where(where).order_by(*RANK_ORDER).offset((page - 1) * size).limit(size)
    )
    rows = (await session.execute(statement)).tuples().all()
    return [Line(*row) for row in rows], total


def own_clause(member_id: int, keys: Pseudonyms) -> ColumnElement[bool]:
    """The member's ideas, the anonymous ones included (found by their pseudonym)."""
    return (col(Idea.member_id) == member_id) | (col(Idea.author_tag) == keys.author(member_id))


async def mine(
    session: AsyncSession, member_id: int, keys: Pseudonyms, limit: int, *, anonymous: bool = True
) -> tuple[list[Line], int]:
    """The member's ideas, newest first (without the anonymous ones unless ``anonymous``)."""
    where = own_clause(member_id, keys) if anonymous else col(Idea.member_id) == member_id
    total = int(await session.scalar(select(func.count()).select_from(Idea).where(where)) or 0)
    rows = (await session.execute(
        select(*_LINE).where(where).order_by(col(Idea.seq).desc()).limit(limit)
    )).tuples().all()
    return [Line(*row) for row in rows], total


async def supported_by(session: AsyncSession, idea_id: int, member_id: int) -> bool:
    found = await session.scalar(select(col(IdeaSupport.idea_id)).where(
        col(IdeaSupport.idea_id) == idea_id, col(IdeaSupport.member_id) == member_id))
    return found is not None


async def author_of(session: AsyncSession, idea: Idea, keys: Pseudonyms) -> int | None:
    """The member who filed ``idea`` — for the bot's private notices only."""
    if not idea.anonymous:
        return idea.member_id
    if idea.author_tag is None:
        return None
    ids = await session.scalars(select(col(Member.id)).order_by(col(Member.id)))
    return keys.find(idea.author_tag, (int(member_id) for member_id in ids if member_id is not None))


async def named_author(session: AsyncSession, idea: Idea) -> str | None:
    """The submitter's name of a named idea; None for an anonymous one."""
    if idea.anonymous or idea.member_id is None:
        return None
    member = await session.get(Member, idea.member_id)
    return member.name if member is not None else None


async def branch_name(session: AsyncSession, branch_id: int | None) -> str | None:
    if branch_id is None:
        return None
    branch = await session.get(Branch, branch_id)
    return branch.name if branch is not None else None


async def round_of(session: AsyncSession, idea: Idea) -> IdeaRound | None:
    return None if idea.round_id is None else await session.get(IdeaRound, idea.round_id)
