"""Roster import — 名册导入: the union's member list from a CSV or XLSX file.

Three steps, each usable on its own:

- ``read_rows``      the file → ``RosterRow``s (spreadsheet row number + cells by column)
- ``validate_row``   one row's cells → a clean ``RosterEntry`` or the reason it is refused;
  ``validate_rows`` does every row and also refuses rows sharing a 工号
- ``import_roster``  validates the whole file, then upserts by 工号 in one write transaction

A file that cannot be used at all (unreadable, empty, a required column missing) raises
``RosterError`` and nothing is stored. A bad row is refused as a whole, reported with its
row number and reason, and the good rows are imported.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import openpyxl
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.audit import AuditLog
from models.base import utcnow
from models.db import Database
from models.org import ROLE_LABELS, Branch, Member, MemberChild, MemberRole, Role

logger = logging.getLogger(__name__)

Cell = str | int | float | date | None  # what a cell holds once read (datetime is a date)

REQUIRED_COLUMNS = ("工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机")
OPTIONAL_COLUMNS = ("部门", "入职日期", "子女出生日期")
KNOWN_COLUMNS = frozenset((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
HEADER_SEARCH = 20  # leading non-empty lines in which the header row is looked for
ROOT_ALIASES = frozenset({"校工会"})  # a 分工会 cell meaning the whole union
EARLIEST_DATE = date(1900, 1, 1)
HIRE_DATE_LEAD = timedelta(days=366)  # a roster may list staff who start within a year
CHUNK = 500  # rows written per batch, and how often progress is reported
_IN_LIMIT = 1000  # ids per ``IN (...)`` list

_T = TypeVar("_T")


class RosterError(ValueError):
    """The roster file as a whole cannot be imported; ``str(exc)`` says why, in Chinese."""


class Rejection(NamedTuple):
    """A refused row: its spreadsheet row number, its 工号 (may be empty) and why."""

    row: int
    staff_no: str
    reason: str


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One non-empty data row as read: spreadsheet row number (header = 1) and cells."""

    number: int
    cells: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One member as the roster describes them, checked and normalised."""

    staff_no: str
    name: str
    gender: str | None
    birth_date: date | None
    branch: str
    roles: frozenset[Role]
    phone: str | None
    department: str | None
    hire_date: date | None
    children: tuple[date, ...]  # sorted; twins appear twice


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "deactivated": self.deactivated,
            "rejected": len(self.rejected),
        }

    def summary(self) -> str:
        """Chinese text: one line of counts, then one line per refused row."""
        lines = ["试运行：以下是将会发生的变化，数据库没有改动。"] if self.dry_run else []
        lines.append(
            f"共 {self.total} 行：新增 {self.created} 人，更新 {self.updated} 人，"
            f"未变 {self.unchanged} 人，停用 {self.deactivated} 人，拒绝 {len(self.rejected)} 行"
        )
        for rejection in self.rejected:
            who = f"（工号 {rejection.staff_no}）" if rejection.staff_no else ""
            lines.append(f"第 {rejection.row} 行{who}：{rejection.reason}")
        return "\n".join(lines)


# ---------------------------------------------------------------- reading the file


def read_rows(path: Path) -> list[RosterRow]:
    """The data rows of a ``.csv`` or ``.xlsx`` roster, keyed by the (stripped) header."""
    suffix = path.suffix.lower()
    lines: Sequence[Sequence[Cell]]
    if suffix == ".csv":
        lines = _csv_lines(_read_bytes(path))
    elif suffix == ".xlsx":
        lines = _xlsx_lines(path)
    else:
        raise RosterError(
            f"不支持的名册文件类型「{path.suffix or path.name}」：请使用 .csv 或 .xlsx"
            "（.xls 请在 Excel 中另存为 .xlsx）"
        )
    return _rows_under_header(lines)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise RosterError(f"找不到名册文件：{path}") from exc
    except OSError as exc:
        raise RosterError(f"无法读取名册文件 {path}：{exc.strerror or exc}") from exc


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (covers GBK, as Excel on Windows saves)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterError("无法识别名册文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV") from exc


def _csv_lines(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterError(f"CSV 文件格式有误：{exc}") from exc


def _xlsx_lines(path: Path) -> list[list[Cell]]:
    """Every row of the first sheet, row 1 first, empty rows kept (so numbers stay right)."""
    if not path.is_file():
        raise RosterError(f"找不到名册文件：{path}")
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
        raise RosterError(f"无法读取 Excel 文件 {path.name}：请确认它是有效的 .xlsx 文件") from exc


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | date | float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)  # bool, time, timedelta, …


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_name(value: Cell) -> str:
    return "" if value is None else _text(value).replace("\ufeff", "").strip()


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


def _rows_under_header(lines: Sequence[Sequence[Cell]]) -> list[RosterRow]:
    """The header row is found by its column names; the non-empty lines below are data rows."""
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if not all(map(_blank, line))]
    if not numbered:
        raise RosterError("名册是空的：文件里没有表头，也没有数据行")
    at = _header_at(numbered)
    header_number, header_line = numbered[at]
    header = [_header_name(value) for value in header_line]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RosterError(
            f"名册缺少必需的列：{'、'.join(missing)}（第 {header_number} 行是表头，"
            f"必需的列为 {','.join(REQUIRED_COLUMNS)}）"
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
        raise RosterError("名册是空的：表头下面没有数据行")
    return rows


# ---------------------------------------------------------------- checking one cell


class _Invalid(Exception):
    """One cell cannot be used; the message is the reason, in Chinese."""


def _text(value: Cell) -> str:
    """A cell as normalised text (NFKC, stripped); whole-number floats lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def _shown(text: str, limit: int = 30) -> str:
    """A value as quoted back in a reason: one line, not too long."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STAFF_NO = re.compile(r"[A-Za-z0-9_-]+")


def _staff_no(value: Cell) -> str:
    text = _text(value)
    if not text:
        raise _Invalid("工号为空")
    if len(text) > 32:
        raise _Invalid(f"工号「{_shown(text)}」超过 32 个字符")
    if not _STAFF_NO.fullmatch(text):
        raise _Invalid(f"工号「{_shown(text)}」只能包含字母、数字、下划线和连字符")
    return text


def _bounded(value: Cell, column: str, *, required: bool, limit: int = 64) -> str | None:
    text = _text(value)
    if not text:
        if required:
            raise _Invalid(f"{column}为空")
        return None
    if len(text) > limit:
        raise _Invalid(f"{column}「{_shown(text)}」超过 {limit} 个字符")
    return text


def _required(value: Cell, column: str) -> str:
    return _bounded(value, column, required=True) or ""


_GENDERS = {
    "男": "男", "男性": "男", "m": "男", "male": "男",
    "女": "女", "女性": "女", "f": "女", "female": "女",
}


def _gender(value: Cell) -> str | None:
    text = _text(value)
    if not text:
        return None
    gender = _GENDERS.get(text.lower())
    if gender is None:
        raise _Invalid(f"性别「{_shown(text)}」应为 男 或 女")
    return gender


_DATE_FORMS = (
    re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?:[ T][0-9:.]+)?"),
    re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)


# Excel stores a date as the number of days since 1899-12-30 (its «serial»): a date column
# formatted as a plain number shows 32874 for 1990-01-01. Serials are read from 1910 to 2099
# only; smaller numbers would be years (1985) and larger ones are no date of this roster.
_SERIAL_EPOCH = date(1899, 12, 30)
_SERIALS = range((date(1910, 1, 1) - _SERIAL_EPOCH).days, (date(2100, 1, 1) - _SERIAL_EPOCH).days)
_SERIAL_TEXT = re.compile(r"[0-9]{4,5}(?:\.[0-9]+)?")


def _serial_date(value: Cell, text: str) -> date | None:
    """The date an Excel serial number stands for (a time of day is dropped), or None."""
    if isinstance(value, bool) or not (isinstance(value, int | float) or _SERIAL_TEXT.fullmatch(text)):
        return None
    days = int(float(text))
    return _SERIAL_EPOCH + timedelta(days=days) if days in _SERIALS else None


def _parse_date(value: Cell) -> date | None:
    """A date cell, text like 1985-03-02, 1985/3/2, 1985.3.2, 1985年3月2日, 19850302,
    or an Excel date serial such as 31108 (a number cell or plain digits)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return _serial_date(value, text)


def _date(value: Cell, column: str, *, latest: date) -> date | None:
    """An optional date between 1900-01-01 and ``latest``; a bad one names column and value."""
    if _blank(value):
        return None
    day = _parse_date(value)
    shown = _shown(_text(value))
    if day is None:
        raise _Invalid(f"{column}「{shown}」不是有效日期（例如 1985-03-02）")
    if not EARLIEST_DATE <= day <= latest:
        raise _Invalid(f"{column}「{shown}」不在 {EARLIEST_DATE} 至 {latest} 之间")
    return day


_ROLE_SPLIT = re.compile(r"[、,，;；/\s]+")


def _role(word: str) -> Role | None:
    role = Role.from_label(word)
    if role is None and word.lower() in {role.value for role in Role}:
        role = Role(word.lower())
    return role


def _roles(value: Cell) -> frozenset[Role]:
    """Roles by their Chinese labels; 会员 always included, an empty cell means just 会员."""
    words = [word for word in _ROLE_SPLIT.split(_text(value)) if word]
    found = {word: _role(word) for word in words}
    unknown = [word for word, role in found.items() if role is None]
    if unknown:
        known = "、".join(ROLE_LABELS.values())
        raise _Invalid(f"角色「{_shown('、'.join(unknown))}」无法识别（可用：{known}）")
    return frozenset({Role.MEMBER, *(role for role in found.values() if role is not None)})


_MOBILE = re.compile(r"1[0-9]{10}")
_PHONE = re.compile(r"[0-9][0-9-]{5,18}[0-9]")


def _phone(value: Cell) -> str | None:
    text = "".join(_text(value).split())
    if not text:
        return None
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    if _MOBILE.fullmatch(text) or _PHONE.fullmatch(text):
        return text
    raise _Invalid(f"手机「{_shown(_text(value))}」不像电话号码（例如 13800000001）")


_CHILD_SPLIT = re.compile(r"[；;、,，]+")


def _children(value: Cell, *, latest: date) -> tuple[date, ...]:
    if isinstance(value, date):
        parts: list[Cell] = [value]
    else:
        parts = [part for part in _CHILD_SPLIT.split(_text(value)) if part.strip()]
    days = [_date(part, "子女出生日期", latest=latest) for part in parts]
    return tuple(sorted(day for day in days if day is not None))


# ---------------------------------------------------------------- checking rows


class _Reasons:
    """Collects the reasons a row is refused, so one pass reports every bad cell."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def take(self, parse: Callable[[], _T], fallback: _T) -> _T:
        try:
            return parse()
        except _Invalid as exc:
            self.reasons.append(str(exc))
            return fallback


def validate_row(cells: Mapping[str, Cell], *, today: date | None = None) -> RosterEntry | str:
    """One row's cells (keyed by column) → a ``RosterEntry``, or why the row is refused."""
    today = today or date.today()
    check = _Reasons()
    staff_no = check.take(lambda: _staff_no(cells.get("工号")), "")
    name = check.take(lambda: _required(cells.get("姓名"), "姓名"), "")
    gender = check.take(lambda: _gender(cells.get("性别")), None)
    birth = check.take(lambda: _date(cells.get("出生日期"), "出生日期", latest=today), None)
    branch = check.take(lambda: _required(cells.get("分工会"), "分工会"), "")
    roles = check.take(lambda: _roles(cells.get("角色")), frozenset({Role.MEMBER}))
    phone = check.take(lambda: _phone(cells.get("手机")), None)
    department = check.take(
        lambda: _bounded(cells.get("部门"), "部门", required=False), None
    )
    hire = check.take(
        lambda: _date(cells.get("入职日期"), "入职日期", latest=today + HIRE_DATE_LEAD), None
    )
    no_children: tuple[date, ...] = ()
    children = check.take(lambda: _children(cells.get("子女出生日期"), latest=today), no_children)
    if check.reasons:
        return "；".join(check.reasons)
    if department is None and Role.HANDLER in roles:
        department = branch
    return RosterEntry(
        staff_no=staff_no, name=name, gender=gender, birth_date=birth, branch=branch,
        roles=roles, phone=phone, department=department, hire_date=hire, children=children,
    )


def _duplicate_reasons(rows: Sequence[RosterRow]) -> dict[int, str]:
    """Row number → reason, for every row whose 工号 appears on another row too."""
    by_staff_no: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        staff_no = _text(row.cells.get("工号"))
        if staff_no:
            by_staff_no[staff_no].append(row.number)
    reasons: dict[int, str] = {}
    for staff_no, numbers in by_staff_no.items():
        for number in numbers if len(numbers) > 1 else ():
            others = "、".join(str(other) for other in numbers if other != number)
            reasons[number] = f"工号「{_shown(staff_no)}」重复（另见第 {others} 行）"
    return reasons


def validate_rows(
    rows: Sequence[RosterRow], *, today: date | None = None
) -> tuple[list[RosterEntry], list[Rejection]]:
    """Every row checked: the accepted entries, and the refused rows in file order."""
    duplicates = _duplicate_reasons(rows)
    accepted: list[RosterEntry] = []
    rejected: list[Rejection] = []
    for row in rows:
        result = validate_row(row.cells, today=today)
        reasons = [r for r in (duplicates.get(row.number), result) if isinstance(r, str)]
        if reasons:
            staff_no = _shown(_text(row.cells.get("工号")), 32)
            rejected.append(Rejection(row.number, staff_no, "；".join(reasons)))
        elif isinstance(result, RosterEntry):
            accepted.append(result)
    return accepted, rejected


# ---------------------------------------------------------------- writing


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run, so everything rolls back."""


@dataclass(slots=True)
class _Stored:
    """A member as stored, in the shape an entry is compared with."""

    id: int
    active: bool
    values: dict[str, Any]
    roles: frozenset[str] = frozenset()
    children: tuple[date, ...] = ()


_COMPARED = ("name", "gender", "birth_date", "branch_id", "department", "phone", "hire_date")


def _values(entry: RosterEntry, branch_id: int) -> dict[str, Any]:
    return {
        "name": entry.name, "gender": entry.gender, "birth_date": entry.birth_date,
        "branch_id": branch_id, "department": entry.department, "phone": entry.phone,
        "hire_date": entry.hire_date,
    }


def _role_values(entry: RosterEntry) -> frozenset[str]:
    return frozenset(role.value for role in entry.roles)


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def _branch_key(name: str, union_name: str) -> str:
    return union_name if name == union_name or name in ROOT_ALIASES else name


async def _branch_ids(
    *, session: AsyncSession, union_name: str, names: Iterable[str]
) -> dict[str, int]:
    """Branch name → id for the root and every named branch, creating missing ones."""
    rows = (await session.execute(select(col(Branch.id), col(Branch.name)))).all()
    ids: dict[str, int] = {name: id_ for id_, name in rows}
    if union_name not in ids:
        ids[union_name] = await _add_branch(session=session, name=union_name, parent_id=None)
    for name in sorted({_branch_key(name, union_name) for name in names} - ids.keys()):
        ids[name] = await _add_branch(session=session, name=name, parent_id=ids[union_name])
    return ids


async def _add_branch(*, session: AsyncSession, name: str, parent_id: int | None) -> int:
    branch = Branch(name=name, parent_id=parent_id)
    session.add(branch)
    await session.flush()
    assert branch.id is not None
    logger.info("roster: created branch %s", name)
    return branch.id


async def _stored_members(session: AsyncSession) -> dict[str, _Stored]:
    """Every member by 工号, with roles and children: three queries, whatever the size."""
    columns = [col(getattr(Member, name)) for name in _COMPARED]
    query = select(col(Member.id), col(Member.staff_no), col(Member.active), *columns)
    result = await session.execute(query)
    stored: dict[str, _Stored] = {}
    by_id: dict[int, _Stored] = {}
    for id_, staff_no, active, *values in result.all():
        values_by_name = dict(zip(_COMPARED, values, strict=True))
        stored[staff_no] = by_id[id_] = _Stored(id_, active, values_by_name)
    roles: dict[int, set[str]] = defaultdict(set)
    role_rows = await session.execute(select(col(MemberRole.member_id), col(MemberRole.role)))
    for member_id, role in role_rows.all():
        roles[member_id].add(role)
    children: dict[int, list[date]] = defaultdict(list)
    child_query = select(col(MemberChild.member_id), col(MemberChild.birth_date))
    child_rows = await session.execute(child_query)
    for member_id, birth_date in child_rows.all():
        children[member_id].append(birth_date)
    for id_, member in by_id.items():
        member.roles = frozenset(roles.get(id_, ()))
        member.children = tuple(sorted(children.get(id_, ())))
    return stored


@dataclass(slots=True)
class _Batch:
    """The writes one chunk of entries needs."""

    new: list[tuple[RosterEntry, dict[str, Any]]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # id + values
    roles: dict[int, RosterEntry] = field(default_factory=dict)  # member id → entry
    children: dict[int, RosterEntry] = field(default_factory=dict)
    unchanged: int = 0


def _plan(
    entries: Iterable[RosterEntry],
    *,
    stored: Mapping[str, _Stored],
    branch_of: Callable[[str], int],
    columns: frozenset[str],
) -> _Batch:
    """What to write for ``entries``; an optional column the file lacks keeps what is stored."""
    batch = _Batch()
    for entry in entries:
        values = _values(entry, branch_of(entry.branch))
        member = stored.get(entry.staff_no)
        if member is None:
            batch.new.append((entry, values))
            continue
        for column, key in (("部门", "department"), ("入职日期", "hire_date")):
            if column not in columns:
                values[key] = member.values[key]
        same_roles = member.roles == _role_values(entry)
        same_children = "子女出生日期" not in columns or member.children == entry.children
        if member.active and member.values == values and same_roles and same_children:
            batch.unchanged += 1
            continue
        batch.changed.append({"id": member.id, **values})
        if not same_roles:
            batch.roles[member.id] = entry
        if not same_children:
            batch.children[member.id] = entry
    return batch


async def _write(*, session: AsyncSession, batch: _Batch, now: datetime) -> None:
    if batch.new:
        rows = [
            {"staff_no": entry.staff_no, **values, "active": True,
             "created_at": now, "updated_at": now}
            for entry, values in batch.new
        ]
        query = (
            insert(Member)
            .returning(col(Member.id), col(Member.staff_no))
            .execution_options(render_nulls=True)  # one batch, not one per pattern of NULLs
        )
        ids = {staff_no: id_ for id_, staff_no in (await session.execute(query, rows)).all()}
        for entry, _ in batch.new:
            batch.roles[ids[entry.staff_no]] = entry
            batch.children[ids[entry.staff_no]] = entry
    if batch.changed:
        changes = [{**change, "active": True, "updated_at": now} for change in batch.changed]
        await session.execute(update(Member), changes)
    await _replace_roles(session=session, entries=batch.roles)
    await _replace_children(session=session, entries=batch.children)


async def _replace_roles(*, session: AsyncSession, entries: Mapping[int, RosterEntry]) -> None:
    ids = list(entries)
    for chunk in _chunks(ids, _IN_LIMIT):
        await session.execute(delete(MemberRole).where(col(MemberRole.member_id).in_(chunk)))
    rows = [
        {"member_id": id_, "role": role.value}
        for id_, entry in entries.items()
        for role in sorted(entry.roles)
    ]
    if rows:
        await session.execute(insert(MemberRole), rows)


async def _replace_children(*, session: AsyncSession, entries: Mapping[int, RosterEntry]) -> None:
    ids = list(entries)
    for chunk in _chunks(ids, _IN_LIMIT):
        await session.execute(delete(MemberChild).where(col(MemberChild.member_id).in_(chunk)))
    rows = [
        {"member_id": id_, "birth_date": birth_date}
        for id_, entry in entries.items()
        for birth_date in entry.children
    ]
    if rows:
        await session.execute(insert(MemberChild), rows)


async def _deactivate(*, session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(ids, _IN_LIMIT):
        await session.execute(
            update(Member)
            .where(col(Member.id).in_(chunk))
            .values(active=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def _apply(
    *,
    session: AsyncSession,
    entries: Sequence[RosterEntry],
    union_name: str,
    listed: frozenset[str],
    columns: frozenset[str],
    deactivate_missing: bool,
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """All the writes of one import, in the caller's transaction; fills ``report``."""
    now = utcnow()
    branches = await _branch_ids(
        session=session, union_name=union_name, names=(e.branch for e in entries)
    )
    stored = await _stored_members(session)

    def branch_of(name: str) -> int:
        return branches[_branch_key(name, union_name)]

    for done, chunk in enumerate(_chunks(entries, CHUNK), start=1):
        batch = _plan(chunk, stored=stored, branch_of=branch_of, columns=columns)
        await _write(session=session, batch=batch, now=now)
        report.created += len(batch.new)
        report.updated += len(batch.changed)
        report.unchanged += batch.unchanged
        if progress is not None:
            progress(min(done * CHUNK, len(entries)), len(entries))
    if progress is not None and not entries:
        progress(0, 0)
    if deactivate_missing:
        if not entries:
            logger.warning("roster: no row accepted, so no member is deactivated")
            return
        gone = [m.id for no, m in stored.items() if m.active and no not in listed]
        await _deactivate(session=session, ids=gone, now=now)
        report.deactivated = len(gone)


def _load(path: Path) -> tuple[list[RosterRow], list[RosterEntry], list[Rejection]]:
    rows = read_rows(path)
    accepted, rejected = validate_rows(rows)
    return rows, accepted, rejected


async def import_roster(
    *,
    db: Database,
    path: Path,
    union_name: str,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the roster at ``path``: upsert members by 工号 in one write transaction.

    New members are added; changed ones updated (and made active again), their roles and
    children replaced by the file's; unchanged ones left alone. With
    ``deactivate_missing``, active members whose 工号 is on no row of the file are made
    inactive. ``dry_run`` does the same work and rolls it back. ``progress(done, total)``
    counts accepted rows as they are written, every ``CHUNK`` rows and at the end.
    Raises ``RosterError`` (nothing stored) when the file cannot be used at all.
    """
    rows, entries, rejected = await asyncio.to_thread(_load, path)
    report = ImportReport(total=len(rows), rejected=rejected, dry_run=dry_run)
    listed = frozenset(_text(row.cells.get("工号")) for row in rows)  # refused rows too
    columns = frozenset(rows[0].cells) if rows else frozenset()
    try:
        async with db.write() as session:
            await _apply(
                session=session, entries=entries, union_name=union_name, listed=listed,
                columns=columns, deactivate_missing=deactivate_missing, report=report, progress=progress,
            )
            if dry_run:
                raise _DryRun
            session.add(AuditLog(
                actor="cli", action="roster_import", target=path.name[:128],
                after=json.dumps(report.counts(), ensure_ascii=False),
            ))
    except _DryRun:
        pass
    logger.info(
        "roster %s%s: %d rows, %d created, %d updated, %d unchanged, %d deactivated, "
        "%d rejected", path.name, " (dry run)" if dry_run else "", report.total,
        report.created, report.updated, report.unchanged, report.deactivated,
        len(report.rejected),
    )
    return report
