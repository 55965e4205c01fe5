"""广播 (broadcast to every group chat of a branch) and 本群归属 (assign a chat to a branch)."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import col, select

from bot.broadcast import MAX_BROADCAST_CHARS, broadcast_key, queue_broadcast
from bot.context import Context
from bot.errors import UserError
from bot.registry import Command, Registry
from bot.render import say
from bot.scope import require_reach
from models.chats import chat_by_id
from models.org import Branch, Role

_BRANCH_BY_NAME = select(Branch).where(col(Branch.name) == bindparam("name"))


def register(registry: Registry) -> None:
    registry.add(Command(
        name="广播", aliases=("群发",), handler=broadcast_command, role=Role.OFFICER,
        topic="notices", summary="把一条通知发到本分工会的所有群",
        usage="广播 <内容>", example="广播 本周五下午三点在工会活动室召开分工会委员会议",
    ))
    registry.add(Command(
        name="本群归属", aliases=("群归属",), handler=assign_chat_command, role=Role.OFFICER,
        topic="notices", scope="group",
        summary="把当前群登记到某个分工会，这个分工会的广播、公告公示和通知会发到这个群",
        usage="本群归属 <分工会名称>", example="本群归属 计算机学院分工会",
    ))


async def broadcast_command(ctx: Context, args: str) -> str:
    text = args.strip()
    if not text:
        raise UserError(say("notices", "broadcast_empty"))
    if len(text) > MAX_BROADCAST_CHARS:
        raise UserError(say("notices", "broadcast_too_long", limit=MAX_BROADCAST_CHARS))
    assert ctx.member is not None
    result = await queue_broadcast(
        ctx.session, settings=ctx.settings, branch_id=ctx.member.branch_id, text=text,
        key=broadcast_key("chat", ctx.incoming.dedup_key),
    )
    await ctx.audit("broadcast", f"branch:{ctx.member.branch_id}", after={
        "text": text, "queued": len(result.queued) + len(result.already),
        "unreachable": len(result.unreachable),
    })
    return say("notices", "broadcast_done", result=result, per_channel=result.per_channel())


async def assign_chat_command(ctx: Context, args: str) -> str:
    name = args.strip()
    if not name:
        raise UserError(say("notices", "assign_usage"))
    branch = await ctx.session.scalar(_BRANCH_BY_NAME, {"name": name})
    if branch is None or branch.id is None:
        raise UserError(say("notices", "assign_unknown_branch", name=name))
    chat = await chat_by_id(ctx.session, ctx.incoming.channel, ctx.incoming.chat_id)
    assert chat is not None  # the pipeline records every group chat that addresses the bot
    if chat.branch_id is not None:  # a chat not yet assigned may be claimed
        await require_reach(ctx, chat.branch_id, what="本群")
    await require_reach(ctx, branch.id)
    before = chat.branch_id
    chat.branch_id = branch.id
    await ctx.audit("assign_chat", f"chat:{chat.id}", before={"branch_id": before},
                    after={"branch_id": branch.id})
    return say("notices", "assign_done", name=name)
