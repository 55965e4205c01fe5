"""Importing an existing ledger — 导入流水 — from a CSV (UTF-8 or GBK) or XLSX file.

Columns (the header row is found by its names; title rows above it are skipped):
日期, 收支 (收入/支出), 金额, 类别, 摘要 (or 事项); optional 分工会 (empty: the ledger named
by ``--branch``, else the union's own). Each row is checked on its own; a bad row is
reported with its spreadsheet row number and reason, and the good rows are imported,
in date order, in one transaction. Importing the same file again adds nothing: rows
already in the books (same day, kind, amount, category and text, counted) are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.funds.amounts import parse_amount
from models.funds.categories import CategoryTree
from models.funds.ledger import NewEntry, append, find_ledger, open_ledger
from models.funds.refusals import Problem, Refused, Unusable
from models.funds.tables import DESCRIPTION_MAX, FundEntry, Kind
from models.org import Branch

Cell = Any
COLUMNS = {"日期": ("日期", "记账日期", "发生日期"), "收支": ("收支", "收/支", "类型"),
           "金额": ("金额", "金额（元）", "金额(元)"), "类别": ("类别", "科目", "收支科目"),
           "摘要": ("摘要", "事项", "说明", "用途"), "分工会": ("分工会", "账本", "单位")}
REQUIRED = ("日期", "收支", "金额", "类别", "摘要")
_KINDS = {"收": Kind.INCOME, "收入": Kind.INCOME, "支": Kind.EXPENSE, "支出": Kind.EXPENSE}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SERIAL_EPOCH = date(1899, 12, 30)


class ImportError_(Unusable):
    """The file as a whole cannot be used; ``code`` and ``values`` say why."""


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the spreadsheet row (header = its own number)
    day: date
    kind: Kind
    amount_fen: int
    category_code: str
    description: str
    branch: str | None

    def key(self) -> tuple[Any, ...]:
        return (self.branch, self.day, self.kind.value, self.amount_fen, self.category_code, self.description)


@dataclass(slots=True)
class Checked:
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, tuple[Problem, ...]]] = field(default_factory=list)  # (row number, reasons)
    total: int = 0


def read_lines(path: Path) -> list[list[Cell]]:
    """Every line of the file (first sheet of an XLSX), numbered from 1 by position."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ImportError_("import_no_file", path=path)
    if suffix == ".csv":
        return _csv(path.read_bytes())
    if suffix == ".xlsx":
        return _xlsx(path)
    raise ImportError_("import_file_type", suffix=path.suffix or path.name)


def _csv(data: bytes) -> list[list[Cell]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportError_("import_encoding")
    first = text.split("\n", 1)[0]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if "\t" in first else ","))


def _xlsx(path: Path) -> list[list[Cell]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
    except Exception as exc:  # openpyxl raises many kinds of error for a broken file
        raise ImportError_("import_bad_xlsx", name=path.name) from exc


def _name(cell: Cell) -> str:
    return "" if cell is None else str(cell).replace("\ufeff", "").strip()


def _header(lines: Sequence[Sequence[Cell]]) -> tuple[int, dict[str, int]]:
    """The header's index and where each known column is."""
    aliases = {alias: column for column, names in COLUMNS.items() for alias in names}
    for index, line in enumerate(lines[:10]):
        found = {aliases[_name(c)]: i for i, c in enumerate(line) if _name(c) in aliases}
        if all(column in found for column in REQUIRED):
            return index, found
    raise ImportError_("import_no_header", columns=REQUIRED)


def _day(cell: Cell) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool) and 20000 < cell < 80000:
        return _SERIAL_EPOCH + timedelta(days=int(cell))
    match = _DATE.fullmatch(_name(cell))
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _amount_text(cell: Cell) -> str:
    if isinstance(cell, float):
        return format(Decimal(repr(cell)), "f")
    return _name(cell)


def _check(
    cells: dict[str, Cell], tree: CategoryTree, today: date, max_yuan: int,
) -> Row | tuple[Problem, ...]:
    reasons = []
    day = _day(cells["日期"])
    if day is None:
        reasons.append(Problem("row_date_bad", {"text": _name(cells["日期"])}))
    elif day > today:
        reasons.append(Problem("row_date_future", {"day": day.isoformat()}))
    kind = _KINDS.get(_name(cells["收支"]))
    if kind is None:
        reasons.append(Problem("row_kind_bad", {"text": _name(cells["收支"])}))
    amount, code = 0, ""
    try:
        amount = parse_amount(_amount_text(cells["金额"]), max_yuan=max_yuan)
    except Refused as exc:
        reasons.append(amount_reason(_name(cells["金额"]), exc))
    if kind is not None:
        try:
            code = tree.match(_name(cells["类别"]), kind.value).code
        except Refused as exc:
            reasons.append(category_reason(_name(cells["类别"]), exc))
    text = _name(cells["摘要"])
    if not text or len(text) > DESCRIPTION_MAX:
        reasons.append(Problem("row_description", {"empty": not text, "limit": DESCRIPTION_MAX}))
    if reasons or day is None or kind is None:
        return tuple(reasons)
    return Row(0, day, kind, amount, code, text, _name(cells.get("分工会")) or None)


def category_reason(text: str, exc: Refused) -> Problem:
    candidates = list(exc.values.get("candidates") or [])[:3]
    return Problem("row_category", {"text": text, "ambiguous": exc.code == "category_ambiguous",
                                    "candidates": candidates})


def branch_unknown(name: str) -> Problem:
    return Problem("row_branch_unknown", {"name": name})


def amount_reason(text: str, exc: Refused) -> Problem:
    return Problem("row_amount", {"text": text, "code": exc.code})


def check_file(path: Path, tree: CategoryTree, *, today: date, max_yuan: int) -> Checked:
    """Read and check every row of ``path``."""
    lines = read_lines(path)
    at, positions = _header(lines)
    checked = Checked()
    for number, line in enumerate(lines[at + 1:], start=at + 2):
        if all(_name(cell) == "" for cell in line):
            continue
        checked.total += 1
        cells = {column: line[i] if i < len(line) else None for column, i in positions.items()}
        result = _check(cells, tree, today, max_yuan)
        if isinstance(result, tuple):
            checked.rejected.append((number, result))
        else:
            checked.rows.append(replace(result, number=number))
    return checked


def new_rows(rows: Sequence[Row], existing: Counter[tuple[Any, ...]]) -> list[Row]:
    """The rows not yet in the books (identical rows counted), in date order."""
    seen: Counter[tuple[Any, ...]] = Counter()
    fresh = []
    for row in sorted(rows, key=lambda r: (r.day, r.number)):
        seen[row.key()] += 1
        if seen[row.key()] > existing[row.key()]:
            fresh.append(row)
    return fresh


# ---------------------------------------------------------------- into the books


@dataclass(slots=True)
class ImportReport:
    total: int = 0
    added: int = 0
    present: int = 0  # already in the books
    rejected: list[tuple[int, tuple[Problem, ...]]] = field(default_factory=list)
    ledgers: dict[str, int] = field(default_factory=dict)  # branch name → rows added
    dry_run: bool = False


async def _existing(session: AsyncSession, ledger_id: int, branch: str) -> Counter[tuple[Any, ...]]:
    rows = await session.execute(select(
        col(FundEntry.occurred_on), col(FundEntry.kind), col(FundEntry.amount_fen),
        col(FundEntry.category_code), col(FundEntry.description),
    ).where(col(FundEntry.ledger_id) == ledger_id))
    return Counter((branch, *row) for row in rows.all())


async def _branches(session: AsyncSession, rows: Sequence[Row], default: str) -> dict[str, int]:
    names = {row.branch or default for row in rows}
    found = await session.execute(select(col(Branch.name), col(Branch.id)).where(col(Branch.name).in_(names)))
    return {str(name): int(branch_id) for name, branch_id in found.all()}


async def import_rows(
    session: AsyncSession, checked: Checked, *, default_branch: str, now: datetime, write: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Add the checked rows not yet in the books (nothing is written unless ``write``)."""
    report = ImportReport(total=checked.total, rejected=list(checked.rejected), dry_run=not write)
    rows = [replace(r, branch=r.branch or default_branch) for r in checked.rows]
    known = await _branches(session, rows, default_branch)
    report.rejected += [(r.number, (branch_unknown(r.branch or ""),)) for r in rows if r.branch not in known]
    done = 0
    for name, branch_id in known.items():
        mine = [r for r in rows if r.branch == name]
        ledger = await find_ledger(session, branch_id)
        fresh = new_rows(mine, await _existing(session, ledger.id or 0, name) if ledger else Counter())
        report.present += len(mine) - len(fresh)
        if write and fresh:
            await _append_all(session, branch_id, fresh, now)
        report.ledgers[name] = len(fresh)
        report.added += len(fresh)
        done += len(mine)
        if progress is not None:
            progress(done, len(rows))
    report.rejected.sort(key=lambda rejection: rejection[0])
    return report


async def _append_all(session: AsyncSession, branch_id: int, rows: Sequence[Row], now: datetime) -> None:
    earliest = min(row.day for row in rows)
    ledger = await open_ledger(session, branch_id, opened_on=earliest)
    if ledger.opened_on > earliest:
        ledger.opened_on = earliest
    for row in rows:
        await append(session, ledger, NewEntry(
            kind=row.kind, amount_fen=row.amount_fen, category_code=row.category_code,
            description=row.description, occurred_on=row.day), now)
