"""点子统计 — the figures a work report quotes, for a year or a round, by branch.

征集 N 条 (匿名 a 条): ideas submitted; 参与 P 人: different submitters (someone with a named
and an anonymous idea counts once: the named ones are matched through their pseudonym,
so no anonymous submitter is revealed by the count); 支持 M 次: supports given to those
ideas; 评为金点子 K 个; 采纳 J 条. Branches are the submitters' at the time they submitted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.ideas.pseudonym import Pseudonyms
from models.ideas.tables import Idea, Status
from models.org import Branch


@dataclass(slots=True)
class Figures:
    ideas: int = 0
    anonymous: int = 0
    people: int = 0
    supports: int = 0
    golden: int = 0
    adopted: int = 0
    archived: int = 0
    _authors: set[str] = field(default_factory=set, repr=False)


@dataclass(frozen=True, slots=True)
class Stats:
    total: Figures
    branches: list[tuple[str, Figures]]  # by branch name


def _add(figures: Figures, row: tuple[int, bool, int | None, str | None, str, int], keys: Pseudonyms) -> None:
    _branch, anonymous, member_id, tag, status, supports = row
    figures.ideas += 1
    figures.anonymous += int(anonymous)
    figures.supports += supports
    figures.golden += int(status == Status.GOLDEN.value)
    figures.adopted += int(status == Status.ADOPTED.value)
    figures.archived += int(status == Status.ARCHIVED.value)
    author = tag if anonymous else (keys.author(member_id) if member_id is not None else None)
    if author is not None:
        figures._authors.add(author)
        figures.people = len(figures._authors)


async def compute(
    session: AsyncSession, where: ColumnElement[bool], keys: Pseudonyms,
    branches: frozenset[int] | None = None,
) -> Stats:
    """The figures of the ideas in ``where`` (only those of ``branches`` when given)."""
    statement = select(col(Idea.branch_id), col(Idea.anonymous), col(Idea.member_id),
                       col(Idea.author_tag), col(Idea.status), col(Idea.support_count)).where(where)
    if branches is not None:
        statement = statement.where(col(Idea.branch_id).in_(branches))
    total = Figures()
    by_branch: dict[int, Figures] = defaultdict(Figures)
    for row in (await session.execute(statement)).tuples():
        _add(total, row, keys)
        _add(by_branch[row[0]], row, keys)
    names = dict((await session.execute(
        select(col(Branch.id), col(Branch.name)).where(col(Branch.id).in_(list(by_branch)))
    )).tuples().all()) if by_branch else {}
    listed = sorted(((names.get(b, str(b)), f) for b, f in by_branch.items()), key=lambda x: x[0])
    return Stats(total, listed)

