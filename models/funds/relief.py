"""慰问 — per-person payouts: posted to the ledger, counted for the work report, limited.

``[funds.limits]`` sets a yearly standard per member and type (生日 300 元 …); a payout
that would take the year's total for that member and type above it is refused, naming
the standard and what was already paid. Reversed payouts do not count. Payouts are
never published by name: reports give counts (人次) and sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.funds.amounts import yuan
from models.funds.ledger import NewEntry, open_ledger, record
from models.funds.refusals import Refused
from models.funds.tables import FundEntry, FundLedger, FundRelief, Kind


@dataclass(frozen=True, slots=True)
class Payout:
    member_id: int
    kind: str  # 生日, 住院 …
    amount_fen: int
    category_code: str
    reason: str | None
    description: str  # the ledger line: no name, e.g. 生日慰问
    limit_fen: int | None


def _not_reversed() -> ColumnElement[bool]:
    reversed_ids = select(col(FundEntry.reverses_id)).where(col(FundEntry.reverses_id).is_not(None))
    return col(FundRelief.entry_id).not_in(reversed_ids)


async def paid_this_year(session: AsyncSession, member_id: int, kind: str, year: int) -> int:
    """What ``member_id`` got of ``kind`` in ``year`` (reversed payouts not counted)."""
    query = select(func.coalesce(func.sum(FundRelief.amount_fen), 0)).where(
        col(FundRelief.member_id) == member_id, col(FundRelief.kind) == kind,
        col(FundRelief.year) == year, _not_reversed(),
    )
    return int((await session.execute(query)).scalar_one())


async def pay(
    session: AsyncSession, branch_id: int, payout: Payout, *, recorded_by: int | None,
    now: datetime, today: date,
) -> tuple[FundEntry, FundLedger, int]:
    """Record ``payout`` in the branch's ledger; return the entry, ledger and the year's total."""
    await open_ledger(session, branch_id, opened_on=date(today.year, 1, 1))  # queue payouts
    paid = await paid_this_year(session, payout.member_id, payout.kind, today.year)
    if payout.limit_fen is not None and paid + payout.amount_fen > payout.limit_fen:
        raise Refused("relief_over_limit", kind=payout.kind, limit=yuan(payout.limit_fen), paid=yuan(paid),
                      amount=yuan(payout.amount_fen), left=yuan(max(payout.limit_fen - paid, 0)))
    entry, ledger = await record(session, branch_id, NewEntry(
        kind=Kind.EXPENSE, amount_fen=payout.amount_fen, category_code=payout.category_code,
        description=payout.description, occurred_on=today, recorded_by=recorded_by,
    ), now=now, today=today)
    assert entry.id is not None
    session.add(FundRelief(entry_id=entry.id, member_id=payout.member_id, kind=payout.kind,
                           year=today.year, amount_fen=payout.amount_fen, reason=payout.reason))
    await session.flush()
    return entry, ledger, paid + payout.amount_fen


async def relief_counts(
    session: AsyncSession, ledger_id: int, start: date, end: date
) -> list[tuple[str, int, int]]:
    """(type, 人次, sum in 分) of the payouts of a ledger within ``[start, end)``."""
    query = (
        select(col(FundRelief.kind), func.count(), func.sum(col(FundRelief.amount_fen)))
        .join(FundEntry, col(FundEntry.id) == col(FundRelief.entry_id))
        .where(col(FundEntry.ledger_id) == ledger_id, col(FundEntry.occurred_on) >= start,
               col(FundEntry.occurred_on) < end, _not_reversed())
        .group_by(col(FundRelief.kind)).order_by(col(FundRelief.kind))
    )
    return [(str(k), int(n), int(s)) for k, n, s in (await session.execute(query)).all()]
