"""Telling people about events through the outbox, in the command's own transaction.

Idempotency keys name the event, what happened and who is told, e.g.
``event:A3:announce:chat:7`` or ``event:A3:promoted:member:12:seq:31``, so a rerun of the
same change never sends twice. A chat the platform cannot push to is reported back to
the officer; it never fails the command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.messages import Reply
from bot.notify import Notified, notify_members
from bot.outbox.queue import Unreachable, notify_chat, recall
from bot.render import say
from models.events.keys import reminder_prefix
from models.events.queries import audience_chats
from models.events.signups import Promotion
from models.events.tables import Event

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ChatReport:
    """Which group chats were told, and which could not be reached and why."""

    reached: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


async def tell_chats(ctx: Context, event: Event, *, what: str, text: str) -> ChatReport:
    """Queue ``text`` for every group chat of the event's audience, except this one."""
    report = ChatReport()
    here = (ctx.incoming.channel, ctx.incoming.chat_id)
    for chat in await audience_chats(ctx.session, event.audience_branch_id):
        if (chat.channel, chat.chat_id) == here:
            continue
        name = chat.name or chat.chat_id
        try:
            await notify_chat(
                ctx.session, settings=ctx.settings, chat=chat,
                key=f"event:{event.code}:{what}:chat:{chat.id}", reply=Reply(text),
            )
        except Unreachable as exc:
            logger.info("event %s: chat %s unreachable: %s", event.code, chat.id, exc.reason)
            report.failed.append((name, exc.reason))
        else:
            report.reached.append(name)
    return report


async def tell_members(
    ctx: Context, member_ids: Iterable[int], *, key: Callable[[int], str],
    text: str | Mapping[int, str],
) -> Notified:
    """Queue private messages (``bot.notify``); who was reached and who not."""
    return await notify_members(
        ctx.session, settings=ctx.settings, member_ids=member_ids, key=key, text=text
    )


async def tell_promoted(
    ctx: Context, event: Event, promoted: Iterable[Promotion], text_for: dict[int, str]
) -> Notified:
    """Tell each promoted member privately."""
    seq = {p.member_id: p.seq for p in promoted}
    return await tell_members(
        ctx, seq, text=text_for,
        key=lambda member_id: f"event:{event.code}:promoted:member:{member_id}:seq:{seq[member_id]}",
    )


async def recall_outdated(session: AsyncSession, code: str, *, moved_from: datetime | None = None) -> int:
    """Take back what the outbox still holds for the event and no longer holds true, in the
    caller's transaction: the reminders for the start time ``moved_from`` when the event
    moved; every message of the event (its announcement, changes, promotions, reminders)
    when it was called off, before the cancellation notices are queued. Returns how many
    were taken back."""
    if moved_from is not None:
        reason = say("reminders", "event_moved_recalled", code=code)
        return await recall(session, reminder_prefix(code, moved_from), reason)
    reason = say("reminders", "event_cancelled_recalled", code=code)
    return await recall(session, f"event:{code}:", reason)
