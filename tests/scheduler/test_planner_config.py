"""[scheduler] and [holidays."<key>"] settings: validation, defaults, the example file."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import HOLIDAY_KEYS, load_settings
from bot.errors import ConfigError
from bot.holiday_notice import BUILTIN, notice_config
from models.calendar.festivals import KEYS

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_config_knows_the_calendars_festival_keys() -> None:
    assert HOLIDAY_KEYS == KEYS
    assert set(BUILTIN) == set(KEYS)


def test_built_in_defaults() -> None:
    settings = load_settings(data={})
    configs = [notice_config(settings, key) for key in KEYS]
    assert {c.key: c.audience for c in configs if c.enabled} == {
        "春节": "all", "三八": "women", "六一": "parents_under_14", "端午": "all", "中秋": "all",
    }
    spring = notice_config(settings, "春节")
    assert (spring.days_before, spring.send_at, spring.delivery, spring.template) == (
        7, time(9, 0), "groups", "holiday_春节")
    assert notice_config(settings, "端午").template == "holiday"  # the generic one
    assert settings.scheduler.grace_hours == 6
    assert (settings.scheduler.birthday_time, settings.scheduler.birthday_range) == ("08:00", "day")
    assert settings.scheduler.birthday_greeting is False


def test_a_section_overrides_only_what_it_says() -> None:
    settings = load_settings(data={"holidays": {"三八": {"gift": " 鲜花一束 ", "send_at": "8:05"}}})
    config = notice_config(settings, "三八")
    assert (config.enabled, config.audience, config.days_before) == (True, "women", 3)
    assert (config.gift, config.send_at) == ("鲜花一束", time(8, 5))
    off = load_settings(data={"holidays": {"端午": {"enabled": False}}})
    assert notice_config(off, "端午").enabled is False
    on = load_settings(data={"holidays": {"重阳": {"enabled": True, "template": "holiday_三八.txt.j2"}}})
    assert (notice_config(on, "重阳").enabled, notice_config(on, "重阳").template) == (True, "holiday_三八")


def test_the_example_file_documents_a_festival_with_the_default_values() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.holidays.keys() == ["端午"]
    assert notice_config(settings, "端午") == notice_config(load_settings(data={}), "端午")
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in ("enabled", "days_before", "send_at", "audience", "branches", "delivery", "gift",
                "pickup_place", "pickup_time", "note", "template"):
        assert f"\n{key} = " in text.split('\n[holidays."端午"]\n')[1], key
    assert '[holidays."三八"]' in text  # the commented example


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"holidays": {"端午节": {}}}, "holidays：「端午节」不是节日名称，可用：元旦、除夕"),
        ({"holidays": {"dragon_boat": {}}}, "holidays：「dragon_boat」不是节日名称"),
        ({"holidays": {"端午": {"send_at": "25:00"}}}, "holidays.端午.send_at：「25:00」不是一天中的时刻"),
        ({"holidays": {"端午": {"send_at": "早上九点"}}}, "holidays.端午.send_at：「早上九点」不是"),
        ({"holidays": {"端午": {"audience": "men"}}},
         "holidays.端午.audience：只能是 'all', 'women' 或 'parents_under_14'"),
        ({"holidays": {"端午": {"delivery": "email"}}}, "holidays.端午.delivery：只能是"),
        ({"holidays": {"端午": {"days_before": 61}}}, "holidays.端午.days_before"),
        ({"holidays": {"端午": {"branches": [""]}}}, "holidays.端午.branches：每一项是名册里的分工会名称"),
        ({"holidays": {"端午": {"template": "../secrets"}}},
         "holidays.端午.template：模板「../secrets」：请写文件名"),
        ({"holidays": {"端午": {"template": "holiday_圣诞"}}},
         "没有 templates/notices/holiday_圣诞.txt.j2 这个文件"),
        ({"holidays": {"端午": {"gfit": "粽子"}}}, "holidays.端午.gfit：没有这一项"),
        ({"holidays": {"端午": "粽子"}}, "holidays.端午：应为一节设置"),
        ({"scheduler": {"birthday_time": "8点"}}, "scheduler.birthday_time：「8点」不是一天中的时刻"),
        ({"scheduler": {"birthday_range": "month"}}, "scheduler.birthday_range：只能是 'day'"),
        ({"scheduler": {"grace_hours": 0}}, "scheduler.grace_hours"),
    ],
)
def test_bad_settings_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(data=data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_an_unquoted_chinese_section_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[holidays.端午]\nenabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"不是有效的 TOML：第 1 行第 \d+ 列写法有误"):
        load_settings(path)
    path.write_text('[holidays."端午"]\nenabled = true\n', encoding="utf-8")
    assert notice_config(load_settings(path), "端午").enabled is True
