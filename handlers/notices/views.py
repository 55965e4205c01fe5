"""Showing one 公示: period, status, kind, the 公告 of its conditions, how to object.

The officers who manage it see, in a private chat only, the objections with who filed them;
everyone else (and every group) sees no objector.
"""

from __future__ import annotations

from bot.context import Context
from bot.notify import member_names
from bot.publication import local
from bot.render import say
from bot.scope import may_manage
from handlers.notices.common import T
from models.notices.queries import objections_of
from models.notices.tables import Notice


async def show_disclosure(ctx: Context, notice: Notice) -> str:
    refers = await ctx.session.get(Notice, notice.refers_to_id) if notice.refers_to_id else None
    objections: list[tuple[str, str, str, bool]] | None = None
    if not ctx.is_group and await may_manage(ctx, notice.branch_id):
        assert notice.id is not None
        found = await objections_of(ctx.session, notice.id)
        names = await member_names(ctx.session, (o.member_id for o in found))
        objections = [(o.number, names.get(o.member_id, ""), o.text, o.answered_at is not None)
                      for o in found]
    return say(
        T, "disclosure_view", notice=notice, shown=notice.shown(ctx.now).value,
        published=local(notice.published_at or notice.publish_at, ctx.tz), ends=local(notice.ends_at, ctx.tz),
        refers=refers, objections=objections,
    )
