"""A period's figures: opening balance, income and expenditure by category (both levels),
closing balance, budget against actual, and 慰问 counts — what a statement shows.

Read from the per-day totals (``FundDayTotal``, kept by every append and checked by
``verify``): a yearly statement of a ledger with 100,000 entries sums a few thousand rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.funds.amounts import yuan
from models.funds.categories import CategoryTree
from models.funds.periods import Period
from models.funds.relief import relief_counts
from models.funds.tables import FundBudget, FundDayTotal, FundLedger, Kind


@dataclass(slots=True)
class Line:
    code: str
    name: str
    amount_fen: int
    children: list[Line] = field(default_factory=list)


@dataclass(slots=True)
class BudgetLine:
    name: str
    budget_fen: int
    actual_fen: int  # the year to the period's end


@dataclass(slots=True)
class Figures:
    period_key: str
    label: str
    opening_fen: int
    income_fen: int
    expense_fen: int
    closing_fen: int
    income: list[Line]
    expense: list[Line]
    budget: list[BudgetLine]
    relief: list[tuple[str, int, int]]  # (type, 人次, 分)
    entries: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _signed(kind: str, amount: int) -> int:
    return amount if kind == Kind.INCOME.value else -amount


async def _totals(
    session: AsyncSession, ledger_id: int, start: date, end: date
) -> dict[tuple[str, str], int]:
    """(kind, category) → sum of the entries dated within ``[start, end)``."""
    query = (
        select(col(FundDayTotal.kind), col(FundDayTotal.category_code),
               func.sum(col(FundDayTotal.amount_fen)))
        .where(col(FundDayTotal.ledger_id) == ledger_id, col(FundDayTotal.day) >= start,
               col(FundDayTotal.day) < end)
        .group_by(col(FundDayTotal.kind), col(FundDayTotal.category_code))
    )
    return {(str(k), str(c)): int(s) for k, c, s in (await session.execute(query)).all()}


async def balance_before(session: AsyncSession, ledger_id: int, day: date) -> int:
    query = (
        select(col(FundDayTotal.kind), func.sum(col(FundDayTotal.amount_fen)))
        .where(col(FundDayTotal.ledger_id) == ledger_id, col(FundDayTotal.day) < day)
        .group_by(col(FundDayTotal.kind))
    )
    return sum(_signed(str(k), int(s)) for k, s in (await session.execute(query)).all())


async def _count(session: AsyncSession, ledger_id: int, start: date, end: date) -> int:
    query = select(func.coalesce(func.sum(col(FundDayTotal.entries)), 0)).where(
        col(FundDayTotal.ledger_id) == ledger_id, col(FundDayTotal.day) >= start, col(FundDayTotal.day) < end)
    return int((await session.execute(query)).scalar_one())


def _lines(tree: CategoryTree, kind: str, totals: dict[tuple[str, str], int]) -> list[Line]:
    """Top-level categories with their leaves, each with its total; empty ones left out."""
    by_code = {code: amount for (k, code), amount in totals.items() if k == kind}
    lines = []
    for top in tree.tops("income" if kind == Kind.INCOME.value else "expense"):
        leaves = tree.leaves_under(top.code)
        children = [Line(c.code, c.name, by_code[c.code])
                    for c in leaves if c.code != top.code and c.code in by_code]
        amount = sum(by_code.get(c.code, 0) for c in leaves)
        if amount or children or top.code in by_code:
            lines.append(Line(top.code, top.name, amount, children))
    known = set(tree.by_code)
    for code, amount in by_code.items():
        if code not in known:  # a category the current tree no longer has
            lines.append(Line(code, code, amount))
    return lines


async def _budget(
    session: AsyncSession, tree: CategoryTree, ledger_id: int, period: Period,
) -> list[BudgetLine]:
    rows = (await session.execute(select(FundBudget).where(
        col(FundBudget.ledger_id) == ledger_id, col(FundBudget.year) == period.year))).scalars().all()
    if not rows:
        return []
    actual = await _totals(session, ledger_id, date(period.year, 1, 1), period.end)
    return [_budget_line(tree, row, actual) for row in rows]


def _budget_line(tree: CategoryTree, row: FundBudget, actual: dict[tuple[str, str], int]) -> BudgetLine:
    category = tree.by_code.get(row.category_code)
    if category is None:  # a category the current tree no longer has
        return BudgetLine(row.category_code, row.amount_fen, 0)
    codes = {leaf.code for leaf in tree.leaves_under(category.code)}
    spent = sum(v for (k, c), v in actual.items() if k == category.kind and c in codes)
    return BudgetLine(tree.path(category.code), row.amount_fen, spent)


async def figures(session: AsyncSession, tree: CategoryTree, ledger: FundLedger, period: Period) -> Figures:
    """The figures of ``ledger`` for ``period``."""
    assert ledger.id is not None
    opening = await balance_before(session, ledger.id, period.start)
    totals = await _totals(session, ledger.id, period.start, period.end)
    income = sum(v for (k, _c), v in totals.items() if k == Kind.INCOME.value)
    expense = sum(v for (k, _c), v in totals.items() if k == Kind.EXPENSE.value)
    count = await _count(session, ledger.id, period.start, period.end)
    return Figures(
        period_key=period.key, label=period.label, opening_fen=opening, income_fen=income,
        expense_fen=expense, closing_fen=opening + income - expense,
        income=_lines(tree, Kind.INCOME.value, totals), expense=_lines(tree, Kind.EXPENSE.value, totals),
        budget=await _budget(session, tree, ledger.id, period),
        relief=await relief_counts(session, ledger.id, period.start, period.end), entries=int(count),
    )


# ---------------------------------------------------------------- as text


def _line(line: Line) -> dict[str, Any]:
    return {"name": line.name, "amount": yuan(line.amount_fen), "children": [_line(c) for c in line.children]}


def _rate(budget: int, actual: int) -> str:
    return f"{actual * 100 / budget:.1f}%" if budget else "—"


def figure_values(figures: Figures) -> dict[str, Any]:
    """The figures as the strings the templates show (amounts in 元 with two decimals)."""
    return {
        "label": figures.label, "opening": yuan(figures.opening_fen), "income": yuan(figures.income_fen),
        "expense": yuan(figures.expense_fen), "closing": yuan(figures.closing_fen),
        "income_lines": [_line(line) for line in figures.income],
        "expense_lines": [_line(line) for line in figures.expense],
        "relief": [{"kind": k, "count": n, "amount": yuan(s)} for k, n, s in figures.relief],
        "budget": [{"name": b.name, "budget": yuan(b.budget_fen), "actual": yuan(b.actual_fen),
                    "rate": _rate(b.budget_fen, b.actual_fen)} for b in figures.budget],
        "year": figures.period_key[:4],
    }
