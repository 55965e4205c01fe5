"""Checking roster rows: one row's cells → a clean ``RosterEntry`` or the reasons it is
refused; ``validate_rows`` checks every row and also refuses rows sharing a 工号."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple, TypeVar

from models.org import Role
from models.roster import cells as check
from models.roster.cells import Cell, shown, text_of
from models.roster.header import RosterRow
from models.roster.problems import Invalid, Problem

HIRE_DATE_LEAD = timedelta(days=366)  # a roster may list staff who start within a year

_T = TypeVar("_T")


class Rejection(NamedTuple):
    """A refused row: its spreadsheet row number, its 工号 (may be empty) and why."""

    row: int
    staff_no: str
    problems: tuple[Problem, ...]


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


class _Problems:
    """Collects the reasons a row is refused, so one pass reports every bad cell."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def take(self, parse: Callable[[], _T], fallback: _T) -> _T:
        try:
            return parse()
        except Invalid as exc:
            self.found.append(exc.problem)
            return fallback


def validate_row(
    cells: Mapping[str, Cell], *, today: date | None = None
) -> RosterEntry | tuple[Problem, ...]:
    """One row's cells (keyed by column) → a ``RosterEntry``, or why the row is refused."""
    today = today or date.today()
    problems = _Problems()
    take = problems.take
    staff_no = take(lambda: check.staff_no(cells.get("工号")), "")
    name = take(lambda: check.required(cells.get("姓名"), "姓名"), "")
    gender = take(lambda: check.gender(cells.get("性别")), None)
    birth = take(lambda: check.date_in(cells.get("出生日期"), "出生日期", latest=today), None)
    branch = take(lambda: check.required(cells.get("分工会"), "分工会"), "")
    roles = take(lambda: check.roles(cells.get("角色")), frozenset({Role.MEMBER}))
    phone = take(lambda: check.phone(cells.get("手机")), None)
    department = take(lambda: check.bounded(cells.get("部门"), "部门", required=False), None)
    hire_by = today + HIRE_DATE_LEAD
    hire = take(lambda: check.date_in(cells.get("入职日期"), "入职日期", latest=hire_by), None)
    no_children: tuple[date, ...] = ()
    children = take(lambda: check.children(cells.get("子女出生日期"), latest=today), no_children)
    if problems.found:
        return tuple(problems.found)
    if department is None and Role.HANDLER in roles:
        department = branch
    return RosterEntry(
        staff_no=staff_no, name=name, gender=gender, birth_date=birth, branch=branch,
        roles=roles, phone=phone, department=department, hire_date=hire, children=children,
    )


def _duplicates(rows: Sequence[RosterRow]) -> dict[int, Problem]:
    """Row number → problem, for every row whose 工号 appears on another row too."""
    by_staff_no: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        staff_no = text_of(row.cells.get("工号"))
        if staff_no:
            by_staff_no[staff_no].append(row.number)
    found: dict[int, Problem] = {}
    for staff_no, numbers in by_staff_no.items():
        for number in numbers if len(numbers) > 1 else ():
            others = [other for other in numbers if other != number]
            found[number] = Problem("duplicate", {"value": shown(staff_no), "others": others})
    return found


def validate_rows(
    rows: Sequence[RosterRow], *, today: date | None = None
) -> tuple[list[RosterEntry], list[Rejection]]:
    """Every row checked: the accepted entries, and the refused rows in file order."""
    duplicates = _duplicates(rows)
    accepted: list[RosterEntry] = []
    rejected: list[Rejection] = []
    for row in rows:
        result = validate_row(row.cells, today=today)
        problems = [duplicates[row.number]] if row.number in duplicates else []
        if not isinstance(result, RosterEntry):
            problems.extend(result)
        if problems:
            staff_no = shown(text_of(row.cells.get("工号")), 32)
            rejected.append(Rejection(row.number, staff_no, tuple(problems)))
        elif isinstance(result, RosterEntry):
            accepted.append(result)
    return accepted, rejected
