"""Arrangement data files (models/calendar/holidays/<year>.toml): reading, precedence, validation.

The 2027 dates below are invented test data, not the real 2027 arrangement.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.cli.holidays import holiday_year
from bot.render import say
from models.calendar.arrangements import DATA_DIR, Arrangement, HolidayDataError, library_knows
from models.calendar.festivals import check_data_dir, festival, festivals


def described(arrangement: Arrangement | None) -> str:
    """An arrangement in the words of the notices."""
    assert arrangement is not None
    return say("calendar", "arrangement", a=arrangement)


def refusal(caught: pytest.ExceptionInfo[HolidayDataError]) -> str:
    return say("calendar", caught.value.code, **caught.value.values)

SPRING_2027 = """
# 测试数据，不是真实安排
[春节]
off = ["2027-02-05", "2027-02-13"]   # 放假起止（含）
workdays = ["2027-02-14"]             # 调休上班
"""


def write(directory: Path, year: int, text: str) -> Path:
    path = directory / f"{year}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_adds_a_year_the_library_lacks(tmp_path: Path) -> None:
    assert not library_knows(date(2027, 7, 1))
    path = write(tmp_path, 2027, SPRING_2027)
    spring = festival(2027, "春节", tmp_path)
    assert spring.arrangement is not None
    assert spring.arrangement.source == f"file:{path}"
    assert spring.arrangement.days == 9
    assert described(spring.arrangement) == "2月5日至2月13日放假调休，共9天；2月14日（星期日）上班"
    assert festival(2027, "除夕", tmp_path).arrangement == spring.arrangement
    assert festival(2027, "国庆", tmp_path).arrangement is None
    text = holiday_year(2027, tmp_path)
    assert "2027-10-01 星期五 国庆节：放假安排尚未公布" in text
    assert "提示" not in text


def test_native_toml_dates_aliases_and_single_day(tmp_path: Path) -> None:
    write(
        tmp_path,
        2027,
        """
["元旦"]   # TOML's own spelling of a non-ASCII name works too
off = [2027-01-01]
[国庆节]
off = [2027-10-01, 2027-10-07]
workdays = [2027-09-26, 2027-10-09]
""",
    )
    new_year = festival(2027, "元旦", tmp_path).arrangement
    assert new_year is not None
    assert (new_year.off_start, new_year.off_end, new_year.workdays) == (
        date(2027, 1, 1),
        date(2027, 1, 1),
        (),
    )
    national = festival(2027, "国庆", tmp_path).arrangement
    assert national is not None
    assert described(national) == "10月1日至10月7日放假调休，共7天；9月26日（星期日）、10月9日（星期六）上班"


def test_file_wins_over_the_library(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        2026,
        '  [ 端午节 ]  # 更正\noff = ["2026-06-19", "2026-06-22"]\nworkdays = ["2026-06-28"]\n',
    )
    items = {f.key: f for f in festivals(2026, tmp_path)}
    dragon = items["端午"].arrangement
    assert dragon is not None
    assert dragon.source == f"file:{path}"
    assert (dragon.off_end, dragon.workdays) == (date(2026, 6, 22), (date(2026, 6, 28),))
    spring = items["春节"].arrangement
    assert spring is not None
    assert spring.source == "chinese_calendar"


@pytest.mark.parametrize(
    ("text", "section", "problem"),
    [
        ('[元宵]\noff = ["2027-02-20"]\n', "[元宵]", "不是有放假安排的节日"),
        ('[春节节]\noff = ["2027-02-06"]\n', "[春节节]", "只能写：元旦、春节"),
        ('[春节]\noff = ["2027-02-30", "2027-02-13"]\n', "[春节]", "不是有效日期"),
        ('[春节]\noff = ["2027/02/05", "2027-02-13"]\n', "[春节]", "不是有效日期"),
        ("[春节]\noff = [2027-02-05T08:00:00, 2027-02-13]\n", "[春节]", "不是有效日期"),
        ('[春节]\noff = ["2027-02-13", "2027-02-05"]\n', "[春节]", "早于开始日期"),
        ('[春节]\noff = ["2026-02-15", "2026-02-23"]\n', "[春节]", "相距太远"),
        ('[春节]\noff = ["2027-02-01", "2027-02-28"]\n', "[春节]", "超过 16 天"),
        ('[春节]\noff = ["2027-02-05", "2027-02-08", "2027-02-13"]\n', "[春节]", "开始和结束两个日期"),
        ('[春节]\noff = "2027-02-05"\n', "[春节]", "日期列表"),
        ("[春节]\nworkdays = []\n", "[春节]", "缺少放假起止日期"),
        (
            '[春节]\noff = ["2027-02-05", "2027-02-13"]\nworkday = ["2027-02-14"]\n',
            "[春节]",
            "不认识的项 workday",
        ),
        ('[春节]\noff = ["2027-02-05", "2027-02-13"]\nworkdays = ["2027-02-07"]\n', "[春节]", "落在放假期间"),
        (
            '[春节]\noff = ["2027-02-05", "2027-02-13"]\nworkdays = ["2027-02-15"]\n',
            "[春节]",
            "星期六或星期日",
        ),
        ('[春节]\noff = ["2027-02-05", "2027-02-13"]\nworkdays = ["2027-06-05"]\n', "[春节]", "超过 30 天"),
        (
            '[春节]\noff = ["2027-02-05", "2027-02-13"]\nworkdays = ["2027-02-14", "2027-02-14"]\n',
            "[春节]",
            "重复",
        ),
        ('[国庆]\noff = ["2027-10-01"]\n[国庆节]\noff = ["2027-10-01"]\n', "[国庆节]", "重复"),
        ('"春节" = ["2027-02-05"]\n', "[春节]", "应写成一节"),
    ],
)
def test_malformed_files_name_file_and_section(tmp_path: Path, text: str, section: str, problem: str) -> None:
    path = write(tmp_path, 2027, text)
    with pytest.raises(HolidayDataError) as caught:
        festivals(2027, tmp_path)
    message = refusal(caught)
    assert str(path) in message
    assert section in message
    assert problem in message
    with pytest.raises(HolidayDataError):
        check_data_dir(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, 2027, "[春节\noff = 1\n")
    with pytest.raises(HolidayDataError) as caught:
        holiday_year(2027, tmp_path)
    assert refusal(caught).startswith(f"{path}：不是合法的 TOML 格式（")


def test_check_data_dir(tmp_path: Path) -> None:
    write(tmp_path, 2027, SPRING_2027)
    (tmp_path / "README.md").write_text("说明", encoding="utf-8")
    assert check_data_dir(tmp_path) == [2027]
    (tmp_path / "2028年.toml").write_text("", encoding="utf-8")
    with pytest.raises(HolidayDataError) as caught:
        check_data_dir(tmp_path)
    assert refusal(caught) == f"{tmp_path / '2028年.toml'}：文件名应是年份，例如 2027.toml"


def test_shipped_data_files_are_valid() -> None:
    assert (DATA_DIR / "README.md").is_file()
    for year in check_data_dir():
        assert any(f.arrangement for f in festivals(year))
