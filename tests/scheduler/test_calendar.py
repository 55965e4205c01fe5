"""The holiday calendar: festival dates, arrangements, the text of `unionbot holidays`.

Expected dates are well-known public facts, not the libraries' output: the State Council
notices for 2017 (国办发明电〔2016〕17号), 2024, 2025 and 2026 (published 2025-11-04) give the
arrangements and, through their 农历 remarks, the 春节/除夕 dates; 2024 is a year with 年三十,
2025 and 2026 have none (腊月 of 29 days).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from lunar_python import LunarYear

from bot.cli.holidays import holiday_year
from bot.render import say
from models.calendar.arrangements import Arrangement, CalendarRefusal
from models.calendar.festivals import (
    KEYS,
    MAX_YEAR,
    MIN_YEAR,
    festival,
    festivals,
    parse_year,
    upcoming,
)


def described(arrangement: Arrangement | None) -> str:
    """An arrangement in the words of the notices."""
    assert arrangement is not None
    return say("calendar", "arrangement", a=arrangement)


def refusal(caught: pytest.ExceptionInfo[CalendarRefusal]) -> str:
    return say("calendar", caught.value.code, **caught.value.values)


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """A data directory without any file: only the library's arrangements count."""
    return tmp_path


@pytest.mark.parametrize(
    ("year", "key", "expected"),
    [
        (2026, "春节", date(2026, 2, 17)),
        (2027, "春节", date(2027, 2, 6)),
        (2024, "春节", date(2024, 2, 10)),
        (2025, "春节", date(2025, 1, 29)),
        (2023, "春节", date(2023, 1, 22)),
        (2026, "除夕", date(2026, 2, 16)),
        (2025, "除夕", date(2025, 1, 28)),
        (2024, "除夕", date(2024, 2, 9)),
        (2026, "元宵", date(2026, 3, 3)),
        (2026, "清明", date(2026, 4, 5)),
        (2024, "清明", date(2024, 4, 4)),
        (2026, "端午", date(2026, 6, 19)),
        (2024, "端午", date(2024, 6, 10)),
        (2026, "七夕", date(2026, 8, 19)),
        (2026, "中秋", date(2026, 9, 25)),
        (2025, "中秋", date(2025, 10, 6)),
        (2024, "中秋", date(2024, 9, 17)),
        (2017, "中秋", date(2017, 10, 4)),
        (2026, "重阳", date(2026, 10, 18)),
        (2026, "元旦", date(2026, 1, 1)),
        (2026, "三八", date(2026, 3, 8)),
        (2026, "五一", date(2026, 5, 1)),
        (2026, "六一", date(2026, 6, 1)),
        (2026, "教师节", date(2026, 9, 10)),
        (2026, "国庆", date(2026, 10, 1)),
    ],
)
def test_known_festival_dates(year: int, key: str, expected: date, empty_dir: Path) -> None:
    assert festival(year, key, empty_dir).date == expected


def test_names_kinds_and_lunar_text(empty_dir: Path) -> None:
    items = {f.key: f for f in festivals(2026, empty_dir)}
    assert items["三八"].name == "三八妇女节"
    assert items["五一"].name == "劳动节"
    assert items["端午"].kind == "lunar"
    assert items["端午"].lunar == "农历五月初五"
    assert items["春节"].lunar == "农历正月初一"
    assert items["清明"].kind == "solar_term"
    assert items["清明"].lunar is None
    assert items["国庆"].kind == "fixed"
    assert items["春节"].weekday == "星期二"
    assert items["重阳"].weekday == "星期日"


def test_chuxi_when_layue_has_29_days(empty_dir: Path) -> None:
    # 腊月 of lunar year 2024 has 29 days: no 年三十, 除夕 is 腊月廿九.
    assert LunarYear.fromYear(2024).getMonth(12).getDayCount() == 29
    eve = festival(2025, "除夕", empty_dir)
    assert eve.date == date(2025, 1, 28)
    assert eve.lunar == "农历腊月廿九"


def test_chuxi_when_layue_has_30_days(empty_dir: Path) -> None:
    assert LunarYear.fromYear(2023).getMonth(12).getDayCount() == 30
    eve = festival(2024, "除夕", empty_dir)
    assert eve.date == date(2024, 2, 9)
    assert eve.lunar == "农历腊月三十"


def test_every_supported_year_has_each_festival_once_in_that_year(empty_dir: Path) -> None:
    for year in range(MIN_YEAR, MAX_YEAR + 1):
        items = festivals(year, empty_dir)
        assert sorted(f.key for f in items) == sorted(KEYS)
        assert all(f.date.year == year for f in items), year
        assert [f.date for f in items] == sorted(f.date for f in items)
        by_key = {f.key: f.date for f in items}
        assert (by_key["春节"] - by_key["除夕"]).days == 1
        assert date(year, 4, 3) <= by_key["清明"] <= date(year, 4, 6)


# ---------------------------------------------------------------- arrangements from the library


def test_spring_festival_2025_from_library(empty_dir: Path) -> None:
    arrangement = festival(2025, "春节", empty_dir).arrangement
    assert arrangement == Arrangement(
        off_start=date(2025, 1, 28),
        off_end=date(2025, 2, 4),
        workdays=(date(2025, 1, 26), date(2025, 2, 8)),
        source="chinese_calendar",
    )
    assert arrangement.days == 8
    assert (
        described(arrangement) == "1月28日至2月4日放假调休，共8天；1月26日（星期日）、2月8日（星期六）上班"
    )


def test_2026_arrangements_match_the_notice(empty_dir: Path) -> None:
    text = {f.key: described(f.arrangement) for f in festivals(2026, empty_dir) if f.arrangement}
    assert text == {
        "元旦": "1月1日至1月3日放假调休，共3天；1月4日（星期日）上班",
        "除夕": "2月15日至2月23日放假调休，共9天；2月14日（星期六）、2月28日（星期六）上班",
        "春节": "2月15日至2月23日放假调休，共9天；2月14日（星期六）、2月28日（星期六）上班",
        "清明": "4月4日至4月6日放假，共3天",
        "五一": "5月1日至5月5日放假调休，共5天；5月9日（星期六）上班",
        "端午": "6月19日至6月21日放假，共3天",
        "中秋": "9月25日至9月27日放假，共3天",
        "国庆": "10月1日至10月7日放假调休，共7天；9月20日（星期日）、10月10日（星期六）上班",
    }


def test_mid_autumn_and_national_day_share_one_break(empty_dir: Path) -> None:
    # 2017 notice: 中秋节、国庆节：10月1日至8日放假调休，共8天。9月30日（星期六）上班。
    mid, national = festival(2017, "中秋", empty_dir), festival(2017, "国庆", empty_dir)
    assert mid.arrangement == national.arrangement
    assert mid.arrangement is not None
    assert described(mid.arrangement) == "10月1日至10月8日放假调休，共8天；9月30日（星期六）上班"
    # 2025: the same, with 9月28日 and 10月11日 worked.
    assert festival(2025, "中秋", empty_dir).arrangement == festival(2025, "国庆", empty_dir).arrangement


def test_break_that_joins_the_weekend_counts_it(empty_dir: Path) -> None:
    # 2024 notice: 元旦：1月1日放假，与周末连休.  2017: 劳动节：5月1日放假，与周末连休.
    new_year = festival(2024, "元旦", empty_dir).arrangement
    assert new_year is not None
    assert (new_year.off_start, new_year.off_end) == (date(2023, 12, 30), date(2024, 1, 1))
    assert described(new_year) == "2023年12月30日至2024年1月1日放假，共3天"
    labour = festival(2017, "五一", empty_dir).arrangement
    assert labour is not None
    assert (labour.off_start, labour.off_end, labour.days) == (date(2017, 4, 29), date(2017, 5, 1), 3)


def test_single_day_off(empty_dir: Path) -> None:
    arrangement = festival(2025, "元旦", empty_dir).arrangement
    assert arrangement is not None
    assert described(arrangement) == "1月1日放假，共1天"


def test_chuxi_outside_the_spring_festival_break(empty_dir: Path) -> None:
    # 2024: 春节 2月10日至17日放假; 除夕 (2月9日, a Friday) was a working day.
    eve = festival(2024, "除夕", empty_dir)
    assert eve.arrangement is not None
    assert not eve.arrangement.covers(eve.date)
    eve_2026 = festival(2026, "除夕", empty_dir)
    assert eve_2026.arrangement is not None
    assert eve_2026.arrangement.covers(eve_2026.date)


def test_festivals_without_days_off_have_no_arrangement(empty_dir: Path) -> None:
    for key in ("元宵", "三八", "六一", "七夕", "教师节", "重阳"):
        item = festival(2026, key, empty_dir)
        assert item.arrangement is None
        assert not item.statutory


def test_unknown_year_has_no_arrangement(empty_dir: Path) -> None:
    assert all(f.arrangement is None for f in festivals(2027, empty_dir))
    assert all(f.arrangement is None for f in festivals(2099, empty_dir))
    assert all(f.arrangement is None for f in festivals(1990, empty_dir))


# ---------------------------------------------------------------- upcoming, years, text


def test_upcoming_crosses_the_year(empty_dir: Path) -> None:
    items = upcoming(date(2026, 12, 20), 47, empty_dir)
    assert [(f.key, f.date) for f in items] == [("元旦", date(2027, 1, 1)), ("除夕", date(2027, 2, 5))]
    assert [f.key for f in upcoming(date(2026, 9, 25), 0, empty_dir)] == ["中秋"]
    assert upcoming(date(2099, 12, 1), 60, empty_dir) == []
    with pytest.raises(ValueError, match="negative"):
        upcoming(date(2026, 1, 1), -1, empty_dir)


@pytest.mark.parametrize("value", [1900, 2100, 0, "abc", "26", "", True])
def test_unsupported_years_are_refused_in_chinese(value: int | str) -> None:
    with pytest.raises(CalendarRefusal) as caught:
        holiday_year(value)
    assert re.search(r"例如：unionbot holidays \d{4}$", refusal(caught))


def test_parse_year_accepts_text() -> None:
    assert parse_year(" 2026年 ") == 2026
    assert parse_year("1901") == 1901
    assert parse_year(2099) == 2099


def test_festival_unknown_key() -> None:
    with pytest.raises(CalendarRefusal) as caught:
        festival(2026, "圣诞")
    assert refusal(caught).startswith("没有名为“圣诞”的节日，可用：元旦、除夕、春节")


def test_holiday_year_2026(empty_dir: Path) -> None:
    lines = holiday_year(2026, empty_dir).splitlines()
    assert lines[0] == "2026年节假日（放假安排以国务院办公厅通知为准）"
    assert len(lines) == 1 + len(KEYS)
    assert lines[1] == "2026-01-01 星期四 元旦：1月1日至1月3日放假调休，共3天；1月4日（星期日）上班"
    assert (
        "2026-02-16 星期一 除夕（农历腊月廿九）：在春节假期内（2月15日至2月23日放假调休，共9天；"
        "2月14日（星期六）、2月28日（星期六）上班）"
    ) in lines
    assert "2026-04-05 星期日 清明节：4月4日至4月6日放假，共3天" in lines
    assert "2026-06-19 星期五 端午节（农历五月初五）：6月19日至6月21日放假，共3天" in lines
    assert "2026-03-08 星期日 三八妇女节：妇女放假半天" in lines
    assert "2026-10-18 星期日 重阳节（农历九月初九）：不放假" in lines


def test_holiday_year_without_data(empty_dir: Path) -> None:
    text = holiday_year("2027", empty_dir)
    assert "2027-02-06 星期六 春节（农历正月初一）：放假安排尚未公布" in text
    assert "2027-09-15 星期三 中秋节（农历八月十五）：放假安排尚未公布" in text
    assert "2027-09-10 星期五 教师节：不放假" in text
    assert text.splitlines()[-1].startswith("提示：2027年的放假安排尚未收录")


def test_holiday_year_before_a_festival_was_statutory(empty_dir: Path) -> None:
    # 清明、端午、中秋 became statutory holidays in 2008.
    assert "2007-04-05 星期四 清明节：当年无放假安排" in holiday_year(2007, empty_dir)
