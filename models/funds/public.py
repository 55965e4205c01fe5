"""What the board (公开栏) shows of a ledger: its published statements (经费公示) only.

A published statement is fixed at the moment it was published: its figures are the
``summary`` stored with it, and everything else the board derives from the ledger is
read as of its checkpoint, i.e. from entries ``1 … entry_count`` of the chain. An entry
recorded later, even one dated inside the period, therefore never changes a statement
that is already public. Drafts, statements in review and returned ones are never shown.

The verification of the chain against the checkpoints is in ``models.funds.seals``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.funds.periods import Period, parse_period
from models.funds.refusals import Refused
from models.funds.seals import Tally
from models.funds.tables import FundDayTotal, FundEntry, FundLedger, FundStatement, Kind, StatementStatus
from models.org import Branch

ENTRIES_PER_PAGE = 50
PUBLISHED = StatementStatus.PUBLISHED.value


@dataclass(frozen=True, slots=True)
class Amounts:
    """A category's published total, with its sub-categories (one level)."""

    code: str
    name: str
    amount_fen: int
    children: tuple[Amounts, ...] = ()


@dataclass(frozen=True, slots=True)
class Published:
    """One published statement as the list and the statement page show it."""

    id: int
    ledger_id: int
    number: str  # F2026Q3
    period: Period
    published_at: datetime
    opening_fen: int
    income_fen: int
    expense_fen: int
    closing_fen: int
    entries: int  # entries dated in the period, as published
    income: tuple[Amounts, ...]
    expense: tuple[Amounts, ...]
    budget: tuple[tuple[str, int, int], ...]  # (category path, budget, actual to the period's end)
    relief: tuple[tuple[str, int, int], ...]  # (慰问 type, 人次, 分)
    checkpoint: dict[str, Any]  # entries, head, signed_at, public_key, fingerprint, signature


def period_from_url(text: str) -> Period | None:
    """``2026Q3`` (or any written form of a period) → the period; None when it is not one."""
    try:
        return parse_period(text)
    except Refused:
        return None


def _amounts(raw: dict[str, Any]) -> Amounts:
    children = tuple(_amounts(child) for child in raw.get("children", ()))
    return Amounts(str(raw["code"]), str(raw["name"]), int(raw["amount_fen"]), children)


def _published(row: FundStatement) -> Published | None:
    """The statement as published; None when its stored summary is not readable."""
    try:
        summary = json.loads(row.summary or "")
        figures, checkpoint = summary["figures"], summary["checkpoint"]
        return Published(
            id=row.id or 0, ledger_id=row.ledger_id, number=row.number, period=parse_period(row.period_key),
            published_at=row.published_at or row.drafted_at,
            opening_fen=int(figures["opening_fen"]), income_fen=int(figures["income_fen"]),
            expense_fen=int(figures["expense_fen"]), closing_fen=int(figures["closing_fen"]),
            entries=int(figures["entries"]),
            income=tuple(_amounts(line) for line in figures["income"]),
            expense=tuple(_amounts(line) for line in figures["expense"]),
            budget=tuple((str(b["name"]), int(b["budget_fen"]), int(b["actual_fen"]))
                         for b in figures["budget"]),
            relief=tuple((str(k), int(n), int(s)) for k, n, s in figures["relief"]),
            checkpoint=dict(checkpoint),
        )
    except (ValueError, KeyError, TypeError, Refused):
        return None


async def ledger_of(session: AsyncSession, branch_id: int) -> FundLedger | None:
    query = select(FundLedger).where(col(FundLedger.branch_id) == branch_id)
    return (await session.execute(query)).scalar_one_or_none()


def _published_query(ledger_id: int) -> Any:
    return (select(FundStatement)
            .where(col(FundStatement.ledger_id) == ledger_id, col(FundStatement.status) == PUBLISHED)
            .order_by(col(FundStatement.published_at).desc(), col(FundStatement.id).desc()))


async def published_statements(session: AsyncSession, ledger_id: int, *, limit: int | None = None,
                               ) -> list[Published]:
    """The ledger's published statements, the most recently published first."""
    query = _published_query(ledger_id)
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).scalars().all()
    return [found for found in map(_published, rows) if found is not None]


async def published_statement(session: AsyncSession, ledger_id: int, period: Period) -> Published | None:
    """The period's statement when it has been published; None otherwise (draft, in review …)."""
    query = select(FundStatement).where(
        col(FundStatement.ledger_id) == ledger_id, col(FundStatement.period_key) == period.key,
        col(FundStatement.status) == PUBLISHED)
    row = (await session.execute(query)).scalar_one_or_none()
    return _published(row) if row is not None else None


async def union_branch(session: AsyncSession) -> int | None:
    """The university union's own branch (the root), whose ledger is the union's."""
    query = select(func.min(col(Branch.id))).where(col(Branch.parent_id).is_(None))
    found = (await session.execute(query)).scalar_one_or_none()
    return int(found) if found is not None else None


@dataclass(frozen=True, slots=True)
class Listed:
    branch_id: int
    statement: Published


async def published_list(session: AsyncSession, *, branch_id: int | None, limit: int, offset: int = 0,
                         ) -> tuple[list[Listed], int]:
    """Published statements of one branch (None: of every ledger), most recently published
    first, one page of them; and how many there are in all."""
    where = [col(FundStatement.status) == PUBLISHED]
    if branch_id is not None:
        where.append(col(FundLedger.branch_id) == branch_id)
    joined = col(FundLedger.id) == col(FundStatement.ledger_id)
    query = (select(FundStatement, col(FundLedger.branch_id)).join(FundLedger, joined).where(*where)
             .order_by(col(FundStatement.published_at).desc(), col(FundStatement.id).desc())
             .limit(limit).offset(offset))
    total = (await session.execute(
        select(func.count()).select_from(FundStatement).join(FundLedger, joined).where(*where))).scalar_one()
    found = [(int(branch), _published(row)) for row, branch in (await session.execute(query)).all()]
    return [Listed(branch, statement) for branch, statement in found if statement is not None], int(total)


# ---------------------------------------------------------------- day by day

# A statement's ``Tally`` (day, kind → sum, entries) comes from the verified chain
# (``ChainState.tally``), or from the per-day totals when the chain no longer verifies.

@dataclass(frozen=True, slots=True)
class Month:
    start: date
    income_fen: int
    expense_fen: int


def months_of(period: Period) -> list[date]:
    """The first day of every month of ``period``."""
    firsts, day = [], period.start
    while day < period.end:
        firsts.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return firsts


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


async def tally_from_totals(session: AsyncSession, statement: Published) -> Tally:
    """The statement's tally from the per-day totals, less the entries recorded after its
    checkpoint (what the page falls back on when the chain no longer verifies)."""
    period = statement.period
    query = (select(col(FundDayTotal.day), col(FundDayTotal.kind), func.sum(col(FundDayTotal.amount_fen)),
                    func.sum(col(FundDayTotal.entries)))
             .where(col(FundDayTotal.ledger_id) == statement.ledger_id, col(FundDayTotal.day) >= period.start,
                    col(FundDayTotal.day) < period.end)
             .group_by(col(FundDayTotal.day), col(FundDayTotal.kind)))
    tally = {(_day(day), str(kind)): (int(amount), int(count))
             for day, kind, amount, count in (await session.execute(query)).all()}
    later = select(col(FundEntry.occurred_on), col(FundEntry.kind), col(FundEntry.amount_fen)).where(
        col(FundEntry.ledger_id) == statement.ledger_id, col(FundEntry.seq) > _upto(statement),
        col(FundEntry.occurred_on) >= period.start, col(FundEntry.occurred_on) < period.end)
    for day, kind, amount in (await session.execute(later)).all():
        before = tally.get((_day(day), str(kind)), (0, 0))
        tally[(_day(day), str(kind))] = (before[0] - int(amount), before[1] - 1)
    return {key: value for key, value in tally.items() if value[1]}


def _upto(statement: Published) -> int:
    """How many entries the statement's checkpoint covers."""
    return int(statement.checkpoint["entries"])


def monthly(period: Period, tally: Tally) -> list[Month]:
    """Income and expenditure per month of ``period``."""
    kinds = (Kind.INCOME.value, Kind.EXPENSE.value)
    sums = {(first, kind): 0 for first in months_of(period) for kind in kinds}
    for (day, kind), (amount, _count) in tally.items():
        sums[(date(day.year, day.month, 1), kind)] += amount
    return [Month(first, sums[(first, Kind.INCOME.value)], sums[(first, Kind.EXPENSE.value)])
            for first in months_of(period)]


# ---------------------------------------------------------------- the entries


@dataclass(frozen=True, slots=True)
class PublicEntry:
    number: str
    occurred_on: date
    kind: str
    amount_fen: int
    category_code: str
    description: str
    reverses: bool


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: list[PublicEntry]
    page: int  # 1-based
    pages: int
    total: int


def page_count(total: int, per_page: int = ENTRIES_PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def _window(tally: Tally, skip: int, take: int) -> tuple[date, date, int] | None:
    """The days holding entries ``skip … skip + take`` (in day order) and how many of the first
    day's entries come before them."""
    per_day: dict[date, int] = {}
    for (day, _kind), (_amount, count) in tally.items():
        per_day[day] = per_day.get(day, 0) + count
    seen, first, offset = 0, None, 0
    for day in sorted(per_day):
        if first is None and seen + per_day[day] > skip:
            first, offset = day, skip - seen
        seen += per_day[day]
        if first is not None and seen >= skip + take:
            return first, day, offset
    return (first, max(per_day), offset) if first is not None else None


async def entry_page(session: AsyncSession, statement: Published, tally: Tally, page: int,
                     per_page: int = ENTRIES_PER_PAGE) -> EntryPage | None:
    """One page of the statement's entries, by day then position; None past the end. Only the
    days holding the page are read, so the last page of 100,000 entries costs what the first does.
    (Within a ledger, ids rise with positions: entries are inserted in chain order.)"""
    total = sum(count for _amount, count in tally.values())
    pages = page_count(total, per_page)
    window = _window(tally, (page - 1) * per_page, per_page)
    if not 1 <= page <= pages:
        return None
    if window is None:
        return EntryPage([], page, pages, total)
    first, last, offset = window
    query = (select(col(FundEntry.number), col(FundEntry.occurred_on), col(FundEntry.kind),
                    col(FundEntry.amount_fen), col(FundEntry.category_code), col(FundEntry.description),
                    col(FundEntry.reverses_id))
             .where(col(FundEntry.ledger_id) == statement.ledger_id, col(FundEntry.occurred_on) >= first,
                    col(FundEntry.occurred_on) <= last, col(FundEntry.seq) <= _upto(statement))
             .order_by(col(FundEntry.occurred_on), col(FundEntry.id)).limit(per_page).offset(offset))
    rows = (await session.execute(query)).all()
    entries = [PublicEntry(str(num), _day(day), str(kind), int(amount), str(code), str(text), rev is not None)
               for num, day, kind, amount, code, text, rev in rows]
    return EntryPage(entries, page, pages, total)
