"""``unionbot funds export``: a statement in the customary 收支表 layout (XLSX).

A merged title and period line, then income items beside expenditure items (top-level
categories, their details indented), the totals, opening and closing balances, budget
against actual and 慰问 counts where there are any, the checkpoint of a published
statement, and the sign-off row (工会主席 / 经费审查委员会 / 制表). Amounts are numbers
(two decimals shown), so the sheet can be summed and checked. The period and checkpoint
lines are sentences of ``templates/notices/funds.txt.j2``, rendered by ``words(macro, **values)``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from models.funds.figures import Figures, Line

MONEY = "#,##0.00"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_BOLD = Font(bold=True)


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


def _items(lines: list[Line]) -> list[tuple[str, int]]:
    """Top-level lines, each followed by its details, indented."""
    items = []
    for line in lines:
        items.append((line.name, line.amount_fen))
        items += [(f"　　{child.name}", child.amount_fen) for child in line.children]
    return items


def _row(sheet: Worksheet, values: list[Any], *, bold: bool = False) -> int:
    sheet.append(values)
    number: int = sheet.max_row
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(number, column)
        cell.border = _BOX
        if isinstance(value, float):
            cell.number_format = MONEY
        if bold:
            cell.font = _BOLD
    return number


Words = Callable[..., str]


def _title(sheet: Worksheet, ledger: str, figures: Figures, start: date, end: date, words: Words) -> None:
    sheet.append([f"{ledger}经费收支表"])
    sheet.append([words("statement_period", label=figures.label, start=start.isoformat(),
                        last=(end - timedelta(days=1)).isoformat())])
    for number in (1, 2):
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=4)
        sheet.cell(number, 1).alignment = Alignment(horizontal="center")
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    _row(sheet, ["收入项目", "金额", "支出项目", "金额"], bold=True)


def _body(sheet: Worksheet, figures: Figures) -> None:
    income, expense = _items(figures.income), _items(figures.expense)
    for index in range(max(len(income), len(expense))):
        left = income[index] if index < len(income) else ("", None)
        right = expense[index] if index < len(expense) else ("", None)
        _row(sheet, [left[0], _yuan(left[1]) if left[1] is not None else None,
                     right[0], _yuan(right[1]) if right[1] is not None else None])
    _row(sheet, ["收入合计", _yuan(figures.income_fen), "支出合计", _yuan(figures.expense_fen)], bold=True)
    _row(sheet, ["期初余额", _yuan(figures.opening_fen), "期末余额", _yuan(figures.closing_fen)], bold=True)


def _extras(sheet: Worksheet, figures: Figures) -> None:
    if figures.budget:
        _row(sheet, ["预算项目", "全年预算", "已执行", "执行率"], bold=True)
        for line in figures.budget:
            rate = line.actual_fen / line.budget_fen if line.budget_fen else 0
            number = _row(sheet, [line.name, _yuan(line.budget_fen), _yuan(line.actual_fen), rate])
            sheet.cell(number, 4).number_format = "0.0%"
    if figures.relief:
        _row(sheet, ["慰问类型", "人次", "金额", ""], bold=True)
        for kind, count, amount in figures.relief:
            _row(sheet, [kind, count, _yuan(amount), ""])


def _sign_off(sheet: Worksheet, checkpoint: dict[str, Any] | None, maker: str, today: date,
              words: Words) -> None:
    sheet.append([])
    if checkpoint:
        sheet.append([words("statement_checkpoint", entries=checkpoint["entries"], head=checkpoint["head"],
                            fingerprint=checkpoint["fingerprint"])])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=4)
    sheet.append(["工会主席：", "经费审查委员会：", f"制表：{maker}", f"日期：{today.isoformat()}"])


def statement_xlsx(
    ledger: str, figures: Figures, *, start: date, end: date, checkpoint: dict[str, Any] | None,
    maker: str, today: date, words: Words,
) -> bytes:
    """The 收支表 of ``figures`` as XLSX bytes; ``words`` renders a macro of ``notices/funds``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "收支表"
    _title(sheet, ledger, figures, start, end, words)
    _body(sheet, figures)
    _extras(sheet, figures)
    _sign_off(sheet, checkpoint, maker, today, words)
    for column, width in zip("ABCD", (26, 16, 26, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
