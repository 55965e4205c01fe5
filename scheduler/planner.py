"""The plan: every occasion of a time window with its deliveries, and what the outbox holds.

``plan`` answers "what will be sent, when, to whom" (``unionbot scheduler plan``);
``missed`` lists the occasions that fell out of the grace window without being sent
(``unionbot scheduler plan --missed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.outbox import OutboxMessage
from scheduler.occasions import Delivery, Occasion, Source, World
from scheduler.sources import SOURCES

CHUNK = 500


@dataclass(slots=True)
class Planned:
    """An occasion with its deliveries; ``queued`` holds the keys the outbox already has."""

    occasion: Occasion
    deliveries: list[Delivery]
    queued: set[str] = field(default_factory=set)

    @property
    def reachable(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.target is not None]

    @property
    def unreachable(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.target is None]

    @property
    def started(self) -> bool:
        """Whether any of its messages is in the outbox (it has run)."""
        return bool(self.queued)


def grace(world: World) -> timedelta:
    return timedelta(hours=world.settings.scheduler.grace_hours)


async def queued_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the outbox holds, whatever their status (queued, sent, failed, recalled)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        found.update(await session.scalars(
            select(col(OutboxMessage.key)).where(col(OutboxMessage.key).in_(chunk))
        ))
    return found


async def plan(
    world: World, start: datetime, end: datetime, sources: Sequence[Source] = SOURCES,
) -> list[Planned]:
    """Every occasion due after ``start`` and at or before ``end`` that has a recipient, by time."""
    items: list[Planned] = []
    for source in sources:
        for occasion in await source.occasions(world, start, end):
            deliveries = await source.deliveries(world, occasion)
            if deliveries:
                items.append(Planned(occasion, deliveries))
    found = await queued_keys(world.session, (d.key for item in items for d in item.deliveries))
    for item in items:
        item.queued = {d.key for d in item.deliveries if d.key in found}
    items.sort(key=lambda item: (item.occasion.due_at, item.occasion.key))
    return items


async def missed(world: World, days: int, sources: Sequence[Source] = SOURCES) -> list[Planned]:
    """Occasions of the last ``days`` days, older than the grace window, never sent.

    Only occasions that had someone to reach count; one that ran (any message in the
    outbox) is not missed.
    """
    start = world.now - timedelta(days=days)
    end = world.now - grace(world)
    if end <= start:
        return []
    items = await plan(world, start, end, sources)
    return [item for item in items if item.reachable and not item.started]
