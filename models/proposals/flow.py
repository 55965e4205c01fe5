"""The proposal state machine — 提案流程.

=============  ===========================  ==========================================
step           from                         to
=============  ===========================  ==========================================
file 提案       —                            COSIGNING (REVIEW when none are needed)
cosign 附议     COSIGNING, REVIEW            REVIEW once ``min_cosigners`` is reached
withdraw 撤回   COSIGNING, REVIEW            WITHDRAWN (the number stays taken)
accept 立案     REVIEW                       ACCEPTED, with departments and a deadline
decline        COSIGNING, REVIEW            REJECTED (不立案) or CONVERTED (转建议)
reply 答复      ACCEPTED, REPLIED            REPLIED (lead department; 协办: no change)
rate 评价       REPLIED                      CLOSED, or ACCEPTED again after 不满意
=============  ===========================  ==========================================

Every step takes the proposal row locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
writers are serialised by ``BEGIN IMMEDIATE``), checks the rules against its committed
state and writes a ``ProposalEvent``. Two officers deciding at once therefore queue:
the second sees the first's decision and is refused. A step the rules do not allow
raises ``Refused`` with the name of the sentence to answer and its values; nothing is
changed. The caller (``handlers.proposal_*``) writes the audit log and the notices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import table_of
from models.fixed_sql import FixedInsert
from models.proposals.numbers import next_number
from models.proposals.tables import (
    ADMITTED,
    BEFORE_REVIEW,
    Outcome,
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    Rating,
    Status,
)


class Refused(Exception):
    """A step the rules do not allow. ``code`` names a macro of ``notices/proposals``."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules a union configures under ``[proposals]``."""

    min_cosigners: int = 2
    reply_days: int = 30
    max_rehandle: int = 1
    cosigners_rate: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """One step taken: for the audit log (from → to) and for the notices it causes."""

    number: str
    kind: str
    before: Status | None
    after: Status
    data: dict[str, Any] = field(default_factory=dict)


_EVENT = FixedInsert(table_of(ProposalEvent), ("proposal_id", "at", "actor_id", "kind", "data"))
_PROPOSAL = FixedInsert(table_of(Proposal), ("number", "year", "seq", "round_id", "title", "reason",
    "suggestion", "category", "proposer_id", "status", "cosigner_count", "filed_at", "handling_round",
    "updated_at"))
_COSIGNED = select(col(ProposalCosign.member_id)).where(
    col(ProposalCosign.proposal_id) == bindparam("proposal_id"),
    col(ProposalCosign.member_id) == bindparam("member_id"),
)


async def _event(
    session: AsyncSession, proposal_id: int, kind: str, *, at: datetime, actor_id: int | None,
    data: dict[str, Any] | None = None,
) -> None:
    await _EVENT.run(session, {"proposal_id": proposal_id, "at": at, "actor_id": actor_id, "kind": kind,
                               "data": json.dumps(data, ensure_ascii=False, default=str) if data else None})


def _status(proposal: Proposal) -> Status:
    return Status(proposal.status)


def _refuse_status(code: str, proposal: Proposal, **values: Any) -> Refused:
    state = _status(proposal)
    return Refused(code, number=proposal.number, status=state.label, state=state.value, **values)


# ---------------------------------------------------------------- lookups


async def load(session: AsyncSession, number: str, *, lock: bool = True) -> Proposal:
    """The proposal numbered ``number`` (locked for this transaction when ``lock``)."""
    statement = select(Proposal).where(col(Proposal.number) == number)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    proposal: Proposal | None = await session.scalar(statement)
    if proposal is None:
        raise Refused("unknown_number", number=number)
    return proposal


# ---------------------------------------------------------------- filing


@dataclass(frozen=True, slots=True)
class Draft:
    """The fields of a proposal as the proposer typed them (already checked)."""

    title: str
    reason: str
    suggestion: str
    category: str | None = None


async def file(
    session: AsyncSession, *, draft: Draft, proposer_id: int, round_id: int | None, year: int,
    now: datetime, policy: Policy,
) -> Change:
    """File a proposal under the year's next number; it waits for co-signatures (or review)."""
    status = Status.COSIGNING if policy.min_cosigners > 0 else Status.REVIEW
    seq, number = await next_number(session, year)
    proposal_id = await _PROPOSAL.run_for_id(session, {
        "number": number, "year": year, "seq": seq, "round_id": round_id,
        "title": draft.title, "reason": draft.reason, "suggestion": draft.suggestion,
        "category": draft.category, "proposer_id": proposer_id, "status": status.value,
        "cosigner_count": 0, "filed_at": now, "handling_round": 1, "updated_at": now,
    })
    await _event(session, proposal_id, "filed", at=now, actor_id=proposer_id)
    if status is Status.REVIEW:
        await _event(session, proposal_id, "review", at=now, actor_id=None)
    return Change(number, "filed", None, status, {"title": draft.title, "category": draft.category})


# ---------------------------------------------------------------- 附议 and 撤回


async def cosign(
    session: AsyncSession, *, proposal: Proposal, member_id: int, now: datetime, policy: Policy
) -> Change:
    """A representative co-signs; reaching ``min_cosigners`` sends it to review."""
    before = _status(proposal)
    if before not in BEFORE_REVIEW:
        raise _refuse_status("cosign_closed", proposal)
    if proposal.proposer_id == member_id:
        raise Refused("cosign_own", number=proposal.number)
    params = {"proposal_id": proposal.id, "member_id": member_id}
    if await session.scalar(_COSIGNED, params) is not None:
        raise Refused("cosign_twice", number=proposal.number)
    session.add(ProposalCosign(proposal_id=proposal.id or 0, member_id=member_id, at=now))
    proposal.cosigner_count += 1
    proposal.updated_at = now
    after = before
    if before is Status.COSIGNING and proposal.cosigner_count >= policy.min_cosigners:
        after = Status.REVIEW
        proposal.status = after.value
    await session.flush()
    await _event(session, proposal.id or 0, "cosigned", at=now, actor_id=member_id,
                 data={"count": proposal.cosigner_count})
    if after is not before:
        await _event(session, proposal.id or 0, "review", at=now, actor_id=None)
    return Change(proposal.number, "cosigned", before, after, {
        "count": proposal.cosigner_count, "needed": policy.min_cosigners,
        "to_review": after is not before,
    })


async def withdraw(
    session: AsyncSession, *, proposal: Proposal, member_id: int, now: datetime
) -> Change:
    """The proposer takes the proposal back before the committee decides; it keeps its number."""
    before = _status(proposal)
    if proposal.proposer_id != member_id:
        raise Refused("withdraw_not_own", number=proposal.number)
    if before not in BEFORE_REVIEW:
        raise _refuse_status("withdraw_too_late", proposal)
    proposal.status = Status.WITHDRAWN.value
    proposal.closed_at = proposal.updated_at = now
    await session.flush()
    await _event(session, proposal.id or 0, "withdrawn", at=now, actor_id=member_id)
    return Change(proposal.number, "withdrawn", before, Status.WITHDRAWN)


# ---------------------------------------------------------------- review


async def accept(
    session: AsyncSession, *, proposal: Proposal, officer_id: int, lead: str, helpers: list[str],
    deadline: date, now: datetime, policy: Policy,
) -> Change:
    """立案: hand the proposal to a lead department (and helpers) with a reply deadline."""
    before = _status(proposal)
    if before is Status.COSIGNING:
        raise Refused("accept_needs_cosigners", number=proposal.number,
                      count=proposal.cosigner_count, needed=policy.min_cosigners)
    if before is not Status.REVIEW:
        raise _refuse_status("already_decided", proposal)
    proposal.status = Status.ACCEPTED.value
    proposal.lead_department = lead
    proposal.deadline = deadline
    proposal.decided_at = proposal.updated_at = now
    proposal.decided_by = officer_id
    await session.flush()
    await session.execute(insert(table_of(ProposalAssignment)), [
        {"proposal_id": proposal.id, "department": department, "lead": department == lead}
        for department in (lead, *helpers)
    ])
    data = {"lead": lead, "helpers": helpers, "deadline": deadline.isoformat()}
    await _event(session, proposal.id or 0, "accepted", at=now, actor_id=officer_id, data=data)
    return Change(proposal.number, "accepted", before, Status.ACCEPTED, data)


async def decline(
    session: AsyncSession, *, proposal: Proposal, officer_id: int, to: Status, note: str,
    now: datetime,
) -> Change:
    """不立案 (``to=REJECTED``) or 转建议 (``to=CONVERTED``), with the committee's reason."""
    assert to in (Status.REJECTED, Status.CONVERTED)
    before = _status(proposal)
    if before not in BEFORE_REVIEW:
        raise _refuse_status("already_decided", proposal)
    proposal.status = to.value
    proposal.decision_note = note
    proposal.decided_at = proposal.closed_at = proposal.updated_at = now
    proposal.decided_by = officer_id
    await session.flush()
    kind = "rejected" if to is Status.REJECTED else "converted"
    await _event(session, proposal.id or 0, kind, at=now, actor_id=officer_id, data={"note": note})
    return Change(proposal.number, kind, before, to, {"note": note})


# ---------------------------------------------------------------- 答复


async def assignments(session: AsyncSession, proposal_id: int) -> list[tuple[str, bool]]:
    """The departments handling a proposal, lead first."""
    rows = await session.execute(
        select(col(ProposalAssignment.department), col(ProposalAssignment.lead))
        .where(col(ProposalAssignment.proposal_id) == proposal_id)
        .order_by(col(ProposalAssignment.lead).desc(), col(ProposalAssignment.department))
    )
    return [(department, bool(lead)) for department, lead in rows.tuples()]


async def _ratings_in_round(session: AsyncSession, proposal: Proposal) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ProposalRating)
        .where(col(ProposalRating.proposal_id) == proposal.id)
        .where(col(ProposalRating.handling_round) == proposal.handling_round)
    )
    return int(count or 0)


async def _reply_target(
    session: AsyncSession, proposal: Proposal, department: str
) -> tuple[Status, bool, ProposalReply | None]:
    """The status, whether ``department`` leads, its reply so far; refuses who may not answer."""
    before = _status(proposal)
    if before not in ADMITTED:
        raise _refuse_status("reply_not_accepted", proposal)
    if before is Status.CLOSED:
        raise Refused("reply_closed", number=proposal.number)
    departments = dict(await assignments(session, proposal.id or 0))
    if department not in departments:
        raise Refused("reply_wrong_department", number=proposal.number, department=department,
                      lead=proposal.lead_department)
    existing: ProposalReply | None = await session.scalar(
        select(ProposalReply)
        .where(col(ProposalReply.proposal_id) == proposal.id)
        .where(col(ProposalReply.department) == department)
        .where(col(ProposalReply.handling_round) == proposal.handling_round)
    )
    if existing is not None and await _ratings_in_round(session, proposal):
        raise Refused("reply_rated", number=proposal.number)
    return before, departments[department], existing


async def reply(
    session: AsyncSession, *, proposal: Proposal, author_id: int, department: str,
    outcome: Outcome, content: str, now: datetime,
) -> Change:
    """A handling department answers (or revises its answer until it is rated).

    The lead department's reply moves the proposal to REPLIED; a 协办 department's
    reply is its opinion and changes no status.
    """
    before, lead, existing = await _reply_target(session, proposal, department)
    after = Status.REPLIED if lead and before is Status.ACCEPTED else before
    if existing is None:
        existing = ProposalReply(
            proposal_id=proposal.id or 0, department=department, lead=lead,
            handling_round=proposal.handling_round, outcome=outcome.value, content=content,
            author_id=author_id, replied_at=now,
        )
        session.add(existing)
        kind = "replied"
    else:
        existing.outcome, existing.content, existing.author_id = outcome.value, content, author_id
        existing.revisions += 1
        existing.revised_at = now
        kind = "revised"
    proposal.status = after.value
    if lead and proposal.replied_at is None:
        proposal.replied_at = now
    proposal.updated_at = now
    await session.flush()
    data = {"department": department, "lead": lead, "outcome": outcome.value, "content": content,
            "reply_id": existing.id, "revision": existing.revisions}
    await _event(session, proposal.id or 0, kind, at=now, actor_id=author_id,
                 data={k: v for k, v in data.items() if k != "reply_id"})
    return Change(proposal.number, kind, before, after, data)


# ---------------------------------------------------------------- 评价


async def _check_rater(
    session: AsyncSession, proposal: Proposal, member_id: int, policy: Policy
) -> tuple[Status, bool]:
    """The status, and whether the rater is the proposer; refuses who may not rate now."""
    before = _status(proposal)
    is_proposer = proposal.proposer_id == member_id
    if not is_proposer:
        cosigned = await session.scalar(_COSIGNED, {"proposal_id": proposal.id, "member_id": member_id})
        if cosigned is None or not policy.cosigners_rate:
            raise Refused("rate_not_yours", number=proposal.number)
    if before not in (Status.REPLIED, Status.CLOSED):
        raise _refuse_status("rate_not_replied", proposal)
    given: str | None = await session.scalar(
        select(col(ProposalRating.rating))
        .where(col(ProposalRating.proposal_id) == proposal.id)
        .where(col(ProposalRating.member_id) == member_id)
        .where(col(ProposalRating.handling_round) == proposal.handling_round)
    )
    if given is not None:
        raise Refused("rate_twice", number=proposal.number, rating=Rating(given).label)
    return before, is_proposer


def _settle(
    proposal: Proposal, rating: Rating, now: datetime, today: date, policy: Policy,
    data: dict[str, Any],
) -> Status:
    """The proposer's rating decides: closed, or sent back to be handled again."""
    can_resend = proposal.handling_round - 1 < policy.max_rehandle
    if rating is Rating.UNSATISFIED and can_resend:
        proposal.handling_round += 1
        proposal.deadline = today + timedelta(days=policy.reply_days)
        proposal.rating = None
        data.update(sent_back=True, deadline=proposal.deadline.isoformat())
        after = Status.ACCEPTED
    else:
        proposal.rating = rating.value
        proposal.closed_at = now
        after = Status.CLOSED
    proposal.status = after.value
    return after


async def rate(
    session: AsyncSession, *, proposal: Proposal, member_id: int, rating: Rating,
    comment: str | None, now: datetime, today: date, policy: Policy,
) -> Change:
    """The proposer (and co-signers, if the union lets them) rate the reply.

    The proposer's rating decides: 满意 / 基本满意 close the proposal; 不满意 sends it
    back to be handled again, ``max_rehandle`` times at most, and then closes it.
    """
    before, is_proposer = await _check_rater(session, proposal, member_id, policy)
    session.add(ProposalRating(
        proposal_id=proposal.id or 0, member_id=member_id, handling_round=proposal.handling_round,
        rating=rating.value, comment=comment, at=now,
    ))
    data: dict[str, Any] = {"rating": rating.value, "comment": comment, "round": proposal.handling_round,
                            "by_proposer": is_proposer}
    after = _settle(proposal, rating, now, today, policy, data) if is_proposer else before
    proposal.updated_at = now
    await session.flush()
    await _event(session, proposal.id or 0, "rated", at=now, actor_id=member_id, data=data)
    return Change(proposal.number, "rated", before, after, data)
