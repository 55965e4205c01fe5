"""Putting a 公告 or 公示 in front of the groups: the text, and the outbox keys it goes under.

A notice goes to the group chats of its branch (all group chats for the 校工会's) with the
keys of ``bot.broadcast`` named after its number, so the officer's command (published at
once) and the scheduler (published later, once, on any replica) use the same keys and a
group never gets a notice twice. Withdrawing a published notice recalls the copies still
waiting in the outbox and tells the groups that already have it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast import BroadcastResult, broadcast_key, queue_broadcast
from bot.config import Settings
from bot.outbox.queue import recall
from bot.render import say
from models.base import table_of
from models.notices.tables import Notice
from models.org import Branch
from models.outbox import RECALLED, OutboxMessage

T = "disclosures"

_outbox = table_of(OutboxMessage)
_DELIVERED = (
    select(func.count()).select_from(_outbox)
    .where(_outbox.c.status != RECALLED)
    .where(func.substr(_outbox.c.key, 1, bindparam("length", type_=Integer))
           == bindparam("prefix", type_=String))
)


def notice_key(number: str) -> str:
    """The broadcast key of a notice's copies (``broadcast:<key>:chat:<chat id>``)."""
    return broadcast_key("notice", number)


def chat_key(number: str, chat_id: int) -> str:
    return f"broadcast:{notice_key(number)}:chat:{chat_id}"


def local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


async def group_text(session: AsyncSession, settings: Settings, notice: Notice) -> str:
    """What the groups read: the notice with its number, branch, period and how to object."""
    tz = settings.union.tz
    branch = await session.get(Branch, notice.branch_id)
    refers = await session.get(Notice, notice.refers_to_id) if notice.refers_to_id else None
    return say(
        T, "group_message", notice=notice, branch=branch.name if branch else "",
        published=local(notice.published_at or notice.publish_at, tz), ends=local(notice.ends_at, tz),
        refers=refers, bot=settings.union.bot_name,
    )


async def publish_to_groups(session: AsyncSession, settings: Settings, notice: Notice) -> BroadcastResult:
    """Queue a published notice for its branch's groups, in the caller's transaction."""
    return await queue_broadcast(
        session, settings=settings, branch_id=notice.branch_id,
        text=await group_text(session, settings, notice), key=notice_key(notice.number),
    )


async def withdraw_from_groups(
    session: AsyncSession, settings: Settings, notice: Notice, reason: str,
) -> tuple[int, BroadcastResult | None]:
    """Recall the notice's copies still queued; tell the groups that may already have it.

    Returns how many copies were recalled and, when some had gone out, what the
    withdrawal notice reached.
    """
    prefix = f"broadcast:{notice_key(notice.number)}:"
    recalled = await recall(session, prefix, reason)
    out = int(await session.scalar(_DELIVERED, {"prefix": prefix, "length": len(prefix)}) or 0)
    if not out:
        return recalled, None
    text = say(T, "group_withdrawn", notice=notice)
    result = await queue_broadcast(
        session, settings=settings, branch_id=notice.branch_id, text=text,
        key=broadcast_key("notice-withdrawn", notice.number),
    )
    return recalled, result
