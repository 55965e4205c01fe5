"""What the idea handlers share: the key, the rules from the config, numbers, refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.registry import answers_refusals
from bot.render import say
from models.ideas.pseudonym import Pseudonyms, pseudonyms
from models.ideas.submit import Limits
from models.ideas.tables import Idea, Refused, format_number, parse_number

T = "ideas"  # the template of every sentence here


def keys(ctx: Context) -> Pseudonyms:
    return pseudonyms(ctx.settings.ideas.key_file)


def limits(ctx: Context) -> Limits:
    rules = ctx.settings.ideas
    return Limits(rules.min_chars, rules.max_chars, rules.title_max_chars)


def this_year(ctx: Context) -> int:
    return ctx.now.astimezone(ctx.tz).year


def close_day(ctx: Context, closes_at: datetime) -> date:
    """The last day a round accepts ideas (its close is the start of the next day)."""
    return (closes_at.astimezone(ctx.tz) - timedelta(microseconds=1)).date()


def member_id(ctx: Context) -> int:
    assert ctx.member is not None and ctx.member.id is not None
    return ctx.member.id


def shown(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def refusal(ctx: Context, exc: Refused) -> UserError:
    values: dict[str, Any] = dict(exc.values)
    if isinstance(values.get("closes_at"), datetime):
        values["closes"] = close_day(ctx, values.pop("closes_at")).isoformat()
    return UserError(say(T, exc.code, **values))


speaks = answers_refusals(Refused, answer=refusal)


def take_number(args: str, example: str) -> tuple[str, str]:
    """The idea number at the start of ``args`` (normalised, ``D31``) and the rest."""
    word, _, rest = args.strip().partition(" ")
    if not word:
        raise UserError(say(T, "number_missing", example=example))
    seq = parse_number(word)
    if seq is None:
        raise UserError(say(T, "bad_number", text=shown(word), example=example))
    return format_number(seq), rest.strip()


def is_number_word(args: str) -> bool:
    word = args.strip()
    return " " not in word and parse_number(word) is not None


def author_label(idea: Idea, name: str | None) -> str:
    """How an idea's submitter is shown to anyone: the name, or 匿名."""
    return say(T, "anonymous_label") if idea.anonymous or name is None else name
