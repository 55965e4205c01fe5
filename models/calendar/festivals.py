"""The union's holiday calendar: festivals of a year, their dates and 放假安排.

Lunar festivals and the 清明 solar term come from ``lunar_python``; statutory arrangements
come from :mod:`models.calendar.arrangements` (data files, then the ``chinesecalendar`` package).
Festival keys are the ones config uses as ``[holidays.<key>]``.
"""

from __future__ import annotations

import logging
import re
import time as clock
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from models.calendar.arrangements import (
    DATA_DIR,
    STATUTORY,
    WEEKDAYS,
    Arrangement,
    CalendarRefusal,
    HolidayDataError,
    parse_file,
    year_arrangements,
)

Kind = Literal["lunar", "fixed", "solar_term"]

logger = logging.getLogger(__name__)

MIN_YEAR = 1901
MAX_YEAR = 2099

# key → display name, in calendar order.
NAMES: dict[str, str] = {
    "元旦": "元旦",
    "除夕": "除夕",
    "春节": "春节",
    "元宵": "元宵节",
    "三八": "三八妇女节",
    "清明": "清明节",
    "五一": "劳动节",
    "六一": "六一儿童节",
    "端午": "端午节",
    "七夕": "七夕节",
    "教师节": "教师节",
    "中秋": "中秋节",
    "国庆": "国庆节",
    "重阳": "重阳节",
}
KEYS: tuple[str, ...] = tuple(NAMES)

LUNAR_DAYS: dict[str, tuple[int, int]] = {
    "春节": (1, 1),
    "元宵": (1, 15),
    "端午": (5, 5),
    "七夕": (7, 7),
    "中秋": (8, 15),
    "重阳": (9, 9),
}
FIXED_DAYS: dict[str, tuple[int, int]] = {
    "元旦": (1, 1),
    "三八": (3, 8),
    "五一": (5, 1),
    "六一": (6, 1),
    "教师节": (9, 10),
    "国庆": (10, 1),
}


@dataclass(frozen=True)
class Festival:
    """One festival in one Gregorian year.

    ``arrangement`` is the statutory break it belongs to, or None when none is known
    (not yet published, or a festival without days off). 除夕 carries the 春节 break.
    """

    key: str
    name: str
    date: date
    kind: Kind
    arrangement: Arrangement | None = None
    lunar: str | None = None  # e.g. "农历五月初五" for lunar festivals and 除夕

    @property
    def statutory(self) -> bool:
        """Whether the festival has a 放假安排 from the State Council (除夕 shares the 春节 one)."""
        return self.key in STATUTORY or self.key == "除夕"

    @property
    def weekday(self) -> str:
        """星期一 … 星期日."""
        return WEEKDAYS[self.date.weekday()]


# ---------------------------------------------------------------- years


def parse_year(value: int | str) -> int:
    """A year from ``2026`` or ``"2026"`` / ``"2026年"``, checked against the supported range.

    Raises CalendarRefusal (a ValueError) naming the problem; its sentence gives an example.
    """
    this_year = date.today().year
    if isinstance(value, bool):
        raise CalendarRefusal("year_invalid", this_year=this_year)
    if isinstance(value, str):
        text = value.strip().removesuffix("年").strip()
        if not re.fullmatch(r"\d{4}", text):
            raise CalendarRefusal("not_a_year", value=value, this_year=this_year)
        value = int(text)
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise CalendarRefusal(
            "year_out_of_range", value=value, first=MIN_YEAR, last=MAX_YEAR, this_year=this_year
        )
    return value


# ---------------------------------------------------------------- dates


def _to_date(solar: Any) -> date:
    return date(int(solar.getYear()), int(solar.getMonth()), int(solar.getDay()))


def _lunar_text(day: date) -> str:
    from lunar_python import Solar  # type: ignore[import-untyped]  # loads with the first festival computed

    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return f"农历{lunar.getMonthInChinese()}月{lunar.getDayInChinese()}"


@lru_cache(maxsize=256)
def _dates(year: int) -> dict[str, tuple[date, Kind]]:
    """Every festival's date in ``year`` (unsorted), with how it was computed."""
    from lunar_python import Lunar, Solar

    result: dict[str, tuple[date, Kind]] = {}
    for key, (month, day) in FIXED_DAYS.items():
        result[key] = (date(year, month, day), "fixed")
    for key, (month, day) in LUNAR_DAYS.items():
        result[key] = (_to_date(Lunar.fromYmd(year, month, day).getSolar()), "lunar")
    # 除夕 is the last day of 腊月 (廿九 or 三十), i.e. the day before 春节. The 除夕 whose
    # date is in ``year`` is the eve of this year's 春节 (it closes the previous lunar year).
    result["除夕"] = (result["春节"][0] - timedelta(days=1), "lunar")
    # The jie qi table of the lunar year running on 1 June holds this year's 清明.
    table = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()
    result["清明"] = (_to_date(table["清明"]), "solar_term")
    for key, (day_, _) in result.items():
        if day_.year != year:  # pragma: no cover - guards the library's behaviour
            raise RuntimeError(f"{key} of {year} computed as {day_}")
    return result


def statutory_dates(year: int) -> dict[str, date]:
    """The date in ``year`` of each festival that has a statutory arrangement."""
    dates = _dates(parse_year(year))
    return {key: dates[key][0] for key in STATUTORY}


# ---------------------------------------------------------------- festivals


def festivals(year: int, data_dir: Path | None = None) -> list[Festival]:
    """All festivals of ``year``, sorted by date, with their arrangements where known.

    ``data_dir`` is the directory of ``<year>.toml`` arrangement files (default: the
    shipped ``models/calendar/holidays``). Raises ValueError for an unsupported year and
    HolidayDataError for a malformed data file.
    """
    year = parse_year(year)
    dates = _dates(year)
    arrangements = year_arrangements(year, statutory_dates(year), data_dir)
    arrangements_by_key = dict(arrangements)
    if "春节" in arrangements:
        arrangements_by_key["除夕"] = arrangements["春节"]
    result: list[Festival] = []
    for key in KEYS:
        day, kind = dates[key]
        result.append(
            Festival(
                key=key,
                name=NAMES[key],
                date=day,
                kind=kind,
                arrangement=arrangements_by_key.get(key),
                lunar=_lunar_text(day) if kind == "lunar" else None,
            )
        )
    return sorted(result, key=lambda f: (f.date, KEYS.index(f.key)))


def festival(year: int, key: str, data_dir: Path | None = None) -> Festival:
    """The festival ``key`` (e.g. "中秋") of ``year``; ValueError for an unknown key."""
    if key not in NAMES:
        raise CalendarRefusal("no_such_festival", key=key, keys=KEYS)
    for item in festivals(year, data_dir):
        if item.key == key:
            return item
    raise AssertionError(key)  # pragma: no cover - every key is in every year


def upcoming(from_date: date, days: int = 30, data_dir: Path | None = None) -> list[Festival]:
    """Festivals from ``from_date`` through ``from_date + days`` (both included), by date."""
    if days < 0:
        raise ValueError(f"days must not be negative, not {days}")
    until = from_date + timedelta(days=days)
    result: list[Festival] = []
    for year in range(max(from_date.year, MIN_YEAR), min(until.year, MAX_YEAR) + 1):
        result.extend(f for f in festivals(year, data_dir) if from_date <= f.date <= until)
    return result


def check_data_dir(data_dir: Path | None = None) -> list[int]:
    """Validate every ``*.toml`` data file in ``data_dir``; return the years found, sorted.

    Raises HolidayDataError at the first problem, a misnamed file included.
    """
    years = []
    for path in sorted((data_dir or DATA_DIR).glob("*.toml")):
        if not re.fullmatch(r"\d{4}\.toml", path.name):
            raise HolidayDataError("file_name", path=str(path))
        year = int(path.stem)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise HolidayDataError("file_year", path=str(path), first=MIN_YEAR, last=MAX_YEAR)
        parse_file(path, year, statutory_dates(year))
        years.append(year)
    return years


# ---------------------------------------------------------------- looking dates up

NO_DATA_DIR = DATA_DIR / "__none__"


@lru_cache(maxsize=32)
def _year(year: int, _stamp: int) -> tuple[Festival, ...]:
    try:
        return tuple(festivals(year))
    except HolidayDataError:
        logger.exception("holiday data of %d unreadable; notices go out without its arrangements", year)
        return tuple(festivals(year, NO_DATA_DIR))


def year_festivals(year: int) -> tuple[Festival, ...]:
    """The festivals of ``year``, re-read from the data files every ten minutes."""
    return _year(year, int(clock.monotonic() // 600))


def festivals_between(first: date, last: date) -> list[Festival]:
    """Festivals dated from ``first`` through ``last``, by date."""
    found: list[Festival] = []
    for year in range(max(first.year, MIN_YEAR), min(last.year, MAX_YEAR) + 1):
        found.extend(f for f in year_festivals(year) if first <= f.date <= last)
    return found


def next_festival(key: str, today: date) -> Festival:
    """The next occurrence of festival ``key`` on or after ``today``."""
    for year in (today.year, today.year + 1):
        for item in year_festivals(year):
            if item.key == key and item.date >= today:
                return item
    raise AssertionError(key)  # pragma: no cover - every festival comes once a year
