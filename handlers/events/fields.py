"""Reading what officers type about an event: ``时间 … 地点 … 名额 …`` and friends.

``read_items`` splits the text into items by their key words; one parser per item turns
its text into a value or raises ``FieldError`` (a ``UserError`` that also says which
item was wrong, so the guided dialog can ask that question again).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.args import parse_count, parse_pairs, parse_when, split_args
from bot.context import Context
from bot.errors import UserError
from bot.text import shown
from handlers.events.text import clean, say_events
from models.events.queries import branch_by_name, root_branch_ids
from models.events.tables import GENDERS

KEYS: dict[str, str] = {
    "名称": "title", "活动名称": "title",
    "时间": "time", "活动时间": "time",
    "地点": "place", "地址": "place",
    "名额": "capacity", "人数": "capacity",
    "截止": "deadline", "报名截止": "deadline", "截止时间": "deadline",
    "可带": "guests", "可带家属": "guests",
    "结束": "end", "结束时间": "end",
    "对象": "audience", "范围": "audience",
    "填写": "fields", "需填": "fields", "须填": "fields",
    "备注": "note", "说明": "note",
}  # fmt: skip
LABELS = {
    "title": "名称", "time": "时间", "place": "地点", "capacity": "名额", "deadline": "截止",
    "guests": "可带", "end": "结束", "audience": "对象", "fields": "填写", "note": "备注",
}  # fmt: skip
REQUIRED = ("title", "time", "place", "capacity")
NONE_WORDS = frozenset({"无", "没有", "不限", "不用", "否", "-", "none"})
PLACE_MAX = 64
EVENT_NOTE_MAX = 500
FIELDS_MAX = 5
FIELD_NAME_MAX = 10
TITLE_HARD_MAX = 64
CAPACITY_HARD_MAX = 100_000
WHOLE_UNION = frozenset({"全校", "全体", "全校教职工", "全体教职工", "全体会员", "全校会员",
                         "校工会", "所有人", "教职工", "全员"})  # fmt: skip
OWN_BRANCH = frozenset({"", "本分工会", "本单位", "本院", "本部门", "本学院"})
_GENDER_WORDS = re.compile(r"(女|男)(?:教职工|职工|教工|会员|同志|性|同胞)?$")
_SEPARATORS = re.compile(r"\s*(?:-|~|～|—|–|至|到)\s*")
_DATE_START = re.compile(
    r"^\s*(?:[0-9]{4}\s*[-/.年]|[0-9]{1,2}\s*[-/月]|今|明|后天|[本这下]?个?(?:周|星期|礼拜))"
)
_FIELD_SPLIT = re.compile(r"[、,，;；/\s]+")
_END_OF_DAY = time(23, 59)
_DIGIT_GROUPS = re.compile(r"\+?[0-9]+(?:[ -][0-9]+)*")
_PHONE_FIELD = re.compile(r"电话|手机|phone|tel", re.IGNORECASE)


class FieldError(UserError):
    """An item of an event that cannot be used; ``key`` names the item (``"time"``…)."""

    def __init__(self, key: str, message: str, answers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message, answers=answers)
        self.key = key


def _fail(key: str, macro: str, **values: Any) -> FieldError:
    return FieldError(key, say_events(macro, **values))


def _as_field_error(key: str, exc: UserError) -> FieldError:
    return FieldError(key, exc.message, exc.answers)


def read_items(text: str) -> tuple[str, dict[str, str]]:
    """Text before the first key word, and the items by their canonical names."""
    pairs = parse_pairs(text, list(KEYS))
    head = clean(pairs.pop("", ""))
    items: dict[str, str] = {}
    for word, value in pairs.items():
        key = KEYS[word]
        if key in items:
            raise UserError(say_events("duplicate_item", name=LABELS[key]))
        items[key] = clean(value)
    return head, items


def is_none(text: str) -> bool:
    return text.strip().lower() in NONE_WORDS


# ---------------------------------------------------------------- answers to an event's fields


def _is_phone(digits: str) -> bool:
    """A mainland mobile (11 digits from 1, +86 allowed), a landline with its area code
    (10–12 digits from 0) or a local one (7–8 digits from 2–9)."""
    digits = digits.removeprefix("86") if len(digits) == 13 else digits
    if digits[:1] == "1":
        return len(digits) == 11
    if digits[:1] == "0":
        return 10 <= len(digits) <= 12
    return 7 <= len(digits) <= 8


def read_answer(name: str, text: str, code: str) -> tuple[str, str]:
    """The answer to field ``name`` at the start of ``text``, and what follows (the note).

    The answer is one word (quote it if it has spaces), except a number written in groups
    (``138 0000 0002``, ``0571-8888 1234``): it is kept whole when it is a telephone
    number. Groups that make no telephone number, and a telephone field answered with
    something else, are asked about instead of being stored.
    """
    groups = _DIGIT_GROUPS.match(text.strip())
    phone_field = _PHONE_FIELD.search(name) is not None
    if groups is not None and (phone_field or " " in groups[0]):
        if _is_phone(re.sub(r"[^0-9]", "", groups[0])):
            return groups[0].replace(" ", ""), clean(text.strip()[groups.end():])
        raise UserError(say_events("unclear_number", name=name, text=shown(groups[0]), code=code))
    words = split_args(text)
    if phone_field and words:
        raise UserError(say_events("unclear_number", name=name, text=shown(words[0]), code=code))
    return (clean(words[0]), " ".join(words[1:])) if words else ("", "")


# ---------------------------------------------------------------- one item each


def parse_title(text: str, limit: int = TITLE_HARD_MAX) -> str:
    title = clean(text)
    if not title:
        raise _fail("title", "empty_title")
    if len(title) > limit:
        raise _fail("title", "title_too_long", limit=limit, length=len(title))
    return title


def parse_place(text: str) -> str:
    place = clean(text)
    if not place:
        raise _fail("place", "empty_place")
    if len(place) > PLACE_MAX:
        raise _fail("place", "place_too_long", limit=PLACE_MAX)
    return place


def parse_capacity(text: str, maximum: int = CAPACITY_HARD_MAX) -> int:
    try:
        return parse_count(text, minimum=1, maximum=maximum)
    except UserError:
        raise _fail("capacity", "bad_capacity", text=shown(text, 20), maximum=maximum) from None


def parse_max_guests(text: str, maximum: int) -> int:
    if is_none(text) or text.strip() in ("不可带", "不能带"):
        return 0
    words = clean(text).removesuffix("家属").removesuffix("位").removesuffix("人")
    try:
        return parse_count(words, minimum=0, maximum=maximum)
    except UserError:
        raise _fail("guests", "bad_max_guests", text=shown(text, 20), maximum=maximum) from None


def parse_note(text: str) -> str | None:
    if is_none(text):
        return None
    note = clean(text)
    if len(note) > EVENT_NOTE_MAX:
        raise _fail("note", "event_note_too_long", limit=EVENT_NOTE_MAX)
    return note or None


def parse_fields(text: str) -> list[str]:
    """``尺码、联系电话`` → ["尺码", "联系电话"]; ``无`` → []."""
    if is_none(text):
        return []
    names = [name for name in _FIELD_SPLIT.split(clean(text)) if name]
    if not names or len(names) > FIELDS_MAX or any(len(n) > FIELD_NAME_MAX for n in names):
        raise _fail("fields", "bad_fields", limit=FIELDS_MAX, count=FIELDS_MAX, length=FIELD_NAME_MAX)
    for name in names:
        if name in KEYS or name in ("备注", "+"):
            raise _fail("fields", "reserved_field", name=name)
    return list(dict.fromkeys(names))


def parse_start(text: str, *, now: datetime, tz: ZoneInfo, allow_past: bool = False) -> datetime:
    try:
        return parse_when(text, now=now, tz=tz, allow_past=allow_past)
    except UserError as exc:
        raise _as_field_error("time", exc) from None


def parse_end(text: str, start: datetime, *, now: datetime, tz: ZoneInfo) -> datetime:
    """An end time; a bare clock (``16:00``, ``4点``) is on the start's day."""
    text = clean(text)
    local = start.astimezone(tz)
    attempts = [text] if _DATE_START.match(text) else [f"{local:%Y-%m-%d} {text}"]
    if local.hour >= 12 and not _DATE_START.match(text):
        attempts.append(f"{local:%Y-%m-%d} 下午{text}")  # 下午2点到4点
    for attempt in attempts:
        try:
            return parse_when(attempt, now=now, tz=tz, allow_past=True)
        except UserError:
            continue
    raise _fail("end", "bad_end", text=shown(text), day=f"{local.month}月{local.day}日")


def parse_span(
    text: str, *, now: datetime, tz: ZoneInfo, allow_past: bool = False
) -> tuple[datetime, datetime | None]:
    """``12月5日 14:00-16:00`` → (start, end); a single time → (start, None)."""
    text = clean(text)
    for match in reversed(list(_SEPARATORS.finditer(text))):
        left, right = text[: match.start()], text[match.end() :]
        if not left or not right:
            continue
        try:
            start = parse_when(left, now=now, tz=tz, allow_past=True)
            end = parse_end(right, start, now=now, tz=tz)
        except UserError:
            continue
        if not allow_past:
            parse_start(left, now=now, tz=tz)  # the past is refused with its own sentence
        return start, end
    return parse_start(text, now=now, tz=tz, allow_past=allow_past), None


def parse_deadline(text: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """``12月4日 18:00``; a bare date means the end of that day; ``无`` means the default."""
    if is_none(text):
        return None
    try:
        return parse_when(text, now=now, tz=tz, default_time=_END_OF_DAY)
    except UserError as exc:
        raise _as_field_error("deadline", exc) from None


async def parse_audience(ctx: Context, text: str) -> tuple[int | None, str | None]:
    """``本分工会`` / ``全校`` / ``计算机学院分工会`` / ``女职工`` / ``全校女职工`` → (branch, gender).

    Without a place, the audience is the officer's own branch (the whole union for
    officers of the university union itself).
    """
    words = clean(text).replace(" ", "")
    gender = None
    if match := _GENDER_WORDS.search(words):
        gender = match.group(1)
        words = words[: match.start()]
    assert gender is None or gender in GENDERS
    if words in OWN_BRANCH:
        return await own_branch(ctx), gender
    if words in WHOLE_UNION or words == ctx.settings.union.name:
        return None, gender
    for name in (words, f"{words}分工会"):
        branch = await branch_by_name(ctx.session, name)
        if branch is not None and branch.id is not None:
            roots = await root_branch_ids(ctx.session)
            return (None if branch.id in roots else branch.id), gender
    raise _fail("audience", "unknown_branch", text=shown(text))


async def own_branch(ctx: Context) -> int | None:
    """The officer's branch as an audience: None (the whole union) for the union itself."""
    assert ctx.member is not None
    roots = await root_branch_ids(ctx.session)
    return None if ctx.member.branch_id in roots else ctx.member.branch_id
