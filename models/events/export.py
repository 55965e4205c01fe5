"""Exporting an event's roster — 导出报名名单 — as an Excel (.xlsx) or CSV file.

Columns: 工号, 姓名, 分工会, 人数, 备注, the event's own fields (e.g. 尺码), 报名时间,
状态, 签到. Those with a place come first in the order places were given, then the
waitlist. Text that a spreadsheet would run as a formula (``=…``) stays text.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from models.events.queries import RosterLine, roster
from models.events.tables import CONFIRMED, Event

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


def table_rows(event: Event, lines: Sequence[RosterLine], tz: ZoneInfo) -> list[list[Any]]:
    """The rows under the header; 报名时间 as a local time without zone."""
    fields = event.field_names
    return [
        [
            line.staff_no, line.name, line.branch, line.party, line.note or "",
            *(line.answers.get(name, "") for name in fields),
            line.signed_up_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0),
            _status(line), _checked_in(line, tz),
        ]
        for line in lines
    ]


def file_name(event: Event, fmt: str) -> str:
    """``A3-教职工羽毛球赛-报名名单.xlsx``, without characters file systems refuse."""
    title = _UNSAFE_NAME.sub("_", event.title).strip(" ._") or "活动"
    return f"{event.code}-{title}-报名名单.{fmt}"


def _text(value: str) -> str:
    return _CONTROL.sub("", value)


def to_xlsx(head: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> bytes:
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
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value, WriteOnlyCell) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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


def build(event: Event, lines: Sequence[RosterLine], tz: ZoneInfo, fmt: str) -> ExportFile:
    """The export file of ``lines`` (CPU only, no database)."""
    head = header(event)
    rows = table_rows(event, lines, tz)
    if fmt == "xlsx":
        data = to_xlsx(head, rows, f"{event.code} {event.title}")
    elif fmt == "csv":
        data = to_csv(head, rows)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return ExportFile(file_name(event, fmt), CONTENT_TYPES[fmt], data, len(rows))


async def export_roster(session: AsyncSession, event: Event, *, tz: ZoneInfo, fmt: str) -> ExportFile:
    """Read the roster, then build the file in a worker thread (it is CPU work)."""
    assert event.id is not None
    lines = await roster(session, event.id)
    return await asyncio.to_thread(build, event, lines, tz, fmt)
