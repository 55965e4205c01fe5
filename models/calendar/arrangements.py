"""Statutory holiday arrangements (放假安排): days off and make-up workdays (调休上班).

Two sources, the first that has a festival wins:

1. data files shipped in ``models/calendar/holidays/<year>.toml``, which a union officer adds or
   corrects when 国务院办公厅 publishes the year's notice (format: ``holidays/README.md``);
2. the ``chinesecalendar`` package (``chinese_calendar``), for the years its data covers.

Without either, there is no arrangement (``None``): it is never guessed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).with_name("holidays")

# Festivals that have a statutory arrangement, keyed like the calendar, with the name
# chinese_calendar gives them.
STATUTORY: dict[str, str] = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明": "Tomb-sweeping Day",
    "五一": "Labour Day",
    "端午": "Dragon Boat Festival",
    "中秋": "Mid-autumn Festival",
    "国庆": "National Day",
}

# Section names an officer may also write in a data file, as the notice spells them.
ALIASES: dict[str, str] = {
    "元旦节": "元旦",
    "春节假期": "春节",
    "清明节": "清明",
    "劳动节": "五一",
    "五一劳动节": "五一",
    "端午节": "端午",
    "中秋节": "中秋",
    "国庆节": "国庆",
}

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# Plausibility limits for data files: anything outside them is a typo, not a holiday.
MAX_DAYS_OFF = 16
MAX_DISTANCE_FROM_FESTIVAL = 3
MAX_WORKDAY_DISTANCE = 30

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A section header made of Chinese characters only, e.g. "[春节]  # 备注".
_CHINESE_HEADER = re.compile(r"^([ \t]*)\[[ \t]*([\u3400-\u4dbf\u4e00-\u9fff]+)[ \t]*\]", re.MULTILINE)


class CalendarRefusal(ValueError):
    """A year, festival or data file the calendar cannot use; ``code`` names a macro of
    ``templates/notices/calendar.txt.j2`` and ``values`` fill it."""

    def __init__(self, code: str, /, **values: Any) -> None:
        super().__init__(f"{code} {values!r}")  # for the log; people read the macro
        self.code = code
        self.values = values


class HolidayDataError(CalendarRefusal):
    """A holiday data file is malformed; the values name the file and the section."""


@dataclass(frozen=True)
class Arrangement:
    """Days off (inclusive range) and make-up workdays of one festival's break."""

    off_start: date
    off_end: date
    workdays: tuple[date, ...] = ()
    source: str = "chinese_calendar"

    @property
    def days(self) -> int:
        """Number of consecutive days off, weekends included (the notice's 共N天)."""
        return (self.off_end - self.off_start).days + 1

    def covers(self, day: date) -> bool:
        """Whether ``day`` is one of the days off."""
        return self.off_start <= day <= self.off_end


# ---------------------------------------------------------------- public lookups


def year_arrangements(
    year: int, festival_dates: Mapping[str, date], data_dir: Path | None = None
) -> dict[str, Arrangement]:
    """The known arrangements of ``year``, keyed by festival.

    ``festival_dates`` maps each statutory festival key to its date in ``year`` (the calendar
    computes them). ``data_dir`` is the directory of ``<year>.toml`` files (default: the
    shipped one). A data file wins over the library for every festival it lists; a festival
    that no source has is left out.
    """
    result = file_arrangements(year, festival_dates, data_dir)
    for key in STATUTORY:
        if key not in result:
            found = library_arrangement(key, festival_dates[key])
            if found is not None:
                result[key] = found
    return result


def library_knows(day: date) -> bool:
    """Whether chinese_calendar has data for the year of ``day``."""
    return _is_rest_day(day) is not None


# ---------------------------------------------------------------- chinese_calendar


def _is_rest_day(day: date) -> bool | None:
    """True on a day off, False on a workday, None when the library does not know the year."""
    import chinese_calendar  # type: ignore[import-untyped]  # loads with the first date asked about

    try:
        return not chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def library_arrangement(key: str, festival_date: date) -> Arrangement | None:
    """The break around ``festival_date`` according to chinese_calendar, or None.

    The break is the run of consecutive days off around the festival that holds at least
    one statutory holiday day, so "与周末连休" weekends count as the notice counts them.
    Make-up workdays are those the library ties to a festival of that break.
    """
    if key not in STATUTORY or not _is_rest_day(festival_date):
        return None
    import chinese_calendar

    start = end = festival_date
    while _is_rest_day(start - timedelta(days=1)):
        start -= timedelta(days=1)
    while _is_rest_day(end + timedelta(days=1)):
        end += timedelta(days=1)
    holidays: Mapping[date, str] = chinese_calendar.holidays
    labels = {holidays[d] for d in _date_range(start, end) if d in holidays}
    if not labels:
        return None  # an ordinary weekend, no statutory break
    workdays_map: Mapping[date, str] = chinese_calendar.workdays
    window = timedelta(days=MAX_WORKDAY_DISTANCE)
    workdays = tuple(
        sorted(
            d for d, label in workdays_map.items() if label in labels and start - window <= d <= end + window
        )
    )
    return Arrangement(off_start=start, off_end=end, workdays=workdays, source="chinese_calendar")


def _date_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- data files


def year_file(year: int, data_dir: Path | None = None) -> Path:
    """Where the data file of ``year`` lives."""
    return (data_dir or DATA_DIR) / f"{year}.toml"


def file_arrangements(
    year: int, festival_dates: Mapping[str, date], data_dir: Path | None = None
) -> dict[str, Arrangement]:
    """The arrangements listed in ``<data_dir>/<year>.toml`` (empty when there is no file).

    Raises HolidayDataError for a malformed file.
    """
    path = year_file(year, data_dir)
    if not path.is_file():
        return {}
    return parse_file(path, year, festival_dates)


def parse_file(path: Path, year: int, festival_dates: Mapping[str, date]) -> dict[str, Arrangement]:
    """Read and strictly validate one data file."""
    try:
        data = tomllib.loads(quote_chinese_headers(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayDataError("file_unreadable", path=str(path), error=str(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise HolidayDataError("file_not_toml", path=str(path), error=str(exc)) from exc
    result: dict[str, Arrangement] = {}
    for section, body in data.items():
        key = ALIASES.get(section, section)
        where = {"path": str(path), "section": section}
        if key not in STATUTORY:
            raise HolidayDataError("not_statutory", **where, allowed=list(STATUTORY))
        if key in result:
            raise HolidayDataError("section_twice", **where, key=key)
        if not isinstance(body, dict):
            raise HolidayDataError("not_a_section", **where, key=key, example=_example(festival_dates[key]))
        result[key] = _parse_section(body, where, path, festival_dates[key])
    return result


def quote_chinese_headers(text: str) -> str:
    """Quote bare Chinese section names: ``[春节]`` → ``["春节"]``.

    TOML 1.0 (Python's tomllib) only allows ASCII letters in bare keys, but officers write
    the festival as the notice does; both spellings are accepted.
    """
    return _CHINESE_HEADER.sub(r'\1["\2"]', text)


def _example(festival_date: date) -> str:
    end = festival_date + timedelta(days=2)
    return f'off = ["{festival_date.isoformat()}", "{end.isoformat()}"]'


def _parse_section(
    body: dict[str, object], where: dict[str, str], path: Path, festival_date: date
) -> Arrangement:
    example = _example(festival_date)
    unknown = sorted(set(body) - {"off", "workdays"})
    if unknown:
        raise HolidayDataError("unknown_items", **where, items=unknown)
    if "off" not in body:
        raise HolidayDataError("no_off", **where, example=example)
    off = _parse_dates(body["off"], where, "off")
    if len(off) not in (1, 2):
        raise HolidayDataError("off_count", **where, example=example)
    start, end = off[0], off[-1]
    if end < start:
        raise HolidayDataError("off_reversed", **where, start=start, end=end)
    days = (end - start).days + 1
    if days > MAX_DAYS_OFF:
        raise HolidayDataError("off_too_long", **where, days=days, limit=MAX_DAYS_OFF)
    near = timedelta(days=MAX_DISTANCE_FROM_FESTIVAL)
    if not start - near <= festival_date <= end + near:
        raise HolidayDataError("off_too_far", **where, start=start, end=end, festival_date=festival_date)
    workdays = _parse_dates(body.get("workdays", []), where, "workdays")
    if len(set(workdays)) != len(workdays):
        raise HolidayDataError("workdays_twice", **where)
    far = timedelta(days=MAX_WORKDAY_DISTANCE)
    for day in workdays:
        if start <= day <= end:
            raise HolidayDataError("workday_in_break", **where, day=day, start=start, end=end)
        if not start - far <= day <= end + far:
            raise HolidayDataError("workday_too_far", **where, day=day, limit=MAX_WORKDAY_DISTANCE)
        if day.weekday() < 5:
            raise HolidayDataError("workday_not_weekend", **where, day=day)
    return Arrangement(off_start=start, off_end=end, workdays=tuple(sorted(workdays)), source=f"file:{path}")


def _parse_dates(value: object, where: dict[str, str], field: str) -> list[date]:
    if not isinstance(value, list):
        raise HolidayDataError("not_a_date_list", **where, field=field)
    result = []
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            result.append(item)
            continue
        if isinstance(item, str) and _ISO_DATE.fullmatch(item.strip()):
            try:
                result.append(date.fromisoformat(item.strip()))
                continue
            except ValueError:
                pass
        raise HolidayDataError("not_a_date", **where, field=field, value=repr(item))
    return result
