"""经费公示 — a statement's life: drafted, (reviewed by 经审,) published with a checkpoint.

=================  ======================  =========================================
step               from                    to
=================  ======================  =========================================
draft 起草          —, DRAFT, RETURNED      DRAFT (figures recomputed when shown)
submit 发布         DRAFT, RETURNED         REVIEW when a 经审 must review, else PUBLISHED
review 审核 通过    REVIEW                  PUBLISHED
review 审核 退回    REVIEW                  RETURNED, with the reviewer's note
=================  ======================  =========================================

Every step takes the statement row locked, so two officers (or two servers' schedulers)
acting at once queue and the second sees the first's result. Publishing stores the
figures (``summary``) and a signed checkpoint of the ledger's head in the same
transaction; the group notices are queued by the caller in it too, so they go out once.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, insert_for, table_of
from models.funds.checkpoints import fingerprint, sign
from models.funds.figures import Figures
from models.funds.periods import Period, parse_period
from models.funds.refusals import Refused
from models.funds.tables import FundCheckpoint, FundLedger, FundStatement, StatementStatus, statement_number

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_STATEMENT = table_of(FundStatement)
S = StatementStatus


def parse_statement_number(text: str) -> Period | None:
    """``F2026Q4`` / ``f2026q4`` / ``F2026-11`` → its period; None if it is not one."""
    word = text.strip()
    if len(word) < 5 or word[0] not in "Ff":
        return None
    try:
        return parse_period(word[1:])
    except Refused:
        return None


async def _locked(session: AsyncSession, ledger_id: int, period_key: str) -> FundStatement | None:
    query = (select(FundStatement).where(col(FundStatement.ledger_id) == ledger_id,
                                         col(FundStatement.period_key) == period_key)
             .with_for_update().execution_options(populate_existing=True))
    return (await session.execute(query)).scalar_one_or_none()


async def _insert_draft(session: AsyncSession, ledger_id: int, period: Period, by: int | None,
                        now: datetime) -> bool:
    """Insert the period's draft unless there is one; True when this call made it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    maker = insert_for(dialect)
    made = await execute_core(session, maker(_STATEMENT).values(
        ledger_id=ledger_id, number=statement_number(period.key), period_key=period.key,
        status=S.DRAFT.value, drafted_at=now, drafted_by=by,
    ).on_conflict_do_nothing(index_elements=[_STATEMENT.c.ledger_id, _STATEMENT.c.period_key])
        .returning(_STATEMENT.c.id))
    return made.scalar() is not None


async def ensure_draft(session: AsyncSession, ledger_id: int, period: Period, now: datetime) -> bool:
    """The period's statement exists afterwards (a draft unless it already was something);
    True when this call made it. Safe when several servers run it at once."""
    return await _insert_draft(session, ledger_id, period, None, now)


async def draft(
    session: AsyncSession, ledger: FundLedger, period: Period, *, by: int | None, now: datetime,
) -> tuple[FundStatement, bool]:
    """起草: the period's statement as a draft; True when it is new (the scheduler's once)."""
    assert ledger.id is not None
    made = await _insert_draft(session, ledger.id, period, by, now)
    statement = await _locked(session, ledger.id, period.key)
    assert statement is not None
    if statement.status == S.PUBLISHED.value:
        raise Refused("statement_published", number=statement.number, label=period.label)
    if statement.status == S.REVIEW.value:
        raise Refused("statement_in_review", number=statement.number, label=period.label)
    if not made:
        statement.status, statement.drafted_at, statement.drafted_by = S.DRAFT.value, now, by
    return statement, made


async def lock_statement(session: AsyncSession, ledger_id: int, period: Period) -> FundStatement:
    statement = await _locked(session, ledger_id, period.key)
    if statement is None:
        raise Refused("statement_unknown", number=statement_number(period.key), label=period.label)
    return statement


def submit(statement: FundStatement, period: Period, *, needs_review: bool, today: date) -> StatementStatus:
    """发布: a draft goes to review (when a 经审 must see it) or is to be published now."""
    if statement.status == S.PUBLISHED.value:
        raise Refused("statement_published", number=statement.number, label=period.label)
    if statement.status == S.REVIEW.value:
        raise Refused("statement_in_review", number=statement.number, label=period.label)
    if today < period.end:
        raise Refused("period_not_over", label=period.label, end=period.end.isoformat())
    if needs_review:
        statement.status = S.REVIEW.value
        return S.REVIEW
    return S.PUBLISHED


def review(statement: FundStatement, *, approve: bool, reviewer: int, note: str | None) -> StatementStatus:
    """审核: 通过 (to be published now) or 退回 with a note."""
    if statement.status != S.REVIEW.value:
        raise Refused("statement_not_in_review", number=statement.number,
                      status=StatementStatus(statement.status).label)
    statement.reviewed_by, statement.review_note = reviewer, note
    if approve:
        return S.PUBLISHED
    statement.status = S.RETURNED.value
    return S.RETURNED


async def publish(
    session: AsyncSession, statement: FundStatement, ledger: FundLedger, figures: Figures, *,
    key: Ed25519PrivateKey, key_path: Path, by: int | None, now: datetime,
) -> FundCheckpoint:
    """Mark ``statement`` published with its figures and a signed checkpoint of the ledger."""
    checkpoint = await sign(session, ledger, key=key, key_path=key_path, statement_id=statement.id, now=now)
    statement.status = S.PUBLISHED.value
    statement.published_at, statement.published_by = now.astimezone(UTC), by
    statement.summary = json.dumps(
        {"figures": figures.as_json(), "checkpoint": checkpoint_json(checkpoint)}, ensure_ascii=False)
    await session.flush()
    return checkpoint


def checkpoint_json(checkpoint: FundCheckpoint) -> dict[str, Any]:
    return {
        "entries": checkpoint.entry_count, "head": checkpoint.head_hash,
        "signed_at": checkpoint.signed_at.isoformat(), "public_key": checkpoint.public_key,
        "fingerprint": fingerprint(checkpoint.public_key), "signature": checkpoint.signature,
    }


async def last_published(session: AsyncSession, ledger_id: int) -> FundStatement | None:
    query = (select(FundStatement).where(col(FundStatement.ledger_id) == ledger_id,
                                         col(FundStatement.status) == S.PUBLISHED.value)
             .order_by(col(FundStatement.published_at).desc()).limit(1))
    return (await session.execute(query)).scalar_one_or_none()
