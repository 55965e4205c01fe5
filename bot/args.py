"""Reading the arguments people type after a command word.

Pure functions, no I/O:

- ``split_args``  words, with quoted pieces kept together
- ``parse_pairs`` ``标题：… 理由：…`` / ``时间 … 地点 …`` style key/value text
- ``parse_count`` ``30``, ``+2``, ``十二``, ``两百零五人``
- ``parse_when`` / ``parse_day``  dates and times in the union's time zone

Anything that cannot be read raises ``UserError`` whose message (a macro of
``templates/notices/args.txt.j2``) is one sentence with an example of the right form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.render import say
from bot.text import shown

# ---------------------------------------------------------------- helpers


def _fail(macro: str, **values: Any) -> UserError:
    return UserError(say("args", macro, **values))


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


# ---------------------------------------------------------------- words

_SEPARATORS = frozenset(",，、;；")
_QUOTES = {'"': '"', "“": "”", "「": "」", "'": "'", "‘": "’"}


def split_args(text: str) -> list[str]:
    """Split on white space (U+3000 too) and on the commas people type instead
    (``，、；``), keeping quoted pieces together, quotes removed.

    A quote only opens at the start of a word, so apostrophes inside words (``I'm``)
    stay as they are; ``"a b"c`` gives ``a bc``.
    """
    words: list[str] = []
    current: list[str] = []
    in_word = False
    closing: str | None = None
    opened = ""
    for ch in text:
        if closing is not None:
            if ch == closing:
                closing = None
            else:
                current.append(ch)
        elif ch.isspace() or ch in _SEPARATORS:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        elif not in_word and ch in _QUOTES:
            closing, opened, in_word = _QUOTES[ch], ch, True
        else:
            current.append(ch)
            in_word = True
    if closing is not None:
        raise _fail("unbalanced_quote", quote=opened)
    if in_word:
        words.append("".join(current))
    return words


def parse_pairs(text: str, keys: Sequence[str]) -> dict[str, str]:
    """Read ``key：value`` / ``key value`` pairs; text before the first key goes under ``""``.

    A key counts at the start or after white space, followed by ``：``/``:`` or white
    space (or the end). Its value runs to the next key, so it may hold spaces and colons.
    """
    names = sorted({key for key in keys if key}, key=len, reverse=True)
    matches: list[re.Match[str]] = []
    if names:
        alternatives = "|".join(map(re.escape, names))
        pattern = re.compile(rf"(?:^|(?<=\s))({alternatives})(?:\s*[:：]|(?=\s)|$)")
        matches = list(pattern.finditer(text))
    result: dict[str, str] = {}
    head = text[: matches[0].start()] if matches else text
    if head.strip():
        result[""] = head.strip()
    if not matches:
        return result
    starts = [match.start() for match in matches]
    for match, end in zip(matches, [*starts[1:], len(text)], strict=True):
        key = match.group(1)
        if key in result:
            raise _fail("duplicate_key", key=key, keys=[k for k in keys if k][:3])
        result[key] = text[match.end() : end].strip()
    return result


# ---------------------------------------------------------------- counts

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS)
_COUNT_RE = re.compile(rf"([+-]?)\s*([0-9]+|[{_CN_CHARS}]{{1,12}})\s*[人位个名]?")
_MAX_DIGITS = 9


def _chinese_number(text: str) -> int | None:
    """``十二`` → 12, ``两百零五`` → 205, ``一百二`` → 120; None if not a well-formed numeral."""
    if text in ("零", "〇"):
        return 0
    total, digit, last_unit, after_zero = 0, None, 10_000, False
    for ch in text:
        if ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= last_unit:
                return None
            if digit is None:
                if total or unit != 10:
                    return None
                digit = 1  # 十二 = 一十二
            total, digit, last_unit, after_zero = total + digit * unit, None, unit, False
        elif _CN_DIGITS[ch] == 0:
            if digit is not None or not total:
                return None
            after_zero = True
        elif digit is not None:
            return None
        else:
            digit = _CN_DIGITS[ch]
    if digit is not None:
        short_form = not after_zero and 10 < last_unit < 10_000  # 一百二 = 120
        total += digit * last_unit // 10 if short_form else digit
    return total


def _small_number(text: str) -> int | None:
    """ASCII digits or a Chinese numeral (a leading 零 is allowed: 零五 → 5)."""
    if text.isascii():
        return int(text) if text.isdigit() else None
    if len(text) > 1 and text[0] in "零〇":
        text = text[1:]
    return _chinese_number(text)


def parse_count(text: str, *, minimum: int = 0, maximum: int = 10_000) -> int:
    """A count such as ``30``, ``+2``, ``十二`` or ``两百零五人``, within ``minimum..maximum``."""
    raw = _normalise(text)
    match = _COUNT_RE.fullmatch(raw)
    if match is None:
        raise _fail("bad_count", text=shown(text))
    sign, number = match.groups()
    if number.isascii():  # digits; an absurdly long string is simply out of range
        value = int(number) if len(number) <= _MAX_DIGITS else None
    elif (value := _small_number(number)) is None:
        raise _fail("bad_count", text=shown(text))
    if value is None or sign == "-" or not minimum <= value <= maximum:
        example = min(max(3, minimum), maximum)
        raise _fail(
            "count_out_of_range",
            text=shown(text),
            minimum=minimum,
            maximum=maximum,
            example=example,
        )
    return value


# ---------------------------------------------------------------- dates

_NUM = rf"[0-9]{{1,2}}|[{_CN_CHARS}]{{1,3}}"
_SHORTHANDS = {"今晚": "今天晚上", "明晚": "明天晚上", "明早": "明天早上"}
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS.update({str(n): n - 1 for n in range(1, 8)})

_YMD_RE = re.compile(
    r"(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})\s*[日号]?"
)
_MD_RE = re.compile(r"(?P<m>[0-9]{1,2})\s*[-/]\s*(?P<d>[0-9]{1,2})")
_MD_CN_RE = re.compile(rf"(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]?")
_RELATIVE_RE = re.compile("|".join(_RELATIVE_DAYS))
_WEEKDAY_RE = re.compile(
    r"(?P<rel>本|这个?|下个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"
)
_PAST_GRACE = timedelta(days=60)


def _example(today: date) -> dict[str, str]:
    """A good date to show in a refusal: three weeks ahead of ``today``, never a past one."""
    day = today + timedelta(days=21)
    return {"iso": day.isoformat(), "md": f"{day.month}月{day.day}日"}


def _calendar_day(year: int, month: int, day: int, text: str, today: date) -> date:
    if year < 2000 or year > 2100:
        raise _fail("year_out_of_range", text=shown(text), example=_example(today))
    try:
        return date(year, month, day)
    except ValueError:
        raise _fail("no_such_day", text=shown(text), example=_example(today)) from None


def _yearless_day(month: int | None, day: int | None, today: date, text: str) -> date:
    """The next occurrence of month/day, or the last one if it passed within 60 days."""
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, month or 0, day or 0)
        except ValueError:
            continue
        if candidate >= today - _PAST_GRACE:
            return candidate
    raise _fail("no_such_day", text=shown(text), example=_example(today))


def _weekday(rel: str | None, weekday: int, today: date) -> tuple[date, bool]:
    """The day for 周六/本周六/下周六; True if it should roll a week on when already past."""
    monday = today - timedelta(days=today.weekday())
    if rel is None:
        return today + timedelta(days=(weekday - today.weekday()) % 7), True
    return monday + timedelta(days=weekday + (7 if rel.startswith("下") else 0)), False


def _date_prefix(text: str, today: date) -> tuple[date | None, bool, str, str]:
    """Read a date at the start of ``text``: (day, roll a week if past, date text, rest)."""
    day: date | None = None
    roll = False
    if match := _YMD_RE.match(text):
        day = _calendar_day(int(match["y"]), int(match["m"]), int(match["d"]), text, today)
    elif match := _MD_RE.match(text) or _MD_CN_RE.match(text):
        day = _yearless_day(_small_number(match["m"]), _small_number(match["d"]), today, text)
    elif match := _RELATIVE_RE.match(text):
        day = today + timedelta(days=_RELATIVE_DAYS[match[0]])
    elif match := _WEEKDAY_RE.match(text):
        day, roll = _weekday(match["rel"], _WEEKDAYS[match["wd"]], today)
    if match is None:
        return None, False, "", text
    return day, roll, match[0], text[match.end() :].strip()


# ---------------------------------------------------------------- times

_MORNING = ("凌晨", "早上", "早晨", "清晨", "上午")
_EVENING = ("下午", "傍晚", "晚上", "夜里", "夜间")
_PERIOD = "|".join((*_MORNING, "中午", *_EVENING))
_TIME_RE = re.compile(
    rf"(?P<period>{_PERIOD})?\s*"
    rf"(?:(?P<h24>[0-9]{{1,2}}):(?P<m24>[0-9]{{2}})"
    rf"|(?P<h>{_NUM})\s*[点时]\s*(?:(?P<half>半)|(?P<m>{_NUM})\s*分?|整|钟)?)"
)

_PERIOD_ONLY = rf"(?:{_PERIOD})"
_CLOCK_ONLY = rf"(?:{_PERIOD})?\s*(?:[0-9]{{1,2}}:[0-9]{{2}}|(?:{_NUM})\s*[点时].{{0,4}})"


def _with_period(period: str | None, hour: int) -> int | None:
    """24-hour hour for ``下午2点`` etc.; None when the period and hour do not fit."""
    if period is None:
        return hour
    if hour >= 13:
        return hour if period in _EVENING or (period == "中午" and hour <= 14) else None
    if hour == 0:
        return 0 if period == "凌晨" else None
    if period in _MORNING:
        return hour
    if period == "中午":
        return hour if hour >= 11 else (hour + 12 if hour <= 2 else None)
    if hour == 12:
        return 12 if period == "下午" else None
    if period in ("晚上", "夜里", "夜间") and hour < 6:
        return None
    return hour + 12


def _clock(text: str, whole: str, day_text: str, today: date) -> time:
    match = _TIME_RE.fullmatch(text)
    if match is None and day_text:
        raise _fail("bad_time", text=shown(whole))
    if match is None:
        raise _fail("bad_date", text=shown(whole), example=_example(today))
    hour = _small_number(match["h24"] or match["h"])
    minute = 30 if match["half"] else _small_number(match["m24"] or match["m"] or "0")
    if hour is None or minute is None:
        raise _fail("bad_time", text=shown(whole))
    if hour >= 24 or minute >= 60:
        raise _fail("no_such_time", text=shown(whole))
    period = match["period"]
    zero_padded = match["h24"] is not None and len(match["h24"]) == 2
    if period is None and 1 <= hour <= 6 and not zero_padded:
        day = f"{day_text} " if day_text else ""
        error = _fail("ambiguous_hour", text=shown(whole), day=day, hour=hour)
        error.answers = ((_PERIOD_ONLY, f"{day}{{}}{text}"), (_CLOCK_ONLY, f"{day}{{}}"))
        raise error
    full_hour = _with_period(period, hour)
    if full_hour is None:
        raise _fail("bad_time", text=shown(whole))
    return time(full_hour, minute)


# ---------------------------------------------------------------- public


def _prepare(text: str) -> str:
    raw = _normalise(text)
    for short, long in _SHORTHANDS.items():
        if raw.startswith(short):
            return long + raw[len(short) :]
    return raw


def parse_when(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    default_time: time | None = None,
    allow_past: bool = False,
) -> datetime:
    """A date and time such as ``12月5日 14:00`` or ``下周六 下午2点``, aware in ``tz``.

    A bare time means today; a bare date takes ``default_time`` (refused when None).
    Past moments are refused unless ``allow_past``.
    """
    raw = _prepare(text)
    local_now = now.astimezone(tz)
    day, roll, day_text, rest = _date_prefix(raw, local_now.date())
    if rest:
        clock = _clock(rest, text, day_text, local_now.date())
    elif day is None:
        raise _fail("bad_date", text=shown(text), example=_example(local_now.date()))
    elif default_time is None:
        raise _fail("missing_time", text=shown(text))
    else:
        clock = default_time.replace(tzinfo=None)
    when = datetime.combine(day or local_now.date(), clock, tzinfo=tz)
    if roll and when < local_now:
        when += timedelta(days=7)
    if when < local_now and not allow_past:
        raise _fail("past_time", text=shown(text))
    return when


def parse_day(text: str, *, now: datetime, tz: ZoneInfo, allow_past: bool = False) -> date:
    """A date such as ``2026-12-05``, ``12月5日``, ``明天`` or ``下周六`` (no time of day)."""
    raw = _prepare(text)
    today = now.astimezone(tz).date()
    day, _roll, _day_text, rest = _date_prefix(raw, today)
    if day is None or rest:
        raise _fail("bad_day", text=shown(text), example=_example(today))
    if day < today and not allow_past:
        raise _fail("past_day", text=shown(text))
    return day
