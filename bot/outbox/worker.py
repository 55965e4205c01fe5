"""The outbox worker: delivers queued messages with retries, backoff and rate limits.

Exceptions a sender raises::

    DeliveryError
     ├── RetryLater      network error, 5xx, rate limit, expired token: try again later
     └── Undeliverable   the platform refused for good (blocked, unknown chat): mark dead

The lifecycle of a row: ``queued`` → ``sending`` (leased for ``lease_seconds``, renewed
while the send lasts) → ``sent`` | ``queued`` again with a backoff | ``dead``. A worker
leases a row just before sending it, never more rows than it sends at once
(``concurrency``). A row marked ``sending`` whose lease ran out belongs to a worker that
died between sending and marking: it is requeued only for senders whose platform drops
duplicates by itself (``idempotent``); otherwise it is marked ``unknown`` and an operator
decides (``unionbot outbox retry <id>``). At most ``concurrency`` rows of a killed worker
can end so, each sent or not within one HTTP request. A worker that was only slow still
records its result on the row it leased, ``unknown`` or not. A ``queued`` row may be ``recalled``
(``bot.outbox.queue.recall``) before it is claimed: the worker never touches it again and
``retry`` refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import aiohttp
from sqlalchemy import bindparam, select, update
from sqlmodel import col

from bot.config import OutboxSettings, Settings, parse_rate
from bot.messages import Reply
from bot.metrics import Metrics
from bot.outbox.queue import Target, TargetKind
from bot.render import say
from models.base import execute_core, table_of, utcnow
from models.db import Database
from models.outbox import DEAD, QUEUED, RECALLED, SENDING, SENT, UNKNOWN, OutboxMessage

logger = logging.getLogger(__name__)

BATCH = 100


class DeliveryError(Exception):
    """A message could not be delivered this time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:480]


class RetryLater(DeliveryError):
    """A passing failure; ``after`` seconds (if the platform said so) before the next try."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(DeliveryError):
    """The platform refused the message for good."""


class Sender:
    """Sends outbox messages on one channel. Subclasses implement ``send``."""

    channel: ClassVar[str]
    idempotent: ClassVar[bool] = False  # the platform drops a resent duplicate by itself
    idempotent_kinds: ClassVar[frozenset[str]] = frozenset()  # ... for these target kinds only

    def drops_duplicates(self, kind: str) -> bool:
        """Whether resending a message of this kind is safe (the platform deduplicates)."""
        return self.idempotent or kind in self.idempotent_kinds

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        raise NotImplementedError


class RateLimiter:
    """At most ``count`` messages per ``period`` seconds to each target (in this process)."""

    def __init__(self, limits: Mapping[str, str]) -> None:
        self.limits = {name: parse_rate(rate) for name, rate in limits.items()}
        self.sent: dict[str, deque[float]] = {}

    def wait(self, target: Target, now: float) -> float:
        """Seconds until ``target`` may get a message (0: now); reserves the slot if 0."""
        limit = self.limits.get(f"{target.channel}:{target.kind}")
        if limit is None:
            return 0.0
        count, period = limit
        times = self.sent.setdefault(str(target), deque())
        while times and times[0] <= now - period:
            times.popleft()
        if len(times) >= count:
            return times[0] + period - now
        times.append(now)
        return 0.0

    def forget_idle(self, now: float) -> None:
        longest = max((period for _, period in self.limits.values()), default=0.0)
        for name in [n for n, t in self.sent.items() if not t or t[-1] <= now - longest]:
            del self.sent[name]


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    key: str
    target: Target
    payload: str
    attempts: int
    token: str  # the lease this worker holds on the row


_table = table_of(OutboxMessage)
_DUE = (
    select(_table.c.id, _table.c.key, _table.c.channel, _table.c.target_kind, _table.c.target,
           _table.c.payload, _table.c.attempts)
    .where(_table.c.status == QUEUED, _table.c.next_attempt_at <= bindparam("now"))
    .order_by(_table.c.next_attempt_at, _table.c.id)
    .limit(BATCH)
)
_EXPIRED = (
    select(_table.c.id, _table.c.channel, _table.c.target_kind)
    .where(_table.c.status == SENDING, _table.c.lease_until < bindparam("now"))
    .limit(BATCH)
)
# Leased only as it was seen: still queued, still due, not tried by anyone since.
_LEASE = (
    update(_table).where(
        _table.c.id == bindparam("row_id"), _table.c.status == QUEUED,
        _table.c.attempts == bindparam("seen_attempts"),
        _table.c.next_attempt_at <= bindparam("now"),
    )
    .values(status=SENDING, lease_until=bindparam("lease_until"),
            lease_token=bindparam("token"), attempts=_table.c.attempts + 1)
)
_RENEW = (
    update(_table).where(_table.c.id == bindparam("row_id"), _table.c.status == SENDING,
                         _table.c.lease_token == bindparam("token"))
    .values(lease_until=bindparam("lease_until"))
)
_POSTPONE = (
    update(_table).where(_table.c.id == bindparam("row_id"), _table.c.status == QUEUED)
    .values(next_attempt_at=bindparam("at"))
)
# The holder of a lease records the result even when its lease was given up for lost
# meanwhile (``unknown``, or requeued and not yet taken again): it knows what happened.
_FINISH = (
    update(_table).where(_table.c.id == bindparam("row_id"),
                         _table.c.lease_token == bindparam("token"),
                         _table.c.status.in_((SENDING, UNKNOWN, QUEUED)))
    .values(status=bindparam("new_status"), next_attempt_at=bindparam("at"),
            sent_at=bindparam("sent_at"), last_error=bindparam("error"), lease_until=None)
)
_EXPIRE = (
    update(_table).where(_table.c.id == bindparam("row_id"), _table.c.status == SENDING,
                         _table.c.lease_until < bindparam("now"))
    .values(status=bindparam("new_status"), last_error=bindparam("error"), lease_until=None)
)


class OutboxWorker:
    """Delivers due outbox rows until stopped; ``wake()`` makes it look at once.

    It holds at most ``concurrency`` leases at a time, each taken just before its
    message is sent and renewed every third of ``lease_seconds`` while the send lasts,
    so a lease runs out only when its worker is gone (or stalled for a whole lease).
    """

    def __init__(
        self, *, db: Database, settings: Settings, senders: Mapping[str, Sender],
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.config: OutboxSettings = settings.outbox
        self.senders = senders
        self.metrics = metrics
        self.limiter = RateLimiter(self.config.rate_limits)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._leases: dict[int, str] = {}  # row id → lease token, for the rows being sent

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox worker pass failed; trying again shortly")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
                self._wake.clear()

    async def run_once(self, now: datetime | None = None) -> int:
        """Deliver what is due now, ``concurrency`` at a time; returns how many were attempted."""
        await self._expire_leases(now or utcnow())
        async with self.db.read() as session:
            due = deque((await session.execute(_DUE, {"now": now or utcnow()})).all())
        running: set[asyncio.Task[None]] = set()
        attempted, renewed = 0, time.monotonic()
        try:
            while due or running:
                for row in await self._lease(due, self.config.concurrency - len(running), now):
                    running.add(asyncio.create_task(self._deliver(row)))
                    attempted += 1
                if not running:
                    break
                done, running = await asyncio.wait(
                    running, timeout=self.config.lease_seconds / 3,
                    return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is not None:
                        logger.error("outbox: a delivery failed", exc_info=task.exception())
                if time.monotonic() - renewed >= self.config.lease_seconds / 3:
                    await self._renew()
                    renewed = time.monotonic()
        finally:
            for task in running:
                task.cancel()
        self.limiter.forget_idle(time.monotonic())
        return attempted

    async def _expire_leases(self, now: datetime) -> None:
        async with self.db.read() as session:
            expired = (await session.execute(_EXPIRED, {"now": now})).all()
        if not expired:
            return
        async with self.db.write() as session:
            for row_id, channel, kind in expired:
                sender = self.senders.get(channel)
                dropped = sender is not None and sender.drops_duplicates(kind)
                status = QUEUED if dropped else UNKNOWN
                error = say("outbox", "interrupted", dropped=dropped)
                done = await execute_core(session, _EXPIRE, {
                    "row_id": row_id, "new_status": status, "error": error, "now": now,
                })
                if done.rowcount:  # not renewed in the meantime
                    logger.warning("outbox message %s: lease expired mid-send, now %s", row_id, status)

    async def _lease(self, due: deque[Any], wanted: int, now: datetime | None) -> list[Due]:
        """Lease up to ``wanted`` of the ``due`` rows (taken from its left), in one transaction."""
        chosen: list[Due] = []
        if wanted <= 0 or not due:
            return chosen
        at = now or utcnow()
        lease_until = at + timedelta(seconds=self.config.lease_seconds)
        clock = time.monotonic()
        async with self.db.write() as session:
            while due and len(chosen) < wanted:
                row_id, key, channel, kind, target_id, payload, attempts = due.popleft()
                target = Target(channel, _kind(kind), target_id)
                wait = self.limiter.wait(target, clock)
                if wait > 0:
                    await execute_core(session, _POSTPONE, {
                        "row_id": row_id, "at": at + timedelta(seconds=wait),
                    })
                    continue
                token = secrets.token_hex(8)
                leased = await execute_core(session, _LEASE, {
                    "row_id": row_id, "lease_until": lease_until, "token": token,
                    "seen_attempts": attempts, "now": at,
                })
                if leased.rowcount:  # another replica may have taken it first
                    chosen.append(Due(row_id, key, target, payload, attempts + 1, token))
        self._leases.update((row.id, row.token) for row in chosen)
        return chosen

    async def _renew(self) -> None:
        """Push the leases of the rows being sent one ``lease_seconds`` further."""
        if not self._leases:
            return
        until = utcnow() + timedelta(seconds=self.config.lease_seconds)
        try:
            async with self.db.write() as session:
                for row_id, token in list(self._leases.items()):
                    await execute_core(session, _RENEW, {
                        "row_id": row_id, "token": token, "lease_until": until,
                    })
        except Exception:
            logger.exception("outbox: could not renew the leases of the messages being sent")

    async def _deliver(self, row: Due) -> None:
        sender = self.senders.get(row.target.channel)
        try:
            if sender is None:
                raise Undeliverable(say("outbox", "no_sender", channel=row.target.channel))
            await sender.send(row.target, Reply.from_json(row.payload), row.key)
        except Undeliverable as exc:
            await self._finish(row, DEAD, exc.reason)
        except RetryLater as exc:
            await self._retry(row, exc.reason, exc.after)
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._retry(row, say("outbox", "network_error", error=type(exc).__name__), None)
        except Exception as exc:
            logger.exception("outbox message %s: unexpected error from the sender", row.id)
            await self._retry(row, say("outbox", "internal_error", error=type(exc).__name__), None)
        else:
            await self._finish(row, SENT, None)

    async def _retry(self, row: Due, reason: str, after: float | None) -> None:
        if row.attempts >= self.config.max_attempts:
            await self._finish(row, DEAD, say("outbox", "gave_up", attempts=row.attempts, reason=reason))
            return
        delay = after if after is not None else self.backoff(row.attempts)
        await self._finish(row, QUEUED, reason, at=utcnow() + timedelta(seconds=delay))

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter, capped."""
        ceiling = min(self.config.backoff_max_seconds,
                      self.config.backoff_seconds * 2 ** (attempts - 1))
        return random.uniform(ceiling / 2, ceiling)

    async def _finish(
        self, row: Due, status: str, error: str | None, *, at: datetime | None = None
    ) -> None:
        now = utcnow()
        try:
            async with self.db.write() as session:
                await execute_core(session, _FINISH, {
                    "row_id": row.id, "token": row.token, "new_status": status, "at": at or now,
                    "sent_at": now if status == SENT else None, "error": error,
                })
        finally:
            self._leases.pop(row.id, None)
        if self.metrics is not None:
            self.metrics.outbox.labels(row.target.channel, status).inc()
        if status == DEAD:
            logger.warning("outbox message %s to %s is dead: %s", row.id, row.target, error)


def _kind(value: str) -> TargetKind:
    if value == "user":
        return "user"
    if value == "robot":
        return "robot"
    return "group"


async def retry(db: Database, row_id: int) -> dict[str, Any] | None:
    """Queue a dead, unknown or waiting message again now (``unionbot outbox retry``).

    A sent message stays sent, and a recalled one stays recalled: what it says is out of
    date (``reason`` tells why it was recalled)."""
    async with db.write() as session:
        row = await session.get(OutboxMessage, row_id)
        if row is None:
            return None
        before = row.status
        if row.status in (QUEUED, DEAD, UNKNOWN):
            row.status, row.next_attempt_at, row.attempts = QUEUED, utcnow(), 0
        found = {"id": row_id, "before": before, "after": row.status}
        if row.status == RECALLED:
            found["reason"] = row.last_error
        return found


_LIST = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())


async def listing(db: Database, *, status: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    """The newest outbox rows, optionally of one status (``unionbot outbox list``)."""
    query = _LIST.limit(limit)
    if status is not None:
        query = query.where(col(OutboxMessage.status) == status)
    async with db.read() as session:
        return list(await session.scalars(query))
