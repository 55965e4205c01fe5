"""Working days (工作日) on the statutory calendar: weekends, holidays and 调休 make-up days.

A day is a working day unless it falls in a statutory break (放假, weekends joined to it
included), or it is a Saturday or Sunday that is not a make-up working day (调休上班).
The breaks come from ``models.calendar.festivals`` (the shipped or added data files, then
the ``chinesecalendar`` package). For a year whose arrangement is not known yet, Monday to
Friday count as working days; ``add_working_days`` says which years were counted that way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from models.calendar.arrangements import library_knows
from models.calendar.festivals import MAX_YEAR, MIN_YEAR, year_festivals

MAX_WORKING_DAYS = 250  # a year's working days: anything longer is a typo


@dataclass(frozen=True, slots=True)
class YearDays:
    """The days off and the make-up working days of the breaks listed under one year."""

    known: bool
    off: frozenset[date]
    work: frozenset[date]


@dataclass(frozen=True, slots=True)
class WorkingEnd:
    """The last of N working days, and the years counted Monday–Friday for want of data."""

    day: date
    estimated_years: tuple[int, ...] = ()


def _year_days(year: int) -> YearDays:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return YearDays(False, frozenset(), frozenset())
    return _cached_year_days(year, year_festivals(year))


@lru_cache(maxsize=16)
def _cached_year_days(year: int, festivals: tuple[object, ...]) -> YearDays:
    off: set[date] = set()
    work: set[date] = set()
    for item in festivals:
        arrangement = getattr(item, "arrangement", None)
        if arrangement is None:
            continue
        day = arrangement.off_start
        while day <= arrangement.off_end:
            off.add(day)
            day += timedelta(days=1)
        work.update(arrangement.workdays)
    known = library_knows(date(year, 7, 1)) or bool(off)
    return YearDays(known, frozenset(off), frozenset(work))


def arrangement_known(year: int) -> bool:
    """Whether the 放假安排 of ``year`` is known (shipped, added, or in the library)."""
    return _year_days(year).known


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (Monday–Friday where the year is not known)."""
    # a break of the next year may start in late December (元旦), so both years count
    for year in (day.year, day.year + 1):
        days = _year_days(year)
        if day in days.work:
            return True
        if day in days.off:
            return False
    return day.weekday() < 5


def add_working_days(start: date, count: int) -> WorkingEnd:
    """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
    if not 1 <= count <= MAX_WORKING_DAYS:
        raise ValueError(f"working days must be 1 to {MAX_WORKING_DAYS}, not {count}")
    day, left = start, count
    estimated: set[int] = set()
    while left:
        day += timedelta(days=1)
        if not arrangement_known(day.year):
            estimated.add(day.year)
        if is_working_day(day):
            left -= 1
    return WorkingEnd(day, tuple(sorted(estimated)))
