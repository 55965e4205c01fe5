"""公告: publish (at once or 发布 <时间>), list, show and 撤回公告.

``公告`` alone lists the latest; ``公告 2`` is page 2; ``公告 G5`` shows one; anything else
from an officer is a new 公告 for their branch's groups (all groups for the 校工会's).
A 公告 starting with a 公示 number (``公告 S8 …``) is that 公示's outcome.
"""

from __future__ import annotations

import re

from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.publication import local, publish_to_groups
from bot.registry import Command, Registry
from bot.render import say
from bot.scope import require_reach
from handlers.notices.common import T, find, groups_text, list_reply, page_number, speaks, split_schedule
from handlers.notices.withdraw import withdraw_command
from models.notices.publish import Draft, create
from models.notices.tables import Kind, Notice, State, parse_number
from models.org import Role

_OUTCOME = re.compile(r"([Ss]\s*[0-9]{1,7})\s*[:：]?\s*")


def register(registry: Registry) -> None:
    registry.add(Command(
        name="公告", aliases=("通知公告",), handler=speaks(announce_command), topic="notices",
        summary="查看公告；干部发布公告（可定时发布）", args_optional=True,
        usage="公告 [<编号>|<页码>]　或　公告 <内容> [发布 <时间>]",
        example="公告 本周五下午三点在工会活动室召开分工会委员会议 发布 明天 9:00",
    ))
    registry.add(Command(
        name="撤回公告", handler=speaks(withdraw_command(Kind.ANNOUNCEMENT)), role=Role.OFFICER,
        topic="notices", summary="撤回公告：定时的不再发布，已发到群里的补发撤回说明",
        usage="撤回公告 <编号>", example="撤回公告 G5",
    ))


async def announce_command(ctx: Context, args: str) -> str:
    text = args.strip()
    if not text:
        return await list_reply(ctx, Kind.ANNOUNCEMENT, 1)
    page = page_number(text)
    if page is not None:
        return await list_reply(ctx, Kind.ANNOUNCEMENT, page)
    if parse_number(text, "G") is not None:
        return await show(ctx, await find(ctx, Kind.ANNOUNCEMENT, text))
    if not ctx.has_role(Role.OFFICER):
        raise PermissionDenied(say(T, "officers_publish", word="公告"))
    return await publish(ctx, text)


async def publish(ctx: Context, text: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    body, when = split_schedule(ctx, text)
    outcome_of, body = await _outcome(ctx, body)
    if not body:
        raise UserError(say(T, "announce_empty"))
    if len(body) > ctx.settings.notices.text_max_chars:
        raise UserError(say(T, "too_long", word="公告", limit=ctx.settings.notices.text_max_chars))
    notice = await create(ctx.session, Draft(
        kind=Kind.ANNOUNCEMENT, branch_id=ctx.member.branch_id, author_id=ctx.member.id, body=body,
        publish_at=when or ctx.now, refers_to_id=outcome_of.id if outcome_of else None,
    ), ctx.now)
    await ctx.audit("notice_publish" if when is None else "notice_schedule", f"notice:{notice.number}",
                    after={"body": body, "publish_at": notice.publish_at,
                           "refers": outcome_of.number if outcome_of else None})
    if notice.state == State.SCHEDULED:
        return say(T, "announce_scheduled", notice=notice, published=local(notice.publish_at, ctx.tz))
    result = await publish_to_groups(ctx.session, ctx.settings, notice)
    return say(T, "announce_done", notice=notice, groups=groups_text(result))


async def _outcome(ctx: Context, body: str) -> tuple[Notice | None, str]:
    """``S8 …``: the 公示 this 公告 gives the outcome of (in the sender's reach), and the rest."""
    match = _OUTCOME.match(body)
    if match is None or parse_number(match.group(1), "S") is None:
        return None, body
    disclosure = await find(ctx, Kind.DISCLOSURE, match.group(1))
    await require_reach(ctx, disclosure.branch_id, what=f"公示 {disclosure.number}")
    return disclosure, body[match.end():].strip()


async def show(ctx: Context, notice: Notice) -> str:
    refers = await ctx.session.get(Notice, notice.refers_to_id) if notice.refers_to_id else None
    return say(T, "announce_view", notice=notice, shown=notice.shown(ctx.now).value,
               published=local(notice.published_at or notice.publish_at, ctx.tz), refers=refers)
