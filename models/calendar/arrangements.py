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

import chinese_calendar  # type: ignore[import-untyped]

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


class HolidayDataError(ValueError):
    """A holiday data file is malformed; the message names the file and the festival."""


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

    @property
    def description(self) -> str:
        """One line in the notice's words, e.g. ``2月5日至2月13日放假调休，共9天；2月14日（星期日）上班``."""
        all_dates = (self.off_start, self.off_end, *self.workdays)
        with_year = len({d.year for d in all_dates}) > 1

        def day_text(d: date) -> str:
            return f"{d.year}年{d.month}月{d.day}日" if with_year else f"{d.month}月{d.day}日"

        if self.off_start == self.off_end:
            span = day_text(self.off_start)
        else:
            span = f"{day_text(self.off_start)}至{day_text(self.off_end)}"
        verb = "放假调休" if self.workdays else "放假"
        text = f"{span}{verb}，共{self.days}天"
        if self.workdays:
            work = "、".join(f"{day_text(d)}（{WEEKDAYS[d.weekday()]}）" for d in self.workdays)
            text += f"；{work}上班"
        return text


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
        raise HolidayDataError(f"{path}：无法读取（{exc}）") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HolidayDataError(
            f"{path}：不是合法的 TOML 格式（{exc}），请对照 holidays/README.md 检查"
        ) from exc
    result: dict[str, Arrangement] = {}
    for section, body in data.items():
        key = ALIASES.get(section, section)
        where = f"{path} 中的 [{section}]"
        if key not in STATUTORY:
            allowed = "、".join(STATUTORY)
            raise HolidayDataError(f"{where}：不是有放假安排的节日，只能写：{allowed}")
        if key in result:
            raise HolidayDataError(f"{where}：与前面的 [{key}] 重复")
        if not isinstance(body, dict):
            raise HolidayDataError(
                f"{where}：应写成一节，例如 [{key}] 下一行写 {_example(festival_dates[key])}"
            )
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


def _parse_section(body: dict[str, object], where: str, path: Path, festival_date: date) -> Arrangement:
    example = _example(festival_date)
    unknown = sorted(set(body) - {"off", "workdays"})
    if unknown:
        raise HolidayDataError(f"{where}：不认识的项 {'、'.join(unknown)}，只能写 off 和 workdays")
    if "off" not in body:
        raise HolidayDataError(f"{where}：缺少放假起止日期，例如 {example}")
    off = _parse_dates(body["off"], where, "off")
    if len(off) not in (1, 2):
        raise HolidayDataError(
            f"{where}：off 应写放假的开始和结束两个日期（只放一天可只写一个），例如 {example}"
        )
    start, end = off[0], off[-1]
    if end < start:
        raise HolidayDataError(f"{where}：放假结束日期 {end} 早于开始日期 {start}")
    days = (end - start).days + 1
    if days > MAX_DAYS_OFF:
        raise HolidayDataError(f"{where}：放假 {days} 天，超过 {MAX_DAYS_OFF} 天，请检查日期")
    near = timedelta(days=MAX_DISTANCE_FROM_FESTIVAL)
    if not start - near <= festival_date <= end + near:
        raise HolidayDataError(
            f"{where}：放假日期 {start} 至 {end} 与节日当天 {festival_date} 相距太远，请检查年份和日期"
        )
    workdays = _parse_dates(body.get("workdays", []), where, "workdays")
    if len(set(workdays)) != len(workdays):
        raise HolidayDataError(f"{where}：workdays 中有重复的日期")
    far = timedelta(days=MAX_WORKDAY_DISTANCE)
    for day in workdays:
        if start <= day <= end:
            raise HolidayDataError(f"{where}：调休上班日 {day} 落在放假期间 {start} 至 {end} 内")
        if not start - far <= day <= end + far:
            raise HolidayDataError(
                f"{where}：调休上班日 {day} 离放假期间超过 {MAX_WORKDAY_DISTANCE} 天，请检查日期"
            )
        if day.weekday() < 5:
            raise HolidayDataError(
                f"{where}：调休上班日 {day} 是{WEEKDAYS[day.weekday()]}，调休上班日应是星期六或星期日"
            )
    return Arrangement(off_start=start, off_end=end, workdays=tuple(sorted(workdays)), source=f"file:{path}")


def _parse_dates(value: object, where: str, field: str) -> list[date]:
    if not isinstance(value, list):
        raise HolidayDataError(f'{where}：{field} 应是方括号里的日期列表，例如 {field} = ["2027-02-14"]')
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
        raise HolidayDataError(f'{where}：{field} 中的 {item!r} 不是有效日期，应写成 "2027-02-14" 这样')
    return result
