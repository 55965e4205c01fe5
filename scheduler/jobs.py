"""Running what is due: each due occasion's messages are queued in the outbox, exactly once.

``run_due(db, settings, at)`` takes the occasions due in the grace window ``(at - grace,
at]`` and queues each one's messages in one transaction. Every message carries its
idempotency key and the outbox keeps the first row of a key, so running again — the next
minute, after a restart, or on a second replica at the same moment — queues nothing twice.
A ``Memo`` lets a long-running process skip the occasions it has already completed.
Occasions older than the grace window are not sent; ``report_missed`` logs them once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.config import Settings
from bot.outbox.queue import Unreachable, enqueue
from models.db import Database
from scheduler.occasions import Claiming, Delivery, Occasion, Source, World
from scheduler.planner import Planned, missed
from scheduler.sources import SOURCES, source_named

logger = logging.getLogger(__name__)

MISSED_LOOKBACK_DAYS = 7
SHOWN = 5  # unreachable recipients named in a log line


@dataclass(slots=True)
class Outcome:
    """What running one occasion did."""

    occasion: Occasion
    queued: int = 0  # messages newly put in the outbox
    already: int = 0  # messages the outbox had from an earlier run
    unreachable: list[Delivery] = field(default_factory=list)
    error: str | None = None

    @property
    def empty(self) -> bool:
        """Nobody to send to (e.g. no birthday that day) and nothing went wrong."""
        return not (self.queued or self.already or self.unreachable or self.error)


class Memo:
    """The occasions this process has completed, so the minute scan does not redo them."""

    def __init__(self) -> None:
        self._done: dict[str, datetime] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._done

    def add(self, occasion: Occasion) -> None:
        self._done[occasion.key] = occasion.due_at

    def forget_before(self, moment: datetime) -> None:
        """Drop occasions due before ``moment`` (they can no longer be due)."""
        self._done = {key: due for key, due in self._done.items() if due >= moment}


def window_start(settings: Settings, at: datetime) -> datetime:
    return at - timedelta(hours=settings.scheduler.grace_hours)


async def due_occasions(
    db: Database, settings: Settings, at: datetime, sources: Sequence[Source] = SOURCES,
) -> list[Occasion]:
    """The occasions due in ``(at - grace, at]``, oldest first."""
    async with db.read() as session:
        world = World(session, settings, at)
        start = window_start(settings, at)
        found = [o for source in sources for o in await source.occasions(world, start, at)]
    return sorted(found, key=lambda o: (o.due_at, o.key))


async def run_due(
    db: Database, settings: Settings, at: datetime, *, memo: Memo | None = None,
    sources: Sequence[Source] = SOURCES,
) -> list[Outcome]:
    """Queue the messages of every occasion due at ``at`` (UTC) that is not yet queued.

    Returns what each occasion that had recipients did, oldest first.
    """
    outcomes = []
    for occasion in await due_occasions(db, settings, at, sources):
        if memo is not None and occasion.key in memo:
            continue
        source = source_named(occasion.source, tuple(sources))
        outcome = await run_occasion(db, settings, at, occasion, source)
        if memo is not None and outcome.error is None:
            memo.add(occasion)
        if not outcome.empty:
            outcomes.append(outcome)
    if memo is not None:
        memo.forget_before(window_start(settings, at))
    return outcomes


async def run_occasion(
    db: Database, settings: Settings, at: datetime, occasion: Occasion, source: Source,
) -> Outcome:
    """Queue one occasion's messages in one transaction; an error leaves nothing queued."""
    outcome = Outcome(occasion)
    try:
        async with db.write() as session:
            world = World(session, settings, at)
            if isinstance(source, Claiming) and not await source.claim(world, occasion):
                return outcome  # another run (a replica, an earlier tick) has done it
            for delivery in await source.deliveries(world, occasion):
                if delivery.target is None:
                    outcome.unreachable.append(delivery)
                    continue
                try:
                    fresh = await enqueue(session, settings=settings, key=delivery.key,
                                          target=delivery.target, reply=delivery.compose())
                except Unreachable as exc:
                    outcome.unreachable.append(replace(delivery, target=None, problem=exc.reason))
                    continue
                if fresh:
                    outcome.queued += 1
                else:
                    outcome.already += 1
    except Exception as exc:  # one broken occasion (e.g. a template) must not stop the others
        logger.exception("scheduled %s failed; nothing of it was queued", occasion.key)
        return Outcome(occasion, error=f"{type(exc).__name__}: {exc}")
    if outcome.empty:
        logger.debug("scheduled %s: nobody to send to", occasion.key)
        return outcome
    logger.info("scheduled %s (due %s): queued %d, already queued %d, unreachable %d",
                occasion.key, occasion.due_at.isoformat(), outcome.queued, outcome.already,
                len(outcome.unreachable))
    if outcome.unreachable:
        logger.info("scheduled %s: %d recipient(s) skipped, cannot be reached: %s", occasion.key,
                    len(outcome.unreachable),
                    "; ".join(f"{d.label}: {d.problem}" for d in outcome.unreachable[:SHOWN]))
    return outcome


async def report_missed(
    db: Database, settings: Settings, at: datetime, days: int = MISSED_LOOKBACK_DAYS,
    sources: Sequence[Source] = SOURCES,
) -> list[Planned]:
    """Log, in one line, the occasions of the last ``days`` days that were due too long ago."""
    async with db.write() as session:
        items = await missed(World(session, settings, at), days, sources)
    if items:
        logger.warning(
            "%d scheduled item(s) were due more than %g h ago and are skipped: %s "
            "(see: unionbot scheduler plan --missed)",
            len(items), settings.scheduler.grace_hours,
            ", ".join(f"{item.occasion.key} due {item.occasion.due_at:%Y-%m-%d %H:%M} UTC"
                      for item in items),
        )
    return items
