"""Telling members privately, and reporting honestly who was told.

``notify_members`` queues one private message per member in the caller's transaction and
returns a ``Notified``: the names the outbox can reach and the names it cannot (no bound
account the bot can push to). A reply says 已通知 only for ``reached`` and names
``unreached`` (macro ``told`` of ``notices/notify.txt.j2``), so the officer can tell them
another way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import notify_member
from models.org import Member

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Notified:
    """Who a notice was queued for (``reached``) and who has no account it can reach."""

    reached: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)

    def __iadd__(self, other: Notified) -> Notified:
        self.reached += [name for name in other.reached if name not in self.reached]
        self.unreached += [name for name in other.unreached if name not in self.unreached]
        return self

    @property
    def anyone(self) -> bool:
        return bool(self.reached or self.unreached)


async def member_names(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, str]:
    ids = list(member_ids)
    if not ids:
        return {}
    rows = await session.execute(select(col(Member.id), col(Member.name)).where(col(Member.id).in_(ids)))
    return {int(member_id): str(name) for member_id, name in rows.all()}


async def notify_members(
    session: AsyncSession, *, settings: Settings, member_ids: Iterable[int],
    key: Callable[[int], str], text: str | Mapping[int, str], skip: int | None = None,
) -> Notified:
    """Queue ``text`` (or ``text[member id]``) privately for each member except ``skip``.

    ``key(member_id)`` is the message's idempotency key, naming the event and the member.
    """
    ids = [member_id for member_id in dict.fromkeys(member_ids) if member_id != skip]
    names = await member_names(session, ids)
    result = Notified()
    for member_id in ids:
        body = text if isinstance(text, str) else text[member_id]
        target = await notify_member(
            session, settings=settings, member_id=member_id, key=key(member_id), reply=Reply(body)
        )
        name = names.get(member_id, str(member_id))
        if target is None:
            logger.info("no reachable account for member %s (%s)", member_id, key(member_id))
            result.unreached.append(name)
        else:
            result.reached.append(name)
    return result
