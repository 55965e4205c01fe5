"""Tests of bot.args: words, key/value pairs, counts, dates and times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.args import parse_count, parse_day, parse_pairs, parse_when, split_args
from bot.errors import UserError

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday
EXAMPLE_DATE = "2026-12-14"  # three weeks after NOW


def refusal(call: Callable[[], object]) -> str:
    """The message of the UserError that ``call`` raises."""
    with pytest.raises(UserError) as caught:
        call()
    message = str(caught.value)
    assert message == caught.value.message
    assert "\n" not in message
    assert message.endswith("。")
    return message


def when(text: str, *, default_time: time | None = None, allow_past: bool = False) -> datetime:
    return parse_when(text, now=NOW, tz=SH, default_time=default_time, allow_past=allow_past)


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# ---------------------------------------------------------------- split_args


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("   ", []),
        ("报名 A12 +2", ["报名", "A12", "+2"]),
        ("报名\u3000A12\t +2\n", ["报名", "A12", "+2"]),
        ('备注 "晚到 十分钟"', ["备注", "晚到 十分钟"]),
        ("备注 “晚到 十分钟” 好", ["备注", "晚到 十分钟", "好"]),
        ("备注 「晚到　十分钟」", ["备注", "晚到　十分钟"]),
        ("备注 '晚到 十分钟'", ["备注", "晚到 十分钟"]),
        ("备注 ‘晚到 十分钟’", ["备注", "晚到 十分钟"]),
        ('备注 ""', ["备注", ""]),
        ('"a b"c d', ["a bc", "d"]),
        ("I'm late", ["I'm", "late"]),
        ("don’t 」stray", ["don’t", "」stray"]),
    ],
)
def test_split_args(text: str, words: list[str]) -> None:
    assert split_args(text) == words


@pytest.mark.parametrize("text", ['备注 "晚到 十分钟', "备注 “晚到", "「开会", "'x", "a ‘b c"])
def test_split_args_refuses_unbalanced_quotes(text: str) -> None:
    message = refusal(lambda: split_args(text))
    assert "引号" in message
    assert "例如" in message


# ---------------------------------------------------------------- parse_pairs

PROPOSAL_KEYS = ("标题", "理由", "建议")
EVENT_KEYS = ("时间", "地点", "名额", "截止", "可带")


def test_parse_pairs_with_colons() -> None:
    text = "标题：食堂延时 理由：晚上加班 建议：延长到八点"
    assert parse_pairs(text, PROPOSAL_KEYS) == {
        "标题": "食堂延时",
        "理由": "晚上加班",
        "建议": "延长到八点",
    }


def test_parse_pairs_with_spaces_and_times() -> None:
    text = "时间 12月5日 14:00 地点 体育馆 名额 30"
    assert parse_pairs(text, EVENT_KEYS) == {
        "时间": "12月5日 14:00",
        "地点": "体育馆",
        "名额": "30",
    }


def test_parse_pairs_leading_text_half_width_colons_and_spaces_in_values() -> None:
    text = "迎新年 长跑  时间: 明天 下午2点 地点 : 东操场 北门 截止：12-01 12:00"
    assert parse_pairs(text, EVENT_KEYS) == {
        "": "迎新年 长跑",
        "时间": "明天 下午2点",
        "地点": "东操场 北门",
        "截止": "12-01 12:00",
    }


def test_parse_pairs_key_only_counts_at_word_start() -> None:
    text = "理由：加班时间长 地点不够 建议：延长"
    assert parse_pairs(text, ("理由", "建议", "时间", "地点")) == {
        "理由": "加班时间长 地点不够",
        "建议": "延长",
    }


def test_parse_pairs_longer_key_wins_and_empty_values() -> None:
    assert parse_pairs("截止时间 明天 截止", ("截止", "截止时间")) == {
        "截止时间": "明天",
        "截止": "",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", {}), ("  ", {}), ("只有内容", {"": "只有内容"}), ("标题：x", {"标题": "x"})],
)
def test_parse_pairs_edges(text: str, expected: dict[str, str]) -> None:
    assert parse_pairs(text, PROPOSAL_KEYS) == expected


def test_parse_pairs_without_keys() -> None:
    assert parse_pairs(" a b ", []) == {"": "a b"}
    assert parse_pairs("a", ["", "b"]) == {"": "a"}


def test_parse_pairs_refuses_a_key_given_twice() -> None:
    message = refusal(lambda: parse_pairs("标题：a 理由：b 标题：c", PROPOSAL_KEYS))
    assert "「标题」" in message
    assert "例如 标题：… 理由：… 建议：…" in message


# ---------------------------------------------------------------- parse_count


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("30", 30),
        ("007", 7),
        ("+2", 2),
        ("+ 2", 2),
        (" 12 ", 12),
        ("３０", 30),
        ("10000", 10_000),
        ("零", 0),
        ("〇", 0),
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十五", 25),
        ("一百", 100),
        ("一百零五", 105),
        ("两百零五", 205),
        ("一百二", 120),
        ("一百二十", 120),
        ("两千三", 2300),
        ("一千零五十", 1050),
        ("零五", 5),
        ("三人", 3),
        ("5位", 5),
        ("十个", 10),
        ("+两名", 2),
        ("30 人", 30),
    ],
)
def test_parse_count(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "三十三三", "一二", "十十", "百", "3.5", "1e3", "2人人", "++2", "٣", "½"],
)
def test_parse_count_refuses_non_numbers(text: str) -> None:
    message = refusal(lambda: parse_count(text))
    assert "例如" in message or "3、+2 或 十二" in message


@pytest.mark.parametrize("text", ["-1", "-0", "10001", "9" * 50, "9" * 5000])
def test_parse_count_refuses_out_of_range(text: str) -> None:
    message = refusal(lambda: parse_count(text))
    assert "0 到 10000" in message
    assert "例如 3" in message
    assert len(message) < 120


def test_parse_count_custom_range() -> None:
    assert parse_count("5", minimum=1, maximum=5) == 5
    message = refusal(lambda: parse_count("0", minimum=1, maximum=5))
    assert "1 到 5" in message
    assert "例如 3" in message
    assert "例如 5" in refusal(lambda: parse_count("9", minimum=5, maximum=8))


def _chinese(n: int) -> str:
    """Standard Chinese numeral for 0 <= n < 10000 (十二, 一百零五, 一千零一十)."""
    if n == 0:
        return "零"
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    gap = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit % 10
        if digit == 0:
            gap = gap or bool(parts)
            continue
        if gap:
            parts.append("零")
            gap = False
        parts.append(digits[digit] + name)
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


@given(st.integers(min_value=0, max_value=9999))
def test_parse_count_round_trips(n: int) -> None:
    assert parse_count(str(n)) == n
    assert parse_count(f"+{n}人") == n
    assert parse_count(_chinese(n)) == n


# ---------------------------------------------------------------- parse_when: accepted forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # absolute dates
        ("2026-12-05 14:30", at(5, 14, 30, month=12)),
        ("2026/12/5 14:00", at(5, 14, month=12)),
        ("2026.12.05 14:00", at(5, 14, month=12)),
        ("2026年12月5日 14:00", at(5, 14, month=12)),
        ("2026年12月5日14:00", at(5, 14, month=12)),
        ("2027-01-05 09:00", at(5, 9, month=1, year=2027)),
        # dates without a year: the next occurrence
        ("12月5日 14:00", at(5, 14, month=12)),
        ("12月5号 14:00", at(5, 14, month=12)),
        ("12月5 14:00", at(5, 14, month=12)),
        ("十二月五日 14:00", at(5, 14, month=12)),
        ("12-05 14:00", at(5, 14, month=12)),
        ("12/5 14:00", at(5, 14, month=12)),
        ("1月5日 9点", at(5, 9, month=1, year=2027)),
        ("9月1日 9点", at(1, 9, month=9, year=2027)),  # 83 days ago: next year
        ("11-23 11:00", at(23, 11)),
        # relative days
        ("今天 14:00", at(23, 14)),
        ("明天 14:00", at(24, 14)),
        ("明天14点", at(24, 14)),
        ("后天 下午2点", at(25, 14)),
        ("今晚7点", at(23, 19)),
        ("明晚 8点", at(24, 20)),
        ("明早8点", at(24, 8)),
        # weekdays (weeks start on Monday; today is Monday 11-23)
        ("周六 14:00", at(28, 14)),
        ("星期六 14:00", at(28, 14)),
        ("礼拜六 14:00", at(28, 14)),
        ("本周六 14:00", at(28, 14)),
        ("这周六 14:00", at(28, 14)),
        ("这个周六 14:00", at(28, 14)),
        ("周日 14:00", at(29, 14)),
        ("礼拜天 14:00", at(29, 14)),
        ("本周日 14:00", at(29, 14)),
        ("下周六 下午2点", at(5, 14, month=12)),
        ("下星期六 14:00", at(5, 14, month=12)),
        ("下个周六 14:00", at(5, 14, month=12)),
        ("下周一 9点", at(30, 9)),
        ("下周日 9点", at(6, 9, month=12)),
        ("周一 14:00", at(23, 14)),  # today, still ahead
        ("周一 9:00", at(30, 9)),  # today's has passed: next Monday
        ("周二 9:00", at(24, 9)),
        ("本周二 9:00", at(24, 9)),
        # bare times mean today
        ("14:00", at(23, 14)),
        ("10:00", at(23, 10)),
        ("14点", at(23, 14)),
        ("14点30", at(23, 14, 30)),
        ("14点30分", at(23, 14, 30)),
        ("14点05", at(23, 14, 5)),
        ("14点半", at(23, 14, 30)),
        ("14时30分", at(23, 14, 30)),
        ("14点整", at(23, 14)),
        ("下午2点", at(23, 14)),
        ("下午2点半", at(23, 14, 30)),
        ("下午两点半", at(23, 14, 30)),
        ("下午2:30", at(23, 14, 30)),
        ("下午14点", at(23, 14)),
        ("上午11点", at(23, 11)),
        ("中午12点", at(23, 12)),
        ("中午1点", at(23, 13)),
        ("下午12点", at(23, 12)),
        ("晚上7点", at(23, 19)),
        ("晚上十点", at(23, 22)),
        ("傍晚6点", at(23, 18)),
        ("十二点", at(23, 12)),
        ("11点", at(23, 11)),
        ("23:59", at(23, 23, 59)),
        # morning forms, tomorrow because this morning has passed
        ("明天 上午9点", at(24, 9)),
        ("明天 早上8点", at(24, 8)),
        ("明天 早晨7点半", at(24, 7, 30)),
        ("明天 凌晨2点", at(24, 2)),
        ("明天 8点", at(24, 8)),
        ("明天 03:00", at(24, 3)),
        ("明天 0:00", at(24, 0)),
        # full-width input and extra spaces
        ("１２月５日　１４：００", at(5, 14, month=12)),
        ("  明天   14:00  ", at(24, 14)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    result = when(text)
    assert result == expected
    assert result.tzinfo is SH
    assert result.utcoffset() == timedelta(hours=8)


def test_parse_when_default_time_for_a_bare_date() -> None:
    assert when("12-05", default_time=time(9, 0)) == at(5, 9, month=12)
    assert when("下周六", default_time=time(9, 30)) == at(5, 9, 30, month=12)
    assert when("周一", default_time=time(9, 0)) == at(30, 9)
    assert when("周一", default_time=time(18, 0)) == at(23, 18)
    assert when("明天", default_time=time(9, 0, tzinfo=ZoneInfo("UTC"))) == at(24, 9)
    # a given time wins over the default
    assert when("明天 15:00", default_time=time(9, 0)) == at(24, 15)


def test_parse_when_uses_the_unions_time_zone() -> None:
    utc_now = datetime(2026, 11, 22, 20, 0, tzinfo=ZoneInfo("UTC"))  # 11-23 04:00 in Shanghai
    result = parse_when("今天 14:00", now=utc_now, tz=SH)
    assert result == at(23, 14)
    assert result.tzinfo is SH
    assert parse_day("明天", now=utc_now, tz=SH) == date(2026, 11, 24)
    assert parse_when("周一 9:00", now=utc_now, tz=SH) == at(23, 9)


def test_parse_when_today_on_saturday() -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SH)
    assert parse_when("周六 14:00", now=saturday, tz=SH) == at(28, 14)
    assert parse_when("周六 9:00", now=saturday, tz=SH) == at(5, 9, month=12)
    assert parse_when("下周六 9:00", now=saturday, tz=SH) == at(5, 9, month=12)
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=SH)
    message = refusal(lambda: parse_when("本周六 14:00", now=sunday, tz=SH))
    assert "已经过去" in message
    assert parse_when("本周六 14:00", now=sunday, tz=SH, allow_past=True) == at(28, 14)
    assert parse_when("周六 14:00", now=sunday, tz=SH) == at(5, 14, month=12)


def test_parse_when_year_boundary() -> None:
    december = datetime(2026, 12, 30, 10, 0, tzinfo=SH)
    assert parse_when("1月2日 9点", now=december, tz=SH) == at(2, 9, month=1, year=2027)
    assert parse_when("下周六 9点", now=december, tz=SH) == at(9, 9, month=1, year=2027)
    january = datetime(2027, 1, 10, 10, 0, tzinfo=SH)
    message = refusal(lambda: parse_when("12月20日 9点", now=january, tz=SH))
    assert "已经过去" in message  # passed within 60 days, so not next December
    assert parse_when("12月20日 9点", now=january, tz=SH, allow_past=True) == at(
        20, 9, month=12, year=2026
    )
    assert parse_when("11月1日 9点", now=january, tz=SH) == at(1, 9, month=11, year=2027)


def test_parse_when_leap_day() -> None:
    before_leap_year = datetime(2027, 12, 1, 10, 0, tzinfo=SH)
    assert parse_day("2月29日", now=before_leap_year, tz=SH) == date(2028, 2, 29)
    assert parse_day("2028-02-29", now=NOW, tz=SH) == date(2028, 2, 29)


def test_parse_when_allow_past() -> None:
    assert when("2026-11-01 10:00", allow_past=True) == at(1, 10)
    assert when("11-01 10:00", allow_past=True) == at(1, 10)
    assert when("今天 9:00", allow_past=True) == at(23, 9)
    assert when("本周一 9点", allow_past=True) == at(23, 9)
    assert when("2000-01-01 00:00", allow_past=True) == datetime(2000, 1, 1, tzinfo=SH)


# ---------------------------------------------------------------- parse_when: refusals


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["日期看不懂", "明天 14:00"]),
        ("下下下周", ["日期看不懂：「下下下周」", "下周六 下午2点"]),
        ("20261205", ["日期看不懂", EXAMPLE_DATE]),
        ("下下周六 14:00", ["日期看不懂", EXAMPLE_DATE]),
        ("大后天 14:00", ["日期看不懂", EXAMPLE_DATE]),
        ("2pm", ["日期看不懂", EXAMPLE_DATE]),
        ("14", ["日期看不懂", EXAMPLE_DATE]),
        ("12月", ["日期看不懂", EXAMPLE_DATE]),
        ("明天 2pm", ["时间看不懂", "14:00"]),
        ("明天 下午", ["时间看不懂", "下午2点半"]),
        ("明天 14:00:00", ["时间看不懂", "14:00"]),
        ("明天 上午14点", ["时间看不懂", "上午9点"]),
        ("明天 晚上2点", ["时间看不懂", "14:00"]),
        ("明天 晚上12点", ["时间看不懂", "14:00"]),
        ("明天 下午0点", ["时间看不懂", "14:00"]),
        ("明天 十十点", ["时间看不懂", "14:00"]),
        ("2026-02-30 14:00", ["没有这一天", EXAMPLE_DATE]),
        ("2月30日 14:00", ["没有这一天", "12月14日"]),
        ("2月29日 14:00", ["没有这一天", "12月14日"]),
        ("2026-13-01 14:00", ["没有这一天", EXAMPLE_DATE]),
        ("0-05 14:00", ["没有这一天", EXAMPLE_DATE]),
        ("1999-12-05 14:00", ["年份不对", EXAMPLE_DATE]),
        ("2101-01-01 14:00", ["年份不对", EXAMPLE_DATE]),
        ("25:00", ["没有这个时间", "14:30"]),
        ("24:00", ["没有这个时间", "14:30"]),
        ("明天 24点", ["没有这个时间", "14:30"]),
        ("14:60", ["没有这个时间", "14:30"]),
        ("明天 14点75", ["没有这个时间", "14:30"]),
        ("3点", ["上午还是下午", "下午3点", "15:00"]),
        ("3:00", ["上午还是下午", "下午3点", "15:00"]),
        ("明天 3点", ["上午还是下午", "明天 下午3点", "明天 15:00"]),
        ("12月5日 6点半", ["上午还是下午", "12月5日 下午6点", "12月5日 18:00"]),
        ("明天 两点零五分", ["上午还是下午", "明天 下午2点"]),
        ("明天 1点", ["上午还是下午", "下午1点"]),
        ("12月5日", ["还缺具体几点", "12月5日 14:00"]),
        ("下周六", ["还缺具体几点", "下周六 14:00"]),
        ("今天 9:00", ["已经过去", "明天 14:00"]),
        ("9:59", ["已经过去", "明天 14:00"]),
        ("本周一 9点", ["已经过去", "下周六 下午2点"]),
        ("2026-11-01 10:00", ["已经过去", "明天 14:00"]),
        ("11-01 10:00", ["已经过去", "明天 14:00"]),
        ("11月22日 20:00", ["已经过去", "明天 14:00"]),
        ("2025-12-05 14:00", ["已经过去", "明天 14:00"]),
    ],
)
def test_parse_when_refusals(text: str, words: list[str]) -> None:
    message = refusal(lambda: when(text))
    for word in words:
        assert word in message


def test_refusals_shorten_long_input() -> None:
    message = refusal(lambda: when("明天 " + "很久" * 200))
    assert len(message) < 150
    assert "…" in message


# ---------------------------------------------------------------- parse_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05", date(2026, 12, 5)),
        ("2026/12/5", date(2026, 12, 5)),
        ("2026年12月5日", date(2026, 12, 5)),
        ("12月5日", date(2026, 12, 5)),
        ("12月5号", date(2026, 12, 5)),
        ("12-05", date(2026, 12, 5)),
        ("1-5", date(2027, 1, 5)),
        ("今天", date(2026, 11, 23)),
        ("明天", date(2026, 11, 24)),
        ("后天", date(2026, 11, 25)),
        ("周一", date(2026, 11, 23)),
        ("周六", date(2026, 11, 28)),
        ("星期六", date(2026, 11, 28)),
        ("本周日", date(2026, 11, 29)),
        ("下周六", date(2026, 11, 28) + timedelta(days=7)),
        ("下星期一", date(2026, 11, 30)),
        ("１２月５日", date(2026, 12, 5)),
    ],
)
def test_parse_day(text: str, expected: date) -> None:
    assert parse_day(text, now=NOW, tz=SH) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["日期看不懂", "下周六"]),
        ("明天 14:00", ["日期看不懂", EXAMPLE_DATE]),
        ("14:00", ["日期看不懂", EXAMPLE_DATE]),
        ("今晚", ["日期看不懂", EXAMPLE_DATE]),
        ("下下周", ["日期看不懂", EXAMPLE_DATE]),
        ("2月30日", ["没有这一天", EXAMPLE_DATE]),
        ("2200-01-01", ["年份不对", EXAMPLE_DATE]),
        ("11-20", ["已经过去", "明天 或 下周六"]),
        ("2026-11-22", ["已经过去", "明天 或 下周六"]),
    ],
)
def test_parse_day_refusals(text: str, words: list[str]) -> None:
    message = refusal(lambda: parse_day(text, now=NOW, tz=SH))
    for word in words:
        assert word in message


def test_parse_day_allow_past() -> None:
    assert parse_day("11-20", now=NOW, tz=SH, allow_past=True) == date(2026, 11, 20)
    assert parse_day("2026-01-01", now=NOW, tz=SH, allow_past=True) == date(2026, 1, 1)


# ---------------------------------------------------------------- never anything but UserError

DATE_ALPHABET = (
    "0123456789０１２:：-/.年月日号点时分半整钟今明后天晚早"
    "周星期礼拜本这个下上午中傍凌晨夜里一二两三十百千零 　"
)
FUZZ = settings(deadline=None, max_examples=300)


def _only_user_errors(call: Callable[[], object]) -> None:
    try:
        call()
    except UserError as exc:
        assert str(exc).strip()
        assert "\n" not in str(exc)


@FUZZ
@given(st.text())
def test_split_args_fuzz(text: str) -> None:
    _only_user_errors(lambda: split_args(text))


@FUZZ
@given(st.text(alphabet=st.characters(exclude_characters="\"“「'‘,，、;；")))
def test_split_args_without_quotes_is_str_split(text: str) -> None:
    assert split_args(text) == text.split()


@FUZZ
@given(st.lists(st.text(alphabet="ab c\u3000", min_size=0, max_size=6), max_size=5))
def test_split_args_keeps_quoted_words(words: list[str]) -> None:
    text = " ".join(f"“{word}”" for word in words)
    assert split_args(text) == words


@FUZZ
@given(st.text(), st.lists(st.text(max_size=4), max_size=4))
def test_parse_pairs_fuzz(text: str, keys: list[str]) -> None:
    try:
        result = parse_pairs(text, keys)
    except UserError:
        return
    assert set(result) <= {"", *keys}
    assert all(value == value.strip() for value in result.values())


@FUZZ
@given(st.text(alphabet="标题理由建议：: 　ab", max_size=30))
def test_parse_pairs_fuzz_with_keys(text: str) -> None:
    _only_user_errors(lambda: parse_pairs(text, PROPOSAL_KEYS))


@FUZZ
@given(st.text() | st.text(alphabet="0123456789+-十百千零一二两三人位个名 ", max_size=14))
def test_parse_count_fuzz(text: str) -> None:
    try:
        value = parse_count(text)
    except UserError:
        return
    assert 0 <= value <= 10_000


@FUZZ
@given(
    st.text() | st.text(alphabet=DATE_ALPHABET, max_size=20),
    st.booleans(),
    st.sampled_from([None, time(9, 0)]),
)
def test_parse_when_fuzz(text: str, allow_past: bool, default: time | None) -> None:
    try:
        result = when(text, allow_past=allow_past, default_time=default)
    except UserError:
        return
    assert result.tzinfo is SH
    assert allow_past or result >= NOW


@FUZZ
@given(st.text() | st.text(alphabet=DATE_ALPHABET, max_size=20), st.booleans())
def test_parse_day_fuzz(text: str, allow_past: bool) -> None:
    try:
        result = parse_day(text, now=NOW, tz=SH, allow_past=allow_past)
    except UserError:
        return
    assert allow_past or result >= NOW.date()
