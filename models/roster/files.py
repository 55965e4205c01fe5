"""Reading a roster file: the lines of a ``.csv`` (UTF-8 or GBK) or ``.xlsx`` file."""

from __future__ import annotations

import csv
import io
import logging
import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import openpyxl

from models.roster.cells import Cell
from models.roster.header import RosterRow, rows_under_header
from models.roster.problems import RosterError

logger = logging.getLogger(__name__)


def read_rows(path: Path) -> list[RosterRow]:
    """The data rows of a ``.csv`` or ``.xlsx`` roster, keyed by the (stripped) header."""
    suffix = path.suffix.lower()
    lines: Sequence[Sequence[Cell]]
    if suffix == ".csv":
        lines = _csv_lines(_read_bytes(path))
    elif suffix == ".xlsx":
        lines = _xlsx_lines(path)
    else:
        raise RosterError("unsupported_type", suffix=path.suffix or path.name)
    return rows_under_header(lines)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise RosterError("not_found", path=str(path)) from exc
    except OSError as exc:
        raise RosterError("unreadable", path=str(path), error=str(exc.strerror or exc)) from exc


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (covers GBK, as Excel on Windows saves)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterError("unknown_encoding") from exc


def _csv_lines(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterError("bad_csv", error=str(exc)) from exc


def _xlsx_lines(path: Path) -> list[list[Cell]]:
    """Every row of the first sheet, row 1 first, empty rows kept (so numbers stay right)."""
    if not path.is_file():
        raise RosterError("not_found", path=str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # style / extension notes of other producers
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                sheet.reset_dimensions()  # some producers write wrong dimensions
                rows = sheet.iter_rows(values_only=True)
                return [[_cell(value) for value in row] for row in rows]
            finally:
                workbook.close()
    except Exception as exc:  # openpyxl raises many kinds of error for a broken file
        logger.debug("cannot read %s", path, exc_info=True)
        raise RosterError("bad_xlsx", name=path.name) from exc


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | date | float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)  # bool, time, timedelta, …
