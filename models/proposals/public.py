"""What the board (公开栏) shows of proposals: those from 立案 on (办理中, 已答复, 已办结),
with their number, title, category, status, departments, replies and rating.

Never the proposer, the co-signers, the rating's comment or anything of a proposal not
yet admitted: the board is read by people who are not representatives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.proposals.tables import (
    ADMITTED,
    NEWEST_FIRST,
    Outcome,
    Proposal,
    ProposalAssignment,
    ProposalReply,
    Rating,
    Status,
)

PUBLIC_STATUSES = tuple(sorted(status.value for status in ADMITTED))
_FIELDS = (
    col(Proposal.id), col(Proposal.number), col(Proposal.title), col(Proposal.category),
    col(Proposal.status), col(Proposal.decided_at), col(Proposal.deadline), col(Proposal.rating),
)


@dataclass(frozen=True, slots=True)
class PublicReply:
    """A department's answer — 答复."""

    department: str
    lead: bool
    outcome: str  # 采纳 / 暂缓 / 不能采纳
    content: str
    replied_at: datetime


@dataclass(frozen=True, slots=True)
class PublicProposal:
    id: int
    number: str
    title: str
    category: str | None
    status: str  # the label: 办理中 / 已答复 / 已办结
    accepted_at: datetime | None  # 立案
    deadline: date | None
    rating: str | None  # the label: 满意 / 基本满意 / 不满意
    lead: str | None = None  # 主办 department
    helpers: tuple[str, ...] = ()  # 协办 departments
    replies: tuple[PublicReply, ...] = ()


@dataclass(frozen=True, slots=True)
class ProposalPage:
    items: list[PublicProposal]
    number: int
    count: int
    total: int


def _proposal(row: tuple[object, ...], departments: dict[int, list[tuple[str, bool]]]) -> PublicProposal:
    pid, number, title, category, status, decided_at, deadline, rating = row
    assigned = departments.get(int(pid), [])  # type: ignore[call-overload]
    return PublicProposal(
        id=int(pid), number=str(number), title=str(title),  # type: ignore[call-overload]
        category=category if isinstance(category, str) else None, status=Status(str(status)).label,
        accepted_at=decided_at if isinstance(decided_at, datetime) else None,
        deadline=deadline if isinstance(deadline, date) else None,
        rating=Rating(str(rating)).label if rating else None,
        lead=next((d for d, lead in assigned if lead), None),
        helpers=tuple(d for d, lead in assigned if not lead),
    )


async def _departments(session: AsyncSession, ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(col(ProposalAssignment.proposal_id), col(ProposalAssignment.department),
               col(ProposalAssignment.lead))
        .where(col(ProposalAssignment.proposal_id).in_(ids))
        .order_by(col(ProposalAssignment.lead).desc(), col(ProposalAssignment.department))
    )
    found: dict[int, list[tuple[str, bool]]] = {}
    for pid, department, lead in rows.tuples():
        found.setdefault(int(pid), []).append((str(department), bool(lead)))
    return found


async def page_of(
    session: AsyncSession, *, number: int, size: int, status: Status | None = None,
) -> ProposalPage | None:
    """Page ``number`` (from 1) of the admitted proposals, newest first; None past the last."""
    statuses = PUBLIC_STATUSES if status is None else (status.value,)
    where = col(Proposal.status).in_(statuses)
    total = int(await session.scalar(select(func.count()).select_from(Proposal).where(where)) or 0)
    count = max(1, -(-total // size))
    if number > count:
        return None
    # the status compared as an expression, not the indexed column: SQLite then walks the
    # (year, seq) index newest first and stops after the page, instead of sorting them all
    walk = col(Proposal.status).concat("").in_(statuses)
    rows = [tuple(row) for row in (await session.execute(
        select(*_FIELDS).where(walk).order_by(*NEWEST_FIRST).limit(size).offset((number - 1) * size)
    )).all()]
    departments = await _departments(session, [int(row[0]) for row in rows])
    return ProposalPage([_proposal(row, departments) for row in rows], number, count, total)


async def latest(session: AsyncSession, *, limit: int) -> list[PublicProposal]:
    """The newest admitted proposals (no count: for the front page)."""
    walk = col(Proposal.status).concat("").in_(PUBLIC_STATUSES)
    rows = [tuple(row) for row in (await session.execute(
        select(*_FIELDS).where(walk).order_by(*NEWEST_FIRST).limit(limit)
    )).all()]
    departments = await _departments(session, [int(row[0]) for row in rows])
    return [_proposal(row, departments) for row in rows]


async def one(session: AsyncSession, number: str) -> PublicProposal | None:
    """The admitted proposal numbered ``number`` with its replies; None if not public."""
    row = (await session.execute(
        select(*_FIELDS).where(col(Proposal.number) == number, col(Proposal.status).in_(PUBLIC_STATUSES))
    )).first()
    if row is None:
        return None
    values = tuple(row)
    pid = int(values[0])
    found = _proposal(values, await _departments(session, [pid]))
    replies = await session.execute(
        select(col(ProposalReply.department), col(ProposalReply.lead), col(ProposalReply.outcome),
               col(ProposalReply.content), col(ProposalReply.replied_at))
        .where(col(ProposalReply.proposal_id) == pid)
        .order_by(col(ProposalReply.handling_round), col(ProposalReply.lead).desc(), col(ProposalReply.id))
    )
    return replace(found, replies=tuple(
        PublicReply(str(d), bool(lead), Outcome(str(o)).label, str(c), at)
        for d, lead, o, c, at in replies.tuples()
    ))
