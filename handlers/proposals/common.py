"""What the proposal handlers share: rules from the config, numbers, refusals, notices.

Every step taken is written to the audit log (who, when, from → to, text) by
``record``, and the people it concerns are told privately through the outbox in the
same transaction, with keys derived from the event (``proposal:T2026-007:accepted:member:12``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.notify import Notified, notify_members
from bot.registry import answers_refusals
from bot.render import say
from bot.text import shown
from models.proposals.flow import Change, Policy, Refused
from models.proposals.queries import handler_departments, newest_number
from models.proposals.tables import Status, format_number, looks_like_number, parse_number

logger = logging.getLogger(__name__)

T = "proposals"  # the template of every sentence here


def policy(ctx: Context) -> Policy:
    rules = ctx.settings.proposals
    return Policy(
        min_cosigners=rules.min_cosigners, reply_days=rules.reply_days,
        max_rehandle=rules.max_rehandle, cosigners_rate=rules.cosigners_rate,
    )


def local_today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def day_text(day: date | None) -> str:
    return day.isoformat() if day else ""


def time_text(ctx: Context, moment: datetime) -> str:
    return moment.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")


def close_day(ctx: Context, closes_at: datetime) -> date:
    """The last day a round accepts proposals (its close is the start of the next day)."""
    return (closes_at.astimezone(ctx.tz) - timedelta(microseconds=1)).date()


# ---------------------------------------------------------------- refusals


def refusal(ctx: Context, exc: Refused) -> UserError:
    values = dict(exc.values)
    if isinstance(values.get("closes_at"), datetime):
        last = close_day(ctx, values.pop("closes_at"))
        values["closes"] = day_text(last)
        if exc.code == "round_already_open":  # an example of moving the close: later than it is
            values["later"] = day_text(max(last, local_today(ctx)) + timedelta(days=14))
    if exc.code in ("round_none", "round_none_open"):
        values.update(round_days(ctx))
    return UserError(say(T, exc.code, **values))


speaks = answers_refusals(Refused, answer=refusal)


# ---------------------------------------------------------------- numbers


def example_day(ctx: Context, days: int = 21) -> date:
    """A date for an example in a reply: ``days`` ahead of the clock, never a past one."""
    return local_today(ctx) + timedelta(days=days)


def month_day(day: date) -> str:
    """``12月26日``."""
    return f"{day.month}月{day.day}日"


def round_days(ctx: Context) -> dict[str, str]:
    """Dates for the examples of 提案征集: a close ahead of the clock and a later one."""
    return {"day": day_text(example_day(ctx)), "later": day_text(example_day(ctx, 35))}


async def example_number(ctx: Context, statuses: Iterable[Status] = ()) -> str:
    """A proposal number for an example: the newest one in ``statuses`` (in any status
    when none is), else the first number of this year."""
    found = await newest_number(ctx.session, statuses)
    if found is None and statuses:
        found = await newest_number(ctx.session)
    return found or format_number(local_today(ctx).year, 1)


async def take_number(
    ctx: Context, args: str, command: str, tail: str = "", statuses: Iterable[Status] = ()
) -> tuple[str, str]:
    """The proposal number at the start of ``args`` (normalised) and the rest.

    Without one, the example is ``<command> <a number at hand> <tail>``; the number is
    the newest proposal in ``statuses`` (those the command applies to).
    """
    word, _, rest = args.strip().partition(" ")
    parsed = parse_number(word) if word else None
    if parsed is None:
        number = await example_number(ctx, tuple(statuses))
        example = " ".join(part for part in (command, number, tail) if part)
        if not word:
            raise UserError(say(T, "number_missing", command=command, example=example))
        raise UserError(say(T, "bad_number", text=shown(word, 20), example=example))
    return format_number(*parsed), rest.strip()


def is_number_word(args: str) -> bool:
    """``args`` is one word meant as a proposal number (well-formed or not)."""
    word = args.strip()
    return " " not in word and (parse_number(word) is not None or looks_like_number(word))


# ---------------------------------------------------------------- text fields


_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
_CJK = "[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_ASCII_PUNCTUATION = re.compile(f"(?<={_CJK})[,;:!?]|[,;:!?](?={_CJK})")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_HAS_CJK = re.compile(_CJK)


def chinese_punctuation(text: str) -> str:
    """Undo what NFKC did to Chinese punctuation: ``限制,列入`` → ``限制，列入``.

    Incoming text is NFKC-normalised, which turns ``，：（）`` into ASCII; free text kept
    for the 提案工作报告 gets the full-width forms back wherever they touch Chinese
    characters (``19:30`` and ``3,000`` stay as they are, parentheses go in pairs).
    """

    def pair(match: re.Match[str]) -> str:
        before = text[match.start() - 1: match.start()]
        after = text[match.end(): match.end() + 1]
        if _HAS_CJK.search(before + match[1] + after):
            return f"（{match[1]}）"
        return match[0]

    text = _PARENTHESES.sub(pair, text)
    return _ASCII_PUNCTUATION.sub(lambda m: _FULL_WIDTH[m.group()], text)


def clean_text(value: str, field: str, limit: int) -> str:
    """A required free-text field within ``limit`` characters."""
    value = chinese_punctuation(value.strip())
    if not value:
        raise UserError(say(T, "field_empty", field=field))
    if len(value) > limit:
        raise UserError(say(T, "field_too_long", field=field, limit=limit, length=len(value)))
    return value


async def known_departments(ctx: Context) -> list[str]:
    """The configured 承办部门, or (none configured) the departments of active 承办人."""
    configured = ctx.settings.proposals.departments
    return list(configured) if configured else await handler_departments(ctx.session)


# ---------------------------------------------------------------- audit and notices


async def record(ctx: Context, change: Change, **extra: Any) -> None:
    """Write a step to the audit log: who (the sender), when, from → to, and its text."""
    logger.info(
        "proposal %s: %s by member %s (%s → %s)", change.number, change.kind,
        ctx.member.id if ctx.member else None, change.before, change.after.value,
    )
    await ctx.audit(
        f"proposal.{change.kind}", f"proposal:{change.number}",
        before={"status": change.before.value if change.before else None},
        after={"status": change.after.value, **change.data, **extra},
    )


async def tell(
    ctx: Context, member_ids: Iterable[int], key: str, macro: str, **values: Any
) -> Notified:
    """Queue a private notice to each member (not the sender); the key names the event.

    Returns who was reached and who has no account the bot can push to (``bot.notify``).
    """
    return await notify_members(
        ctx.session, settings=ctx.settings, member_ids=member_ids,
        key=lambda member_id: f"{key}:member:{member_id}", text=say(T, macro, **values),
        skip=ctx.member.id if ctx.member else None,
    )
