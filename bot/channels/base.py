"""What every webhook endpoint shares: bounded bodies, rejections, freshness, late replies.

Rejections answer a 4xx, are counted in ``unionbot_messages_rejected{channel,reason}``
and logged once at INFO without secrets or message text.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Final

from aiohttp import web

from bot.appkeys import CLOCK, METRICS, OUTBOX, PIPELINE, SETTINGS, TASKS
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, Unreachable, enqueue
from bot.pipeline import ANSWER_ROUTE, PASSIVE, PUSHED, AnswerRoute

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024


class Rejected(Exception):
    """A request refused before it reached the pipeline."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def rejection(request: web.Request, channel: str, exc: Rejected) -> web.Response:
    """Count, log once and answer a refused request."""
    request.app[METRICS].rejected.labels(channel, exc.reason).inc()
    peer = request.remote or "-"
    logger.info("%s: refused a request from %s: %s (%d)", channel, peer, exc.reason, exc.status)
    return web.Response(status=exc.status, text=exc.reason)


async def read_body(request: web.Request) -> bytes:
    """The request body, at most 64 KiB (413 beyond)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Rejected(413, "body_too_large")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Rejected(413, "body_too_large") from None


def same(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time comparison of two signatures."""
    a = expected.encode() if isinstance(expected, str) else expected
    b = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(a, b)


def check_fresh(request: web.Request, timestamp: str | None) -> None:
    """Refuse a timestamp outside ``[security] replay_window_seconds`` (0: no check)."""
    window = request.app[SETTINGS].security.replay_window_seconds
    if timestamp is None or not timestamp.isdigit() or len(timestamp) > 12:
        raise Rejected(400, "bad_timestamp")
    if window and abs(request.app[CLOCK]() - int(timestamp)) > window:
        raise Rejected(403, "stale_timestamp")


async def answer_in_time(
    request: web.Request, incoming: Incoming, budget: float, *, late_target: Target | None,
) -> tuple[bool, Reply | None]:
    """Run the pipeline; ``(True, reply)`` when it finished within ``budget`` seconds.

    Otherwise ``(False, None)``: the work goes on in a tracked task and its reply is
    queued in the outbox for ``late_target`` (key ``late:<dedup key>``) when it is ready.
    """
    app = request.app
    task, route = start_handling(app, incoming)
    if await in_time(task, route, budget):
        return True, task.result()
    track(app, task, _late_delivery(app, incoming, late_target))
    return False, None


def start_handling(
    app: web.Application, incoming: Incoming
) -> tuple[asyncio.Future[Reply | None], AnswerRoute]:
    """Run the pipeline on ``incoming`` in a task of its own, with a fresh ``AnswerRoute``."""
    route = AnswerRoute()
    token = ANSWER_ROUTE.set(route)
    try:
        return asyncio.ensure_future(app[PIPELINE].handle(incoming)), route
    finally:
        ANSWER_ROUTE.reset(token)


async def in_time(task: asyncio.Future[Reply | None], route: AnswerRoute, budget: float) -> bool:
    """Whether the reply of ``task`` goes in the answer to the request.

    True when it is ready within ``budget`` seconds, or when the pipeline has already
    stored it as answered passively (its transaction is ending: it is waited for).
    False means the request is answered empty, and only a reply the pipeline returns
    afterwards is to be pushed: every copy of a message gets the same choice, made once.
    """
    done, _ = await asyncio.wait({task}, timeout=budget)
    if done:
        return True
    if route.choose(PUSHED) == PASSIVE:
        await asyncio.wait({task})
        return True
    return False


def track(
    app: web.Application, task: asyncio.Future[Reply | None],
    then: Callable[[asyncio.Future[Reply | None]], None] | None = None,
) -> None:
    tasks = app[TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    if then is not None:
        task.add_done_callback(then)


def _late_delivery(
    app: web.Application, incoming: Incoming, target: Target | None
) -> Callable[[asyncio.Future[Reply | None]], None]:
    def deliver(task: asyncio.Future[Reply | None]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        reply = task.result()
        if reply is None or target is None:
            return
        job = asyncio.ensure_future(_queue_late(app, incoming, target, reply))
        app[TASKS].add(job)
        job.add_done_callback(app[TASKS].discard)

    return deliver


async def _queue_late(app: web.Application, incoming: Incoming, target: Target, reply: Reply) -> None:
    try:
        async with app[PIPELINE].db.write() as session:
            await enqueue(
                session, settings=app[SETTINGS], key=f"late:{incoming.dedup_key}",
                target=target, reply=reply,
            )
    except Unreachable as exc:
        logger.warning("%s: a late reply cannot be delivered: %s", incoming.channel, exc.reason)
        return
    app[OUTBOX].wake()
