"""Broadcast — 广播: one announcement queued for every group chat of a branch."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import CHANNEL_LABELS, Target, chat_target, enqueue_many, unreachable_reason
from models.chats import group_chats_of, sync_robots
from models.org import Chat

MAX_BROADCAST_CHARS = 2000


@dataclass(slots=True)
class BroadcastResult:
    """What a broadcast queued, and which chats it could not reach and why."""

    queued: list[Chat] = field(default_factory=list)
    already: list[Chat] = field(default_factory=list)  # queued before under the same key
    unreachable: list[tuple[Chat, str]] = field(default_factory=list)

    def per_channel(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for chat in self.queued + self.already:
            label = CHANNEL_LABELS.get(chat.channel, chat.channel)
            counts[label] = counts.get(label, 0) + 1
        return counts


def broadcast_key(*parts: str) -> str:
    """A short, stable key for one broadcast (the same parts give the same key)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


async def queue_broadcast(
    session: AsyncSession, *, settings: Settings, branch_id: int, text: str, key: str,
) -> BroadcastResult:
    """Queue ``text`` for every group chat of ``branch_id`` in the caller's transaction.

    Each chat's message has the key ``broadcast:<key>:chat:<chat id>``, so running the
    same broadcast again never sends it twice.
    """
    await sync_robots(session, settings.wecom.robots if settings.wecom.enabled else ())
    result = BroadcastResult()
    reply = Reply(text)
    reachable: list[tuple[Chat, str, Target]] = []
    for chat in await group_chats_of(session, branch_id):
        target = chat_target(chat)
        reason = unreachable_reason(settings, target.channel, target.kind)
        if reason is not None:
            result.unreachable.append((chat, reason))
        else:
            reachable.append((chat, f"broadcast:{key}:chat:{chat.id}", target))
    fresh = await enqueue_many(session, settings=settings, messages=[
        (chat_key, target, reply) for _, chat_key, target in reachable])
    for chat, chat_key, _ in reachable:
        (result.queued if chat_key in fresh else result.already).append(chat)
    return result
