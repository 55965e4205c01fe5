"""Putting messages in the outbox (DESIGN §3): what handlers and jobs call to speak first.

A message is queued inside the caller's transaction, so it is sent exactly when the work
that caused it commits. Each row has an idempotency key; queueing the same key twice
keeps the first row, so a rerun never sends twice. ``bot.outbox.worker`` sends the rows.
``recall`` takes back queued rows that would now say something wrong (a reminder of an
event that moved): they are kept, marked ``recalled``, so their keys still count as used.

Which platform can push to what is fixed by the platforms themselves (DESIGN §4):

=============  =========================================================
wecom          members (app messages), app group chats, group robots
onebot         QQ groups and QQ friends
wechat_mp      followers, within 48 h of their last message (客服消息)
qq_official    nothing: passive replies only
console        nothing: it prints answers to the person typing
=============  =========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Insert, Integer, String, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.config import Settings
from bot.messages import Reply
from bot.render import say
from models.base import PerDialect, execute_core, insert_for, table_of, utcnow
from models.org import Account, Chat
from models.outbox import QUEUED, RECALLED, OutboxMessage

TargetKind = Literal["user", "group", "robot"]

CHANNEL_LABELS = {
    "wecom": "企业微信",
    "onebot": "QQ（OneBot）",
    "wechat_mp": "微信公众号",
    "qq_official": "QQ 开放平台机器人",
    "console": "控制台",
}
PUSH_KINDS: dict[str, frozenset[str]] = {
    "wecom": frozenset({"user", "group", "robot"}),
    "onebot": frozenset({"user", "group"}),
    "wechat_mp": frozenset({"user"}),
    "qq_official": frozenset(),
    "console": frozenset(),
}
# the order in which a member's accounts are tried for a private notice
MEMBER_CHANNELS = ("wecom", "onebot", "wechat_mp")


class Unreachable(Exception):
    """A target the bot cannot push to; ``reason`` is one Chinese sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes: a channel, the kind of recipient and the platform's id."""

    channel: str
    kind: TargetKind
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind}:{self.id}"


def unreachable_reason(settings: Settings, channel: str, kind: str) -> str | None:
    """Why the bot cannot push to this kind of target on this channel, or None if it can."""
    label = CHANNEL_LABELS.get(channel, channel)
    if kind not in PUSH_KINDS.get(channel, frozenset()):
        return say("outbox", "cannot_push", channel=channel, label=label, kind=kind)
    section = getattr(settings, channel, None)
    if section is None or not getattr(section, "enabled", False):
        return say("outbox", "channel_disabled", label=label)
    return None


def _insert_ignore(dialect: str) -> Insert:
    maker = insert_for(dialect)
    return maker(table_of(OutboxMessage)).values(
        key=bindparam("key"), channel=bindparam("channel"),
        target_kind=bindparam("target_kind"), target=bindparam("target"),
        payload=bindparam("payload"), status="queued", attempts=0,
        next_attempt_at=bindparam("next_attempt_at"), created_at=bindparam("created_at"),
    ).on_conflict_do_nothing(index_elements=["key"])


_INSERTS = PerDialect(_insert_ignore)


async def enqueue(
    session: AsyncSession, *, settings: Settings, key: str, target: Target, reply: Reply,
    not_before: datetime | None = None,
) -> bool:
    """Queue ``reply`` for ``target`` in the caller's transaction.

    Returns False when a message with this key is already queued (or was sent): the
    first one stands. Raises ``Unreachable`` when the target cannot be pushed to.
    """
    reason = unreachable_reason(settings, target.channel, target.kind)
    if reason is not None:
        raise Unreachable(reason)
    if len(key) > 255:
        raise ValueError("outbox key longer than 255 characters")
    now = utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    result = await execute_core(session, _INSERTS[dialect], {
        "key": key, "channel": target.channel, "target_kind": target.kind,
        "target": target.id, "payload": reply.to_json(),
        "next_attempt_at": not_before or now, "created_at": now,
    })
    return bool(result.rowcount)


async def enqueue_many(
    session: AsyncSession, *, settings: Settings, messages: Sequence[tuple[str, Target, Reply]],
) -> set[str]:
    """Queue several ``(key, target, reply)`` messages in the caller's transaction, with one
    statement (a broadcast to a thousand groups); returns the keys newly queued.

    As ``enqueue``, a key the outbox already has keeps its first row; ``Unreachable`` is
    raised, before anything is queued, for a target that cannot be pushed to.
    """
    for key, target, _ in messages:
        reason = unreachable_reason(settings, target.channel, target.kind)
        if reason is not None:
            raise Unreachable(reason)
        if len(key) > 255:
            raise ValueError("outbox key longer than 255 characters")
    keys = [key for key, _, _ in messages]
    existing: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        existing.update(await session.scalars(
            select(_outbox.c.key).where(_outbox.c.key.in_(keys[i:i + _CHUNK]))))
    now = utcnow()
    rows = [{
        "key": key, "channel": target.channel, "target_kind": target.kind, "target": target.id,
        "payload": reply.to_json(), "next_attempt_at": now, "created_at": now,
    } for key, target, reply in messages if key not in existing]
    if rows:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        await execute_core(session, _INSERTS[dialect], rows)
    return {str(row["key"]) for row in rows}


_outbox = table_of(OutboxMessage)
_CHUNK = 500
# An exact prefix test, the same on SQLite and PostgreSQL: LIKE ignores case on SQLite and
# treats _ and % as wildcards; a range (key >= prefix) follows PostgreSQL's collation.
_RECALL = (
    update(_outbox)
    .where(_outbox.c.status == QUEUED)
    .where(func.substr(_outbox.c.key, 1, bindparam("length", type_=Integer))
           == bindparam("prefix", type_=String))
    .values(status=RECALLED, last_error=bindparam("reason"), next_attempt_at=bindparam("now"),
            lease_until=None)
)


async def recall(session: AsyncSession, key_prefix: str, reason: str) -> int:
    """Take back, in the caller's transaction, the queued messages whose key starts with
    ``key_prefix``; ``reason`` (one Chinese sentence) is kept as their ``last_error``.

    Only rows still waiting are recalled: one being sent at this moment goes out (or fails)
    as it would have. End the prefix with a separator (``event:A1:start-``, not ``event:A1``)
    so that it cannot take in other keys (``event:A12:…``). Returns how many were recalled.
    """
    if not key_prefix:
        raise ValueError("an empty prefix would recall the whole outbox")
    result = await execute_core(session, _RECALL, {
        "prefix": key_prefix, "length": len(key_prefix), "reason": reason[:500], "now": utcnow(),
    })
    return int(result.rowcount)


_ACCOUNTS = select(col(Account.channel), col(Account.external_id)).where(
    col(Account.member_id) == bindparam("member_id")
)


async def member_target(
    session: AsyncSession, settings: Settings, member_id: int
) -> Target | None:
    """The account a member is best reached on privately, or None if none can be pushed to."""
    accounts = dict((await session.execute(_ACCOUNTS, {"member_id": member_id})).tuples().all())
    for channel in MEMBER_CHANNELS:
        if channel in accounts and unreachable_reason(settings, channel, "user") is None:
            return Target(channel, "user", accounts[channel])
    return None


async def notify_member(
    session: AsyncSession, *, settings: Settings, member_id: int, key: str, reply: Reply,
    not_before: datetime | None = None,
) -> Target | None:
    """Queue a private message to a member on the best channel they are bound on.

    Returns the target, or None when the member has no account the bot can push to
    (they will see the news when they next ask). The key should name the event and
    the member, e.g. ``"proposal:T2026-007:cosigned:15:member:3"``.
    """
    target = await member_target(session, settings, member_id)
    if target is None:
        return None
    await enqueue(
        session, settings=settings, key=key, target=target, reply=reply, not_before=not_before
    )
    return target


def chat_target(chat: Chat) -> Target:
    kind: TargetKind = "robot" if chat.chat_type == "robot" else (
        "group" if chat.chat_type == "group" else "user"
    )
    return Target(chat.channel, kind, chat.chat_id)


async def notify_chat(
    session: AsyncSession, *, settings: Settings, chat: Chat, key: str, reply: Reply,
    not_before: datetime | None = None,
) -> bool:
    """Queue a message to a chat; ``Unreachable`` when its platform cannot push there."""
    return await enqueue(
        session, settings=settings, key=key, target=chat_target(chat), reply=reply,
        not_before=not_before,
    )
