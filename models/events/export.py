"""Exporting an event's roster — 导出报名名单 — as an Excel (.xlsx) or CSV file.

Columns: 工号, 姓名, 分工会, 人数, 备注, the event's own fields (e.g. 尺码), 报名时间,
状态, 签到. Those with a place come first in the order places were given, then the
waitlist. Text that a spreadsheet would run as a formula (``=…``) stays text.
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.events.queries import RosterLine, roster
from models.events.tables import CONFIRMED, Event
from models.pacing import paced

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
HEAD = ("工号", "姓名", "分工会", "人数", "备注")
TAIL = ("报名时间", "状态", "签到")
TIME_FORMAT = "%Y-%m-%d %H:%M"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes
    rows: int


def header(event: Event) -> list[str]:
    return [*HEAD, *event.field_names, *TAIL]


def _status(line: RosterLine) -> str:
    return "正式报名" if line.status == CONFIRMED else f"候补第{line.number}位"


def _checked_in(line: RosterLine, tz: ZoneInfo) -> str:
    if line.status != CONFIRMED:
        return ""
    if line.checked_in_at is None:
        return "未签到"
    return f"已签到 {line.checked_in_at.astimezone(tz):%H:%M}"


def table_row(event: Event, line: RosterLine, tz: ZoneInfo) -> list[Any]:
    """One row under the header; 报名时间 as a local time without zone."""
    return [
        line.staff_no, line.name, line.branch, line.party, line.note or "",
        *(line.answers.get(name, "") for name in event.field_names),
        line.signed_up_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0),
        _status(line), _checked_in(line, tz),
    ]


def file_name(event: Event, fmt: str) -> str:
    """``A3-教职工羽毛球赛-报名名单.xlsx``, without characters file systems refuse."""
    title = _UNSAFE_NAME.sub("_", event.title).strip(" ._") or "活动"
    return f"{event.code}-{title}-报名名单.{fmt}"


def _text(value: str) -> str:
    return _CONTROL.sub("", value)


def _sheet(head: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> tuple[Any, Any]:
    """A write-only workbook with one sheet, its column widths and the bold header row."""
    # Imported here rather than with the module: openpyxl takes ~150 ms to load,
    # which every start of the server would pay for a file it may never build.
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=_UNSAFE_NAME.sub("_", sheet)[:31] or "名单")
    worksheet.freeze_panes = "A2"
    for index, width in enumerate(_widths(head, rows), start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    titles = []
    for name in head:
        cell = WriteOnlyCell(worksheet, value=name)
        cell.font = bold
        titles.append(cell)
    worksheet.append(titles)
    return workbook, worksheet


def _append(worksheet: Any, row: Sequence[Any]) -> None:
    from openpyxl.cell import WriteOnlyCell

    worksheet.append([_xlsx_cell(worksheet, value, WriteOnlyCell) for value in row])


def _saved(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_xlsx(head: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> bytes:
    """The sheet in one go (for the CLI, which has no one else to serve)."""
    workbook, worksheet = _sheet(head, rows, sheet)
    for row in rows:
        _append(worksheet, row)
    return _saved(workbook)


async def xlsx_paced(head: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> bytes:
    """The same file, built on the event loop in short slices (openpyxl is pure Python:
    in a worker thread it would hold the GIL and stall the loop all the same); the
    zipping, mostly C, in a worker thread."""
    if "openpyxl" not in sys.modules:  # its first import takes ~150 ms of the loop's time
        await asyncio.to_thread(importlib.import_module, "openpyxl")
    workbook, worksheet = _sheet(head, rows, sheet)
    async for row in paced(rows):
        _append(worksheet, row)
    return await asyncio.to_thread(_saved, workbook)


def _xlsx_cell(worksheet: Any, value: Any, make_cell: Any) -> Any:
    if isinstance(value, datetime):
        cell = make_cell(worksheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str):
        cell = make_cell(worksheet, value=_text(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    return value


def _widths(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Column widths that fit the first rows (a CJK character counts double)."""
    def width(value: Any) -> int:
        if isinstance(value, datetime):
            return 16
        text = str(value)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    sample = [head, *rows[:200]]
    return [
        min(40.0, max(6.0, max(width(row[i]) for row in sample) + 2.0)) for i in range(len(head))
    ]


def to_csv(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel on Chinese Windows shows it right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, str):
        value = _text(value)
        if value.startswith(_FORMULA_START):
            return "'" + value  # a spreadsheet would run it as a formula
    return value


async def build(event: Event, lines: Sequence[RosterLine], tz: ZoneInfo, fmt: str) -> ExportFile:
    """The export file of ``lines`` (no database), paced so that webhooks go on being answered."""
    head = header(event)
    rows = [row async for row in paced(table_row(event, line, tz) for line in lines)]
    if fmt == "xlsx":
        data = await xlsx_paced(head, rows, f"{event.code} {event.title}")
    elif fmt == "csv":
        data = await asyncio.to_thread(to_csv, head, rows)  # the csv module is C code
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return ExportFile(file_name(event, fmt), CONTENT_TYPES[fmt], data, len(rows))


async def export_roster(session: AsyncSession, event: Event, *, tz: ZoneInfo, fmt: str) -> ExportFile:
    """Read the roster page by page, then build the file in slices (see ``models.pacing``)."""
    assert event.id is not None
    lines = await roster(session, event.id)
    return await build(event, lines, tz, fmt)
