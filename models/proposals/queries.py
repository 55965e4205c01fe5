"""Reading proposals: who may see what, one proposal in full, lists and pages.

Visibility — 谁能看到什么:

- officers (干部) and representatives (代表) see every proposal;
- everyone else sees proposals from 立案 on (办理中, 已答复, 已办结);
- the proposer and the co-signers always see their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.org import Branch, Member, MemberRole, Role
from models.proposals.flow import assignments
from models.proposals.tables import (
    ADMITTED,
    NEWEST_FIRST,
    NUMBER_ORDER,
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    Status,
)

SEE_ALL_ROLES = frozenset({Role.OFFICER, Role.REPRESENTATIVE, Role.ADMIN})


def sees_all(roles: frozenset[Role]) -> bool:
    """Officers, representatives and admins see proposals in every status."""
    return bool(roles & SEE_ALL_ROLES)


def visible_statuses(roles: frozenset[Role]) -> frozenset[Status]:
    return frozenset(Status) if sees_all(roles) else ADMITTED


async def is_involved(session: AsyncSession, proposal: Proposal, member_id: int) -> bool:
    """The member filed or co-signed the proposal."""
    if proposal.proposer_id == member_id:
        return True
    found = await session.scalar(
        select(col(ProposalCosign.member_id))
        .where(col(ProposalCosign.proposal_id) == proposal.id)
        .where(col(ProposalCosign.member_id) == member_id)
    )
    return found is not None


async def may_see(
    session: AsyncSession, proposal: Proposal, member_id: int, roles: frozenset[Role]
) -> bool:
    if Status(proposal.status) in visible_statuses(roles):
        return True
    return await is_involved(session, proposal, member_id)


# ---------------------------------------------------------------- one proposal


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    branch: str


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the timeline."""

    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Detail:
    """Everything ``提案 <编号>`` shows."""

    proposal: Proposal
    proposer: Person
    cosigners: list[Person]
    assignments: list[tuple[str, bool]]
    replies: list[ProposalReply]
    ratings: list[tuple[ProposalRating, str]]
    timeline: list[Step]


async def person(session: AsyncSession, member_id: int) -> Person:
    row = (await session.execute(
        select(col(Member.id), col(Member.name), col(Branch.name))
        .join(Branch, col(Branch.id) == col(Member.branch_id))
        .where(col(Member.id) == member_id)
    )).one()
    return Person(int(row[0]), row[1], row[2])


async def cosigners(session: AsyncSession, proposal_id: int) -> list[Person]:
    rows = await session.execute(
        select(col(Member.id), col(Member.name), col(Branch.name))
        .join(ProposalCosign, col(ProposalCosign.member_id) == col(Member.id))
        .join(Branch, col(Branch.id) == col(Member.branch_id))
        .where(col(ProposalCosign.proposal_id) == proposal_id)
        .order_by(col(ProposalCosign.at), col(Member.id))
    )
    return [Person(i or 0, name, branch) for i, name, branch in rows.tuples()]


async def cosigner_ids(session: AsyncSession, proposal_id: int) -> list[int]:
    return list(await session.scalars(
        select(col(ProposalCosign.member_id))
        .where(col(ProposalCosign.proposal_id) == proposal_id)
        .order_by(col(ProposalCosign.at), col(ProposalCosign.member_id))
    ))


async def detail(session: AsyncSession, proposal: Proposal) -> Detail:
    pid = proposal.id or 0
    replies = list(await session.scalars(
        select(ProposalReply).where(col(ProposalReply.proposal_id) == pid)
        .order_by(col(ProposalReply.handling_round), col(ProposalReply.lead).desc(),
                  col(ProposalReply.id))
    ))
    ratings = [(r, name) for r, name in (await session.execute(
        select(ProposalRating, col(Member.name))
        .join(Member, col(Member.id) == col(ProposalRating.member_id))
        .where(col(ProposalRating.proposal_id) == pid)
        .order_by(col(ProposalRating.id))
    )).tuples()]
    events = await session.execute(
        select(ProposalEvent, col(Member.name))
        .outerjoin(Member, col(Member.id) == col(ProposalEvent.actor_id))
        .where(col(ProposalEvent.proposal_id) == pid)
        .order_by(col(ProposalEvent.id))
    )
    timeline = [
        Step(e.at, e.kind, name, json.loads(e.data) if e.data else {}) for e, name in events.tuples()
    ]
    return Detail(
        proposal=proposal, proposer=await person(session, proposal.proposer_id),
        cosigners=await cosigners(session, pid), assignments=await assignments(session, pid),
        replies=replies, ratings=ratings, timeline=timeline,
    )


# ---------------------------------------------------------------- lists


@dataclass(frozen=True, slots=True)
class Row:
    """One proposal in a list."""

    number: str
    title: str
    status: Status
    proposer: str
    cosigner_count: int
    lead_department: str | None
    deadline: date | None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


_ROW = (
    select(
        col(Proposal.number), col(Proposal.title), col(Proposal.status), col(Member.name),
        col(Proposal.cosigner_count), col(Proposal.lead_department), col(Proposal.deadline),
    )
    .join(Member, col(Member.id) == col(Proposal.proposer_id))
)


def _rows(result: Any) -> list[Row]:
    return [Row(n, t, Status(s), name, c, d, dl) for n, t, s, name, c, d, dl in result]


def overdue_clause(today: date) -> ColumnElement[bool]:
    """Accepted, not answered in the current round, and past the deadline."""
    return and_(col(Proposal.status) == Status.ACCEPTED.value, col(Proposal.deadline) < today)


async def page(
    session: AsyncSession, *, statuses: frozenset[Status], number: int, size: int,
    overdue_on: date | None = None, also_member: int | None = None,
) -> Page:
    """Page ``number`` (from 1) of the proposals in ``statuses``, newest first.

    ``overdue_on`` keeps only overdue ones; ``also_member`` adds that member's own
    proposals and co-signed ones whatever their status.
    """
    shown: ColumnElement[bool] = col(Proposal.status).in_(sorted(statuses))
    if also_member is not None:
        cosigned = select(col(ProposalCosign.proposal_id)).where(
            col(ProposalCosign.member_id) == also_member
        )
        shown = or_(shown, col(Proposal.proposer_id) == also_member, col(Proposal.id).in_(cosigned))
    where = [shown] if overdue_on is None else [shown, overdue_clause(overdue_on)]
    total = int(await session.scalar(select(func.count()).select_from(Proposal).where(*where)) or 0)
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    result = await session.execute(
        _ROW.where(*where).order_by(*NEWEST_FIRST).limit(size).offset((number - 1) * size)
    )
    return Page(_rows(result.tuples()), total, number, pages)


async def filed_by(session: AsyncSession, member_id: int, limit: int) -> tuple[list[Row], int]:
    """A member's own proposals, newest first, and how many there are."""
    where = col(Proposal.proposer_id) == member_id
    total = int(await session.scalar(select(func.count()).select_from(Proposal).where(where)) or 0)
    rows = await session.execute(_ROW.where(where).order_by(*NEWEST_FIRST).limit(limit))
    return _rows(rows.tuples()), total


async def cosigned_by(session: AsyncSession, member_id: int, limit: int) -> tuple[list[Row], int]:
    """Proposals a member co-signed, newest first, and how many there are."""
    ids = select(col(ProposalCosign.proposal_id)).where(col(ProposalCosign.member_id) == member_id)
    where = col(Proposal.id).in_(ids)
    total = int(await session.scalar(select(func.count()).select_from(Proposal).where(where)) or 0)
    rows = await session.execute(_ROW.where(where).order_by(*NEWEST_FIRST).limit(limit))
    return _rows(rows.tuples()), total


async def waiting_for(session: AsyncSession, department: str, limit: int) -> tuple[list[Row], int]:
    """Proposals assigned to a department that it has not answered in the current round."""
    answered = select(col(ProposalReply.id)).where(
        col(ProposalReply.proposal_id) == col(Proposal.id),
        col(ProposalReply.department) == department,
        col(ProposalReply.handling_round) == col(Proposal.handling_round),
    )
    where = and_(
        col(Proposal.status).in_([Status.ACCEPTED.value, Status.REPLIED.value]),
        col(Proposal.id).in_(select(col(ProposalAssignment.proposal_id)).where(
            col(ProposalAssignment.department) == department
        )),
        ~answered.exists(),
    )
    total = int(await session.scalar(select(func.count()).select_from(Proposal).where(where)) or 0)
    rows = await session.execute(_ROW.where(where).order_by(col(Proposal.deadline), *NUMBER_ORDER)
                                 .limit(limit))
    return _rows(rows.tuples()), total


# ---------------------------------------------------------------- people and departments


async def handler_ids(session: AsyncSession, departments: list[str]) -> list[int]:
    """Active members with the 承办人 role in any of ``departments``."""
    if not departments:
        return []
    return list(await session.scalars(
        select(col(Member.id))
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(col(MemberRole.role) == Role.HANDLER.value)
        .where(col(Member.active).is_(True))
        .where(col(Member.department).in_(departments))
        .order_by(col(Member.id))
    ))


async def handler_departments(session: AsyncSession) -> list[str]:
    """The departments of active 承办人, in name order."""
    rows = await session.scalars(
        select(col(Member.department)).distinct()
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(col(MemberRole.role) == Role.HANDLER.value)
        .where(col(Member.active).is_(True))
        .where(col(Member.department).is_not(None))
        .order_by(col(Member.department))
    )
    return [name for name in rows if name]


async def newest_number(session: AsyncSession, statuses: Iterable[Status] = ()) -> str | None:
    """The number of the newest proposal (in one of ``statuses``, when given); None if none."""
    query = select(col(Proposal.number)).order_by(*NEWEST_FIRST).limit(1)
    wanted = [status.value for status in statuses]
    if wanted:
        query = query.where(col(Proposal.status).in_(wanted))
    found = await session.scalar(query)
    return str(found) if found else None
