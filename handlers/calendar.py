"""Calendar — 节日: the coming festivals and their 慰问 notices; officers preview a notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.args import split_args
from bot.context import Context
from bot.errors import UserError
from bot.holiday_notice import days_off, notice_config, render_notice
from bot.registry import Command, Registry
from bot.render import say
from bot.text import shown
from models.calendar.festivals import (
    KEYS,
    NAMES,
    Festival,
    festivals_between,
    next_festival,
)
from models.org import Role

SHOWN_DAYS = 60  # festivals of the next two months …
SHOWN_AT_LEAST = 3  # … but never fewer than three
PREVIEW_WORDS = ("预览", "preview")

# what people may call a festival → its key
FESTIVAL_WORDS: dict[str, str] = (
    {key: key for key in KEYS}
    | {name: key for key, name in NAMES.items()}
    | {"新年": "元旦", "元旦节": "元旦", "大年三十": "除夕", "新春": "春节", "元宵节": "元宵",
       "妇女节": "三八", "三八节": "三八", "三八妇女节": "三八", "五一劳动节": "五一",
       "儿童节": "六一", "六一节": "六一", "端午节": "端午", "七夕节": "七夕",
       "中秋节": "中秋", "国庆节": "国庆", "重阳节": "重阳"}
)


def register(registry: Registry) -> None:
    registry.add(Command(
        name="节日", aliases=("节假日", "放假安排"), handler=calendar_command, topic="calendar",
        summary="查看近期节日、放假安排和慰问通知安排；干部可预览慰问通知",
        usage="节日 [预览 <节日名>]", example="节日 预览 端午",
    ))


async def calendar_command(ctx: Context, args: str) -> str:
    words = split_args(args)
    if not words:
        return upcoming_text(ctx)
    if words[0].startswith(PREVIEW_WORDS[0]) and len(words[0]) > len(PREVIEW_WORDS[0]):
        words = [PREVIEW_WORDS[0], words[0][len(PREVIEW_WORDS[0]):], *words[1:]]  # 预览端午
    if words[0] not in PREVIEW_WORDS:
        raise UserError(say("calendar", "usage"))
    if not ctx.has_role(Role.OFFICER):
        raise UserError(say("calendar", "preview_officers_only"))
    if len(words) < 2:
        raise UserError(say("calendar", "preview_needs_name", names=KEYS))
    name = " ".join(words[1:])
    key = FESTIVAL_WORDS.get(name)
    if key is None:
        raise UserError(say("calendar", "preview_unknown", name=shown(name, 20), names=KEYS))
    return preview_text(ctx, key)


# ---------------------------------------------------------------- 节日


@dataclass(frozen=True, slots=True)
class Coming:
    """One festival as ``节日`` shows it."""

    festival: Festival
    days_off: str
    notice: bool
    notice_at: datetime | None = None  # local time
    sent: bool = False
    delivery: str = ""
    audience: str = ""
    branches: tuple[str, ...] = ()


def coming(ctx: Context, today: date) -> list[Coming]:
    """The festivals of the next ``SHOWN_DAYS`` days (at least ``SHOWN_AT_LEAST``)."""
    ahead = festivals_between(today, today + timedelta(days=400))
    chosen = [f for f in ahead if f.date <= today + timedelta(days=SHOWN_DAYS)]
    if len(chosen) < SHOWN_AT_LEAST:
        chosen = ahead[:SHOWN_AT_LEAST]
    return [_coming(ctx, festival) for festival in chosen]


def _coming(ctx: Context, festival: Festival) -> Coming:
    shown = days_off(festival).removeprefix("放假安排")  # shown after 「放假安排：」
    config = notice_config(ctx.settings, festival.key)
    if not config.enabled:
        return Coming(festival, shown, notice=False)
    due = config.due_at(festival.date, ctx.tz)
    return Coming(
        festival, shown, notice=True, notice_at=due.astimezone(ctx.tz), sent=due <= ctx.now,
        delivery=config.delivery, audience=config.audience_label, branches=config.branches,
    )


def upcoming_text(ctx: Context) -> str:
    today = ctx.now.astimezone(ctx.tz).date()
    return say("calendar", "upcoming", items=coming(ctx, today), today=today)


# ---------------------------------------------------------------- 节日 预览


def preview_text(ctx: Context, key: str) -> str:
    """The next notice of festival ``key`` exactly as it will be sent, under a header."""
    today = ctx.now.astimezone(ctx.tz).date()
    festival = next_festival(key, today)
    config = notice_config(ctx.settings, key)
    due = config.due_at(festival.date, ctx.tz)
    private = config.delivery == "private"
    assert ctx.member is not None
    notice = render_notice(ctx.settings, festival, config, recipient=ctx.member.name if private else None)
    header = say("calendar", "preview_header", festival=festival, config=config,
                 due_local=due.astimezone(ctx.tz), sent=due <= ctx.now, private=private)
    return f"{header}\n\n{notice.text}"
