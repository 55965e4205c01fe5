"""The outbox worker: sends, retries with backoff, gives up, leases, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.messages import Reply
from bot.outbox.queue import Target, enqueue, recall
from bot.outbox.worker import (
    OutboxWorker,
    RateLimiter,
    RetryLater,
    Sender,
    Undeliverable,
    listing,
    retry,
)
from models.base import utcnow
from models.db import Database
from models.outbox import OutboxMessage
from tests.factories import make_settings

SETTINGS = make_settings(
    onebot={"enabled": True, "api_url": "http://127.0.0.1:9"},
    outbox={"max_attempts": 3, "backoff_seconds": 10, "rate_limits": {"onebot:group": "2/min"}},
)


class FakeSender(Sender):
    channel = "onebot"

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.sent: list[tuple[Target, str, str]] = []

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((target, reply.text, key))


async def queue(db: Database, *items: tuple[str, Target]) -> None:
    async with db.write() as session:
        for key, target in items:
            await enqueue(session, settings=SETTINGS, key=key, target=target, reply=Reply(f"消息{key}"))


async def state(db: Database) -> list[tuple[str, str, int, str | None]]:
    async with db.read() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.key, r.status, r.attempts, r.last_error) for r in found]


def worker(db: Database, sender: Sender) -> OutboxWorker:
    return OutboxWorker(db=db, settings=SETTINGS, senders={"onebot": sender})


USER = Target("onebot", "user", "10001")


async def test_a_queued_message_is_sent_once(db: Database) -> None:
    await queue(db, ("a", USER))
    sender = FakeSender()
    w = worker(db, sender)
    assert await w.run_once() == 1
    assert await w.run_once() == 0
    assert sender.sent == [(USER, "消息a", "a")]
    [(_, status, attempts, error)] = await state(db)
    assert (status, attempts, error) == ("sent", 1, None)


async def test_passing_failures_are_retried_later_with_backoff(db: Database) -> None:
    await queue(db, ("a", USER))
    sender = FakeSender(RetryLater("限流 45009"), aiohttp.ClientConnectionError("refused"))
    w = worker(db, sender)
    before = utcnow()
    assert await w.run_once() == 1
    after = utcnow()
    assert await state(db) == [("a", "queued", 1, "限流 45009")]
    assert await w.run_once(before) == 0  # not due yet: backoff of 5–10 s
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert before + timedelta(seconds=5) <= row.next_attempt_at <= after + timedelta(seconds=10)
    assert await w.run_once(utcnow() + timedelta(seconds=11)) == 1
    assert await state(db) == [("a", "queued", 2, "网络错误：ClientConnectionError")]
    assert await w.run_once(utcnow() + timedelta(seconds=60)) == 1
    assert (await state(db))[0][:3] == ("a", "sent", 3)
    assert len(sender.sent) == 1


async def test_retry_after_seconds_from_the_platform_is_honoured(db: Database) -> None:
    await queue(db, ("a", USER))
    before = utcnow()
    await worker(db, FakeSender(RetryLater("busy", after=120))).run_once()
    after = utcnow()
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    assert before + timedelta(seconds=120) <= row.next_attempt_at <= after + timedelta(seconds=120)


async def test_after_max_attempts_a_message_is_dead_with_its_last_error(db: Database) -> None:
    await queue(db, ("a", USER))
    w = worker(db, FakeSender(*(RetryLater(f"第{i}次") for i in range(1, 10))))
    for hours in range(3):
        await w.run_once(utcnow() + timedelta(hours=hours))
    [(_, status, attempts, error)] = await state(db)
    assert (status, attempts) == ("dead", 3)
    assert error == "3 次尝试都失败了，最后一次：第3次"
    assert await w.run_once(utcnow() + timedelta(days=1)) == 0


async def test_a_permanent_refusal_is_dead_at_once_and_others_still_go(db: Database) -> None:
    other = Target("onebot", "user", "10002")
    await queue(db, ("a", USER), ("b", other))
    sender = FakeSender(Undeliverable("群不存在"))
    assert await worker(db, sender).run_once() == 2
    assert await state(db) == [("a", "dead", 1, "群不存在"), ("b", "sent", 1, None)]


async def test_an_unexpected_sender_error_is_retried_not_lost(db: Database) -> None:
    await queue(db, ("a", USER))
    await worker(db, FakeSender(KeyError("bug"))).run_once()
    assert await state(db) == [("a", "queued", 1, "内部错误：KeyError")]


async def test_a_channel_without_sender_is_dead_with_a_reason(db: Database) -> None:
    await queue(db, ("a", USER))
    await OutboxWorker(db=db, settings=SETTINGS, senders={}).run_once()
    assert await state(db) == [("a", "dead", 1, "渠道 onebot 未启用")]


async def expire_lease(db: Database) -> None:
    async with db.write() as session:
        await session.execute(update(OutboxMessage).values(
            status="sending", attempts=1, lease_until=utcnow() - timedelta(seconds=1)))


async def test_a_send_cut_off_midway_is_not_resent_blindly(db: Database) -> None:
    await queue(db, ("a", USER))
    await expire_lease(db)
    sender = FakeSender()
    assert await worker(db, sender).run_once() == 0
    assert sender.sent == []
    [(_, status, _, error)] = await state(db)
    assert status == "unknown" and error is not None and "outbox retry" in error
    assert await retry(db, 1) == {"id": 1, "before": "unknown", "after": "queued"}
    await worker(db, sender).run_once()
    assert [key for _, _, key in sender.sent] == ["a"]


async def test_a_send_cut_off_midway_is_retried_where_the_platform_drops_duplicates(db: Database) -> None:
    class Idempotent(FakeSender):
        idempotent = True

    await queue(db, ("a", USER))
    await expire_lease(db)
    sender = Idempotent()
    await worker(db, sender).run_once()
    await worker(db, sender).run_once()
    assert [key for _, _, key in sender.sent] == ["a"]
    assert (await state(db))[0][1] == "sent"


async def test_a_live_lease_is_left_alone(db: Database) -> None:
    await queue(db, ("a", USER))
    async with db.write() as session:
        await session.execute(update(OutboxMessage).values(
            status="sending", lease_until=utcnow() + timedelta(seconds=30)))
    sender = FakeSender()
    assert await worker(db, sender).run_once() == 0
    assert (await state(db))[0][1] == "sending"


async def test_rate_limits_hold_messages_for_a_busy_group(db: Database) -> None:
    group = Target("onebot", "group", "555")
    await queue(db, *((f"g{i}", group) for i in range(5)), ("u", USER))
    sender = FakeSender()
    w = worker(db, sender)
    before = utcnow()
    assert await w.run_once() == 3  # two for the group (2/min) and the user message
    after = utcnow()
    assert sorted(key for _, _, key in sender.sent) == ["g0", "g1", "u"]
    async with db.read() as session:
        held = list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "queued")))
    assert len(held) == 3
    # due a minute after the group's first message, which went out between before and after
    minute = timedelta(minutes=1)
    assert all(before + minute - (after - before) <= r.next_attempt_at <= after + minute for r in held)


def test_rate_limiter_counts_a_sliding_window() -> None:
    limiter = RateLimiter({"wecom:robot": "20/min"})
    robot = Target("wecom", "robot", "一号群")
    assert [limiter.wait(robot, 0.0 + i) for i in range(20)] == [0.0] * 20
    assert limiter.wait(robot, 20.0) == pytest.approx(40.0)
    assert limiter.wait(robot, 60.0) == 0.0  # the first slot freed
    assert limiter.wait(Target("wecom", "user", "x"), 20.0) == 0.0  # no limit configured
    limiter.forget_idle(1000.0)
    assert limiter.sent == {}


async def test_two_workers_never_send_the_same_message(db: Database) -> None:
    await queue(db, *((f"m{i}", Target("onebot", "user", str(i))) for i in range(30)))
    sender = FakeSender()
    first, second = worker(db, sender), worker(db, sender)
    await asyncio.gather(first.run_once(), second.run_once(), first.run_once())
    keys = [key for _, _, key in sender.sent]
    assert sorted(keys) == sorted(f"m{i}" for i in range(30))


async def test_retry_requeues_dead_messages_and_listing_shows_them(db: Database) -> None:
    await queue(db, ("a", USER), ("b", USER))
    await worker(db, FakeSender(Undeliverable("拉黑"))).run_once()
    assert [r.status for r in await listing(db)] == ["sent", "dead"]  # newest first
    assert [r.key for r in await listing(db, status="dead")] == ["a"]
    assert await retry(db, 1) == {"id": 1, "before": "dead", "after": "queued"}
    assert await retry(db, 2) == {"id": 2, "before": "sent", "after": "sent"}
    assert await retry(db, 99) is None
    sender = FakeSender()
    await worker(db, sender).run_once()
    assert [key for _, _, key in sender.sent] == ["a"]


async def test_the_worker_loop_delivers_after_wake_and_stops_cleanly(db: Database) -> None:
    sender = FakeSender()
    w = worker(db, sender)
    w.start()
    await queue(db, ("a", USER))
    w.wake()
    for _ in range(100):
        if sender.sent:
            break
        await asyncio.sleep(0.02)
    await w.stop()
    assert [key for _, _, key in sender.sent] == ["a"]


async def test_only_kinds_the_platform_deduplicates_are_resent_after_a_cut(db: Database) -> None:
    class UsersOnly(FakeSender):
        idempotent_kinds = frozenset({"user"})

    await queue(db, ("u", USER), ("g", Target("onebot", "group", "555")))
    await expire_lease(db)
    sender = UsersOnly()
    await worker(db, sender).run_once()
    await worker(db, sender).run_once()
    assert [key for _, _, key in sender.sent] == ["u"]
    assert [(key, status) for key, status, _, _ in await state(db)] == [("u", "sent"), ("g", "unknown")]


async def test_a_recalled_message_is_never_sent_and_cannot_be_retried(db: Database) -> None:
    await queue(db, ("event:A1:start-x:remind-24h:member:1", USER), ("b", USER))
    async with db.write() as session:
        await recall(session, "event:A1:start-x:", "活动 A1 已取消，提醒已作废")
    sender = FakeSender()
    assert await worker(db, sender).run_once() == 1
    assert [key for _, _, key in sender.sent] == ["b"]
    assert await retry(db, 1) == {
        "id": 1, "before": "recalled", "after": "recalled", "reason": "活动 A1 已取消，提醒已作废",
    }
    await worker(db, sender).run_once()
    assert [key for _, _, key in sender.sent] == ["b"]
    assert [(r.key, r.last_error) for r in await listing(db, status="recalled")] == [
        ("event:A1:start-x:remind-24h:member:1", "活动 A1 已取消，提醒已作废"),
    ]


class RecallAfterClaimRead:
    """A database on which the event is called off between the worker reading what is due
    and leasing it (its second read, after the one for expired leases)."""

    def __init__(self, db: Database) -> None:
        self.db, self.reads = db, 0

    def write(self) -> Any:
        return self.db.write()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        async with self.db.read() as session:
            yield session
        self.reads += 1
        if self.reads == 2:
            async with self.db.write() as session:
                await recall(session, "event:A1:", "活动 A1 已取消")


async def test_a_message_recalled_while_the_worker_picks_it_up_is_not_sent(db: Database) -> None:
    await queue(db, ("event:A1:remind", USER), ("b", USER))
    sender = FakeSender()
    racing = OutboxWorker(db=RecallAfterClaimRead(db), settings=SETTINGS, senders={"onebot": sender})  # type: ignore[arg-type]
    assert await racing.run_once() == 1
    assert [key for _, _, key in sender.sent] == ["b"]
    assert [(key, status) for key, status, _, _ in await state(db)] == [
        ("event:A1:remind", "recalled"), ("b", "sent"),
    ]
