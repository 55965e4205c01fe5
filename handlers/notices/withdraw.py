"""撤回公告 / 撤回公示: a scheduled notice is never published; a published one is recalled
from the outbox where it still waits, and the groups that may have it are told."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.publication import withdraw_from_groups
from bot.registry import Handler
from bot.render import say
from bot.scope import require_reach
from handlers.notices.common import PREFIX_OF, WORDS, T, find, groups_text
from models.notices.publish import lock, withdraw
from models.notices.tables import Kind, State


def withdraw_command(kind: Kind) -> Handler:
    word = WORDS[kind]

    async def handler(ctx: Context, args: str) -> str:
        text = args.strip()
        if not text:
            raise UserError(say(T, "withdraw_usage", word=word, prefix=PREFIX_OF[kind]))
        notice = await find(ctx, kind, text.split()[0], anywhere=True)
        await require_reach(ctx, notice.branch_id, what=f"{word} {notice.number}")
        assert notice.id is not None and ctx.member is not None
        before = (await lock(ctx.session, notice.id)).state
        if not await withdraw(ctx.session, notice.id, ctx.member.id, ctx.now):
            raise UserError(say(T, "already_withdrawn", word=word, number=notice.number))
        await ctx.session.refresh(notice)
        await ctx.audit("notice_withdraw", f"notice:{notice.number}", before={"state": before},
                        after={"state": notice.state})
        if before == State.SCHEDULED:
            return say(T, "withdrawn_unpublished", word=word, number=notice.number)
        recalled, told = await withdraw_from_groups(
            ctx.session, ctx.settings, notice, say(T, "recall_reason", word=word, number=notice.number),
        )
        return say(T, "withdrawn_published", word=word, number=notice.number, recalled=recalled,
                   groups=groups_text(told) if told else "")

    handler.__name__ = f"withdraw_{kind.value}"
    return handler
