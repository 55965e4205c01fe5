"""Reading a 公示: its kind from the title, and its end from ``期满 <日期|N个工作日>``.

``N个工作日`` counts on the statutory calendar from the day after publication and ends at
``[notices] end_time`` on the last working day; a date ends at that time on that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.args import parse_count, parse_day
from bot.context import Context
from bot.errors import UserError
from bot.render import say
from models.calendar.workdays import MAX_WORKING_DAYS, add_working_days
from models.notices.tables import CATEGORIES

T = "disclosures"

_TERM = re.compile(r"(?:^|(?<=\s))期满(?:\s*[:：]\s*|\s+|$)")
_WORKING = re.compile(r"(?P<n>[0-9]{1,3}|[零一二两三四五六七八九十百]{1,4})\s*个?\s*工作日")
_CONDITIONS = re.compile(r"\s*(?:条件|评优条件|依据)\s*[:：]?\s*(?P<number>[Gg]\s*[0-9]{1,7})\s*$")
_KIND_WORDS = (
    ("评优", ("评优", "评先", "先进", "优秀", "表彰", "推荐", "评选")),
    ("经费", ("经费", "收支", "财务", "预算", "决算", "慰问金")),
    ("院务", ("院务", "校务", "事务", "公开")),
)


@dataclass(frozen=True, slots=True)
class Term:
    """Where a 公示 ends, what was asked for, and the years counted Monday–Friday."""

    ends_at: datetime
    working_days: int | None
    estimated_years: tuple[int, ...] = ()


def detect_category(title: str) -> str | None:
    """评优条件 / 评优结果 / 经费 / 院务 from the words of the title; None when none fits."""
    for category, words in _KIND_WORDS:
        if any(word in title for word in words):
            if category == "评优":
                return "评优条件" if "条件" in title else "评优结果"
            return category
    if title.startswith("其他"):
        return "其他"
    return None


def parse_category(text: str) -> str:
    """An answer naming a kind: one of the categories, their first two characters, or 1–5."""
    answer = text.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(CATEGORIES):
        return CATEGORIES[int(answer) - 1]
    for category in CATEGORIES:
        if answer in (category, category[:2]) and answer != "评优":
            return category
    if answer == "评优":
        return "评优结果"
    raise UserError(say(T, "bad_category", text=answer[:20], categories=CATEGORIES))


def split_term(text: str) -> tuple[str, str | None, str]:
    """``<标题> 期满 <term> <内容>`` → (title, term or None, content)."""
    match = _TERM.search(text)
    if match is None:
        title, _, content = text.strip().partition(" ")
        return title.strip(), None, content.strip()
    rest = text[match.end():].strip()
    working = _WORKING.match(rest)
    if working is not None:
        return text[:match.start()].strip(), working.group(0), rest[working.end():].strip()
    term, _, content = rest.partition(" ")
    return text[:match.start()].strip(), term, content.strip()


def split_conditions(title: str) -> tuple[str, str | None]:
    """``… 条件 G3`` at the end of a title: the 公告 that announced a 评优's conditions."""
    match = _CONDITIONS.search(title)
    if match is None:
        return title, None
    return title[: match.start()].strip(), re.sub(r"\s", "", match.group("number")).upper()


def end_time(ctx: Context) -> time:
    hours, minutes = ctx.settings.notices.end_time.split(":")
    return time(int(hours), int(minutes))


def read_term(ctx: Context, term: str | None, published: datetime) -> Term:
    """The end of a 公示 published at ``published``; refused when past or absurd."""
    settings = ctx.settings.notices
    start = published.astimezone(ctx.tz).date()
    if term is None:
        return _working(ctx, start, settings.objection_days)
    working = _WORKING.fullmatch(term.strip())
    if working is not None:
        days = parse_count(working.group("n"), minimum=1, maximum=MAX_WORKING_DAYS)
        return _working(ctx, start, days)
    try:
        day = parse_day(term, now=published, tz=ctx.tz, allow_past=True)
    except UserError:
        raise UserError(say(T, "bad_term", text=term[:20], default=settings.objection_days)) from None
    return _checked(ctx, start, Term(datetime.combine(day, end_time(ctx), ctx.tz), None))


def _working(ctx: Context, start: date, days: int) -> Term:
    end = add_working_days(start, days)
    ends_at = datetime.combine(end.day, end_time(ctx), ctx.tz)
    return _checked(ctx, start, Term(ends_at, days, end.estimated_years))


def _checked(ctx: Context, start: date, term: Term) -> Term:
    last = term.ends_at.date()
    if last <= start:
        raise UserError(say(T, "term_too_short", end=term.ends_at, start=start))
    if last > start + timedelta(days=ctx.settings.notices.max_days):
        raise UserError(say(T, "term_too_long", end=term.ends_at, limit=ctx.settings.notices.max_days))
    return term
