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


# ---------------------------------------------------------------- month by month


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


def _first_of_month(day: date | str) -> date:
    text = day if isinstance(day, str) else day.isoformat()
    return date(int(text[:4]), int(text[5:7]), 1)


async def _later_entries(session: AsyncSession, ledger_id: int, period: Period, upto: int,
                         ) -> list[tuple[Any, str, int]]:
    """(day, kind, amount) of the entries dated in ``period`` but recorded after entry ``upto``."""
    query = select(col(FundEntry.occurred_on), col(FundEntry.kind), col(FundEntry.amount_fen)).where(
        col(FundEntry.ledger_id) == ledger_id, col(FundEntry.seq) > upto,
        col(FundEntry.occurred_on) >= period.start, col(FundEntry.occurred_on) < period.end)
    return [(day, str(kind), int(amount)) for day, kind, amount in (await session.execute(query)).all()]


async def monthly(session: AsyncSession, statement: Published) -> list[Month]:
    """Income and expenditure per month of the statement's period, as published.

    Read from the per-day totals less the entries recorded after the checkpoint, so a
    yearly statement of 100,000 entries reads a few hundred rows.
    """
    period, upto = statement.period, int(statement.checkpoint["entries"])
    query = (select(col(FundDayTotal.day), col(FundDayTotal.kind), func.sum(col(FundDayTotal.amount_fen)))
             .where(col(FundDayTotal.ledger_id) == statement.ledger_id, col(FundDayTotal.day) >= period.start,
                    col(FundDayTotal.day) < period.end)
             .group_by(col(FundDayTotal.day), col(FundDayTotal.kind)))
    kinds = (Kind.INCOME.value, Kind.EXPENSE.value)
    totals = {(first, kind): 0 for first in months_of(period) for kind in kinds}
    for day, kind, amount in (await session.execute(query)).all():
        totals[(_first_of_month(day), str(kind))] += int(amount)
    for day, kind, amount in await _later_entries(session, statement.ledger_id, period, upto):
        totals[(_first_of_month(day), kind)] -= amount
    return [Month(first, totals[(first, Kind.INCOME.value)], totals[(first, Kind.EXPENSE.value)])
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


def _entry_filter(statement: Published) -> tuple[Any, ...]:
    period = statement.period
    return (col(FundEntry.ledger_id) == statement.ledger_id,
            col(FundEntry.seq) <= int(statement.checkpoint["entries"]),
            col(FundEntry.occurred_on) >= period.start, col(FundEntry.occurred_on) < period.end)


async def entry_page(session: AsyncSession, statement: Published, page: int,
                     per_page: int = ENTRIES_PER_PAGE) -> EntryPage | None:
    """One page of the entries the statement covers, by day then position; None past the end."""
    total = statement.entries
    pages = page_count(total, per_page)
    if not 1 <= page <= pages:
        return None
    query = (select(col(FundEntry.number), col(FundEntry.occurred_on), col(FundEntry.kind),
                    col(FundEntry.amount_fen), col(FundEntry.category_code), col(FundEntry.description),
                    col(FundEntry.reverses_id))
             .where(*_entry_filter(statement))
             .order_by(col(FundEntry.occurred_on), col(FundEntry.seq))
             .limit(per_page).offset((page - 1) * per_page))
    rows = (await session.execute(query)).all()
    entries = [PublicEntry(str(num), day, str(kind), int(amount), str(code), str(words), reverses is not None)
               for num, day, kind, amount, code, words, reverses in rows]
    return EntryPage(entries, page, pages, total)
