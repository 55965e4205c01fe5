"""Finding the header of a roster among its lines, and the data rows under it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.roster.cells import Cell, blank, text_of
from models.roster.problems import RosterError

REQUIRED_COLUMNS = ("工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机")
OPTIONAL_COLUMNS = ("部门", "入职日期", "子女出生日期")
KNOWN_COLUMNS = frozenset((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
HEADER_SEARCH = 20  # leading non-empty lines in which the header row is looked for


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One non-empty data row as read: spreadsheet row number (header = 1) and cells."""

    number: int
    cells: dict[str, Cell]


def _header_name(value: Cell) -> str:
    return "" if value is None else text_of(value).replace("\ufeff", "").strip()


def _header_at(numbered: Sequence[tuple[int, Sequence[Cell]]]) -> int:
    """Where the header is: the first of the leading lines naming the most known columns.

    Title rows above it («2026年教职工名册», a date, a unit) name none; a file whose
    lines name no known column at all has its first line taken as the header.
    """
    counts = [
        len(KNOWN_COLUMNS.intersection(map(_header_name, line)))
        for _, line in numbered[:HEADER_SEARCH]
    ]
    return counts.index(max(counts))


def rows_under_header(lines: Sequence[Sequence[Cell]]) -> list[RosterRow]:
    """The header row is found by its column names; the non-empty lines below are data rows."""
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if not all(map(blank, line))]
    if not numbered:
        raise RosterError("no_header")
    at = _header_at(numbered)
    header_number, header_line = numbered[at]
    header = [_header_name(value) for value in header_line]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RosterError(
            "missing_columns", missing=missing, header_row=header_number, required=REQUIRED_COLUMNS
        )
    positions = {
        column: header.index(column)
        for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if column in header
    }
    rows = [
        RosterRow(n, {c: line[i] if i < len(line) else None for c, i in positions.items()})
        for n, line in numbered[at + 1 :]
    ]
    if not rows:
        raise RosterError("no_rows")
    return rows
