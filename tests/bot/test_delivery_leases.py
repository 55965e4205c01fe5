"""Outbox leases: taken only for what is being sent, renewed while it is sent, and the
result of a send recorded by the worker that made it."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import Target
from bot.outbox.worker import OutboxWorker, Sender
from models.base import utcnow
from models.db import Database
from models.outbox import OutboxMessage
from tests.bot.test_delivery import SETTINGS, FakeSender, queue


class SlowSender(Sender):
    """Holds every send until ``release`` is set; counts what arrived."""

    channel = "onebot"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.sent: list[str] = []

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        self.in_flight += 1
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        self.sent.append(key)

    async def busy(self, count: int) -> None:
        for _ in range(500):
            if self.in_flight >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.in_flight} sends in flight, expected {count}")


def with_lease(seconds: int) -> Settings:
    outbox = SETTINGS.outbox.model_copy(update={"lease_seconds": seconds})
    return SETTINGS.model_copy(update={"outbox": outbox})


async def statuses(db: Database) -> Counter[str]:
    async with db.read() as session:
        return Counter(await session.scalars(select(col(OutboxMessage.status))))


async def test_a_killed_worker_leaves_at_most_its_concurrency_unknown(db: Database) -> None:
    await queue(db, *((f"m{i}", Target("onebot", "user", str(20000 + i))) for i in range(30)))
    sender = SlowSender()
    doomed = OutboxWorker(db=db, settings=SETTINGS, senders={"onebot": sender})
    running = asyncio.create_task(doomed.run_once())
    await sender.busy(8)
    assert await statuses(db) == Counter(sending=8, queued=22)
    running.cancel()  # the process dies mid-send: nothing more is written
    await asyncio.gather(running, return_exceptions=True)
    after = FakeSender()
    restarted = OutboxWorker(db=db, settings=SETTINGS, senders={"onebot": after})
    assert await restarted.run_once(utcnow() + timedelta(minutes=2)) == 22
    assert await statuses(db) == Counter(sent=22, unknown=8)
    assert len(after.sent) == 22 and sender.sent == []


async def test_a_live_worker_keeps_its_lease_while_the_platform_is_slow(db: Database) -> None:
    await queue(db, ("slow", Target("onebot", "user", "10001")))
    settings = with_lease(1)
    sender = SlowSender()
    owner = OutboxWorker(db=db, settings=settings, senders={"onebot": sender})
    other = OutboxWorker(db=db, settings=settings, senders={"onebot": FakeSender()})
    running = asyncio.create_task(owner.run_once())
    await sender.busy(1)
    await asyncio.sleep(1.6)  # longer than the lease
    assert await other.run_once() == 0
    assert await statuses(db) == Counter(sending=1)
    sender.release.set()
    assert await running == 1
    assert await statuses(db) == Counter(sent=1)
    assert sender.sent == ["slow"]


async def test_a_send_that_ends_after_its_lease_was_given_up_is_still_recorded(db: Database) -> None:
    await queue(db, ("stalled", Target("onebot", "user", "10001")))
    sender = SlowSender()
    owner = OutboxWorker(db=db, settings=SETTINGS, senders={"onebot": sender})
    running = asyncio.create_task(owner.run_once())
    await sender.busy(1)
    other = OutboxWorker(db=db, settings=SETTINGS, senders={"onebot": FakeSender()})
    assert await other.run_once(utcnow() + timedelta(hours=1)) == 0  # as if the owner had stalled
    assert await statuses(db) == Counter(unknown=1)
    sender.release.set()
    await running
    async with db.read() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert (row.status, row.attempts, row.last_error, row.sent_at is not None) == ("sent", 1, None, True)
