"""预算 — yearly budget figures per category, imported from a TOML file or an XLSX sheet.

TOML: ``[[budget]]`` tables with ``year``, ``category`` (name, code or alias, any level),
``amount`` (``"5万"``, ``50000``) and optionally ``branch`` (default: the ledger named on
the command line). XLSX: a sheet named 预算 with columns 年度, 类别, 金额 and optionally
分工会. Importing again replaces a figure (one per ledger, year and category).
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.funds.amounts import parse_amount
from models.funds.categories import CategoryTree
from models.funds.importing import amount_reason, branch_unknown, category_reason
from models.funds.ledger import open_ledger
from models.funds.refusals import Problem, Refused
from models.funds.tables import FundBudget
from models.org import Branch

SHEET = "预算"


@dataclass(frozen=True, slots=True)
class Budget:
    number: int  # the row (or the [[budget]] table's position)
    branch: str | None
    year: int
    category_code: str
    amount_fen: int


@dataclass(slots=True)
class BudgetReport:
    budgets: list[Budget] = field(default_factory=list)
    rejected: list[tuple[int, tuple[Problem, ...]]] = field(default_factory=list)


def read_budget_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Raw budget rows of a TOML file, or of the 预算 sheet of an XLSX (none if it has none)."""
    if path.suffix.lower() == ".toml":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return [(i, {"分工会": b.get("branch"), "年度": b.get("year"), "类别": b.get("category"),
                     "金额": b.get("amount")}) for i, b in enumerate(data.get("budget", []), start=1)]
    if path.suffix.lower() != ".xlsx":
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if SHEET not in book.sheetnames:
            return []
        lines = [list(row) for row in book[SHEET].iter_rows(values_only=True)]
    finally:
        book.close()
    header = [str(c or "").strip() for c in lines[0]] if lines else []
    return [(n, dict(zip(header, line, strict=False))) for n, line in enumerate(lines[1:], start=2)
            if any(c not in (None, "") for c in line)]


def _budget(number: int, cells: dict[str, Any], tree: CategoryTree) -> Budget | tuple[Problem, ...]:
    year_text = str(cells.get("年度") or "").strip()
    year = int(year_text.removesuffix("年")) if year_text.removesuffix("年").isdigit() else 0
    reasons = [] if 2000 <= year <= 2099 else [Problem("row_year_bad", {"text": year_text})]
    code = ""
    try:
        code = tree.lookup(str(cells.get("类别") or "")).code
    except Refused as exc:
        reasons.append(category_reason(str(cells.get("类别") or ""), exc))
    amount = 0
    try:
        amount = parse_amount(str(cells.get("金额") or ""), max_yuan=1_000_000_000)
    except Refused as exc:
        reasons.append(amount_reason(str(cells.get("金额") or ""), exc))
    if reasons:
        return tuple(reasons)
    return Budget(number, str(cells.get("分工会") or "").strip() or None, year, code, amount)


def check_budgets(rows: list[tuple[int, dict[str, Any]]], tree: CategoryTree) -> BudgetReport:
    report = BudgetReport()
    for number, cells in rows:
        result = _budget(number, cells, tree)
        if isinstance(result, tuple):
            report.rejected.append((number, result))
        else:
            report.budgets.append(result)
    return report


async def store_budgets(session: AsyncSession, report: BudgetReport, *, default_branch: str) -> int:
    """Write the budgets (replacing earlier figures); unknown branches are rejected. The count stored."""
    stored = 0
    for budget in report.budgets:
        name = budget.branch or default_branch
        branch_id = await session.scalar(select(col(Branch.id)).where(col(Branch.name) == name))
        if branch_id is None:
            report.rejected.append((budget.number, (branch_unknown(name),)))
            continue
        ledger = await open_ledger(session, int(branch_id), opened_on=date(budget.year, 1, 1))
        found = await session.scalar(select(FundBudget).where(
            col(FundBudget.ledger_id) == ledger.id, col(FundBudget.year) == budget.year,
            col(FundBudget.category_code) == budget.category_code))
        if found is None:
            session.add(FundBudget(ledger_id=ledger.id or 0, year=budget.year,
                                   category_code=budget.category_code, amount_fen=budget.amount_fen))
        else:
            found.amount_fen = budget.amount_fen
        stored += 1
    await session.flush()
    return stored
