"""Shared pieces of the event commands: showing times, describing an event, finding it.

Dates are shown in the union's time zone the way people write them in a notice:
``12月5日（周六）14:00``, with the year only when it is not the current one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.render import say
from bot.scope import reach, require_reach
from bot.text import shown
from models.events.queries import branch_names, current_events, event_by_number
from models.events.tables import (
    Event,
    EventRefusal,
    Timing,
    admits,
    closes_at,
    code_of,
    looks_like_code,
    parse_code,
    phase,
)
from models.events.tables import signup_deadline as deadline_of

WEEKDAYS = "一二三四五六日"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def timing(ctx: Context) -> Timing:
    config = ctx.settings.events
    return Timing(
        default_deadline_before=timedelta(minutes=config.deadline_minutes_before_start),
        checkin_margin=timedelta(minutes=config.checkin_margin_minutes),
    )


def when(ctx: Context, moment: datetime) -> str:
    """``12月5日（周六）14:00`` in the union's time zone; the year only if not this year."""
    local = moment.astimezone(ctx.tz)
    year = "" if local.year == ctx.now.astimezone(ctx.tz).year else f"{local.year}年"
    return f"{year}{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def span(ctx: Context, start: datetime, end: datetime | None) -> str:
    """``12月5日（周六）14:00–16:00``; an end on another day is written in full."""
    if end is None:
        return when(ctx, start)
    if start.astimezone(ctx.tz).date() == end.astimezone(ctx.tz).date():
        return f"{when(ctx, start)}–{end.astimezone(ctx.tz):%H:%M}"
    return f"{when(ctx, start)} 至 {when(ctx, end)}"


def month_day(day: date) -> str:
    """``12月26日``."""
    return f"{day.month}月{day.day}日"


def example_day(ctx: Context, days: int = 21) -> str:
    """A date for an example in a reply: ``days`` ahead of the clock, never a past one."""
    return month_day(ctx.now.astimezone(ctx.tz).date() + timedelta(days=days))


async def example_code(ctx: Context, typed: str | None = None, *, managed: bool = False) -> str:
    """An event code for an example: the one the sender typed when it is well-formed,
    else the soonest current event they may join (``managed``: that they manage)."""
    if typed and (number := parse_code(typed)) is not None:
        return code_of(number)
    events = await current_events(ctx.session, now=ctx.now, tz=ctx.tz)
    if managed and ctx.member is not None:
        scope = await reach(ctx)
        events = [e for e in events if scope.covers(e.audience_branch_id)]
    elif ctx.member is not None:
        member = ctx.member
        events = [e for e in events if admits(e, member.branch_id, member.gender)]
    return events[0].code if events else code_of(1)


def clean(text: str) -> str:
    """One line of user text: control characters removed, white space folded."""
    return " ".join(_CONTROL.sub("", text).split())


def say_events(macro: str, /, **values: Any) -> str:
    """Render a macro of ``notices/events.txt.j2`` without the blank lines that optional
    parts leave behind."""
    return "\n".join(line for line in say("events", macro, **values).splitlines() if line.strip())


OVER = frozenset({"event_cancelled", "event_finished"})  # refusals that name the command refused


def refused(ctx: Context, exc: EventRefusal, *, action: str | None = None, **extra: Any) -> UserError:
    """The sentence for a domain refusal; times are shown in the union's time zone.

    ``action`` (``signup``, ``withdraw``, ``checkin``, ``modify``, ``cancel``) says what
    could not be done to a cancelled or finished event.
    """
    values = {**exc.values, **extra}
    if action is not None and exc.reason in OVER:
        values["action"] = action
    if exc.reason in ("end_before_start", "deadline_after_start"):  # examples on the event's own day
        start = exc.values["starts_at"].astimezone(ctx.tz).date()
        values.update(day=month_day(start), eve=month_day(start - timedelta(days=1)))
    shown = {key: when(ctx, value) if isinstance(value, datetime) else value for key, value in values.items()}
    return UserError(say_events(exc.reason, **shown))


def audience_what(text: str) -> str:
    """How a denial names an audience an officer typed: ``报名对象「全校」``."""
    return f"报名对象「{shown(text)}」"


async def find_managed(ctx: Context, word: str, *, lock: bool = False) -> Event:
    """The event a code names, when it is in the officer's reach (``bot.scope``)."""
    event = await find_event(ctx, word, lock=lock, managed=True)
    await require_reach(ctx, event.audience_branch_id, what=f"{event.code}（{event.title}）")
    return event


async def not_a_code(ctx: Context, text: str, *, managed: bool = False) -> UserError:
    """``「…」不是活动编号``, with a code of an event at hand as the example."""
    example = await example_code(ctx, managed=managed)
    return UserError(say_events("bad_code", text=shown(text, 20), example=example))


async def code_number(ctx: Context, word: str, *, managed: bool = False) -> int:
    """The n of a code ``A<n>``; ``UserError`` when the word is not a code."""
    number = parse_code(word)
    if number is None:
        raise await not_a_code(ctx, word, managed=managed)
    return number


async def find_event(ctx: Context, word: str, *, lock: bool = False, managed: bool = False) -> Event:
    """The event a code names; ``UserError`` for a malformed or unknown code."""
    return await load_event(ctx, await code_number(ctx, word, managed=managed), lock=lock, managed=managed)


async def load_event(ctx: Context, number: int, *, lock: bool = False, managed: bool = False) -> Event:
    """The event ``A<number>``; ``UserError`` when there is none."""
    event = await event_by_number(ctx.session, number, lock=lock)
    if event is None:
        example = await example_code(ctx, managed=managed)
        raise UserError(say_events("unknown_event", code=code_of(number), example=example))
    return event


def split_code(args: str) -> tuple[str | None, str]:
    """``"A3 +1 素食"`` → (``"A3"``, ``"+1 素食"``); no leading code → (None, args)."""
    first, _, rest = args.strip().partition(" ")
    if first and looks_like_code(first):
        return first, rest.strip()
    return None, args.strip()


@dataclass(frozen=True, slots=True)
class EventView:
    """An event as the templates show it."""

    code: str
    title: str
    time: str
    place: str
    capacity: int
    taken: int
    left: int
    waiting: int
    max_guests: int
    deadline: str
    audience: str
    fields: list[str]
    note: str | None
    state: str  # open, closed, finished, cancelled
    cancel_reason: str | None
    checkin_from: str
    checkin_until: str


async def audience_label(ctx: Context, event: Event, names: dict[int, str] | None = None) -> str:
    """``全校教职工``, ``计算机学院分工会``, ``全校女职工``, ``计算机学院分工会女职工``."""
    if names is None:
        names = await branch_names(ctx.session)
    where = "全校" if event.audience_branch_id is None else names.get(event.audience_branch_id, "")
    if event.audience_gender:
        return f"{where}{event.audience_gender}职工"
    return f"{where}教职工" if event.audience_branch_id is None else where


async def view(
    ctx: Context, event: Event, names: dict[int, str] | None = None,
    *, with_audience: bool = True,
) -> EventView:
    """The event for a template; ``with_audience=False`` skips looking up branch names
    (for replies that do not show the audience)."""
    rules = timing(ctx)
    return EventView(
        code=event.code, title=event.title, time=span(ctx, event.starts_at, event.ends_at),
        place=event.place, capacity=event.capacity, taken=event.places_taken,
        left=max(0, event.capacity - event.places_taken), waiting=event.waiting_count,
        max_guests=event.max_guests, deadline=when(ctx, deadline_of(event, rules)),
        audience=await audience_label(ctx, event, names) if with_audience else "",
        fields=event.field_names,
        note=event.note, state=phase(event, ctx.now, ctx.tz, rules),
        cancel_reason=event.cancel_reason,
        checkin_from=when(ctx, event.starts_at - rules.checkin_margin),
        checkin_until=when(ctx, closes_at(event, ctx.tz)),
    )
