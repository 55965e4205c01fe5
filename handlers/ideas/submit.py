"""Submitting ideas — 点子 <内容> / 匿名点子 <内容>, or a one-question dialog in private chat.

An anonymous idea is refused in a group before anything is read or stored: the group
has already seen who sent it. Submissions are not written to the audit log (they are
no officer's change, and the log must not tie anyone to an anonymous idea); the idea
row itself is the record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot import dialogs
from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.render import say
from handlers.ideas.common import T, close_day, keys, limits, member_id, refusal, this_year
from handlers.proposals.common import chinese_punctuation
from models.ideas import rounds
from models.ideas.submit import Author, read_text, submit
from models.ideas.tables import Refused


async def _round_id(ctx: Context) -> tuple[int | None, str | None]:
    """The round the sender submits into now (id, name); (None, None) for the year's pool."""
    assert ctx.member is not None
    current = await rounds.round_for(ctx.session, ctx.member.branch_id, ctx.now)
    if current is not None:
        return current.id, current.name
    if ctx.settings.ideas.rounds_only:
        last = await rounds.latest_for(ctx.session, ctx.member.branch_id)
        if last is None:
            raise UserError(say(T, "rounds_only_never"))
        raise UserError(say(T, "rounds_only_closed", name=last.name,
                            closes=close_day(ctx, last.closes_at).isoformat()))
    return None, None


async def file_idea(ctx: Context, raw: str, *, anonymous: bool) -> str:
    """Store the idea and say its number; Refused (too short, too long, repeated) stores nothing."""
    assert ctx.member is not None
    round_id, round_name = await _round_id(ctx)
    text = read_text(chinese_punctuation(raw), limits(ctx))
    idea = await submit(
        ctx.session, author=Author(member_id(ctx), ctx.member.branch_id, anonymous), text=text,
        round_id=round_id, year=this_year(ctx), now=ctx.now, keys=keys(ctx),
    )
    return say(T, "submitted", number=idea.number, title=idea.title, anonymous=anonymous,
               round=round_name, year=idea.year)


async def _submit_or_ask(ctx: Context, args: str, *, anonymous: bool) -> Reply | str:
    if not args.strip():
        if ctx.is_group:
            raise UserError(say(T, "submit_usage", anonymous=anonymous))
        await _round_id(ctx)  # refuse at once when no idea can be taken now
        return await dialogs.start(ctx, DIALOGS[anonymous])
    return await file_idea(ctx, args, anonymous=anonymous)


async def named_idea(ctx: Context, args: str) -> Reply | str:
    return await _submit_or_ask(ctx, args, anonymous=False)


async def anonymous_idea(ctx: Context, args: str) -> Reply | str:
    if ctx.is_group:
        raise UserError(say(T, "anonymous_in_group"))
    return await _submit_or_ask(ctx, args, anonymous=True)


def _answer(text: str) -> str:
    value = text.strip()
    if not value:
        raise UserError(say(T, "ask_content"))
    return value


def _finisher(anonymous: bool) -> Callable[[Context, dict[str, Any]], Awaitable[str]]:
    async def finish(ctx: Context, values: dict[str, Any]) -> str:
        try:
            return await file_idea(ctx, str(values["content"]), anonymous=anonymous)
        except Refused as exc:
            raise refusal(ctx, exc) from None

    return finish


DIALOGS = {
    anonymous: dialogs.Dialog(
        name="idea_anonymous" if anonymous else "idea",
        steps=(dialogs.Step("content", (T, "ask_anonymous" if anonymous else "ask_content"), _answer),),
        finish=_finisher(anonymous), command="匿名点子" if anonymous else "点子",
    )
    for anonymous in (False, True)
}
