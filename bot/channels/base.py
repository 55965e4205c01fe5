"""What every webhook endpoint shares: bounded bodies, rejections, freshness, late replies.

Rejections answer a 4xx, are counted in ``unionbot_messages_rejected{channel,reason}``
and logged once at INFO without secrets or message text.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar

from aiohttp import web

from bot.appkeys import CLOCK, DB, METRICS, OUTBOX, PIPELINE, SETTINGS, TASKS
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, Unreachable, enqueue
from bot.pipeline import ANSWER_ROUTE, PASSIVE, PUSHED, AnswerRoute

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024
_T = TypeVar("_T")


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


def json_object(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body; 400 for anything else."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Rejected(400, "malformed_json") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "not_an_object")
    return payload


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
    app: web.Application, incoming: Incoming, budget: float, *,
    late_target: Target | None, late_key: str | None = None,
) -> tuple[bool, Reply | None]:
    """Run the pipeline; ``(True, reply)`` when it finished within ``budget`` seconds.

    Otherwise ``(False, None)``: the work goes on in a tracked task and its reply is
    queued in the outbox for ``late_target`` when it is ready, under ``late_key``
    (default ``late:<dedup key>``).
    """
    task, route = start_handling(app, incoming)
    if await in_time(task, route, budget):
        return True, task.result()
    key = late_key or f"late:{incoming.dedup_key}"
    track(app, task, _late_delivery(app, incoming, late_target, key))
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
    app: web.Application, task: asyncio.Future[_T],
    then: Callable[[asyncio.Future[_T]], None] | None = None,
) -> None:
    """Keep ``task`` in the app's task set until it is done (shutdown waits for it)."""
    tasks = app[TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    if then is not None:
        task.add_done_callback(then)


def _late_delivery(
    app: web.Application, incoming: Incoming, target: Target | None, key: str,
) -> Callable[[asyncio.Future[Reply | None]], None]:
    def deliver(task: asyncio.Future[Reply | None]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        reply = task.result()
        if reply is None or target is None:
            return
        track(app, asyncio.ensure_future(_queue_late(app, incoming, target, reply, key)))

    return deliver


async def _queue_late(
    app: web.Application, incoming: Incoming, target: Target, reply: Reply, key: str,
) -> None:
    try:
        queued = await queue_reply(app, incoming, key=key, target=target, reply=reply,
                                   failure="a late reply cannot be delivered")
    except Exception:
        logger.exception("%s: could not queue the late reply to message %s",
                         incoming.channel, incoming.message_id)
        return
    if queued:
        logger.info("%s: message %s took longer than the reply budget; reply queued",
                    incoming.channel, incoming.message_id)


async def queue_reply(
    app: web.Application, incoming: Incoming, *, key: str, target: Target, reply: Reply,
    failure: str,
) -> bool:
    """Put a reply to ``incoming`` in the outbox under ``key`` and wake the delivery worker.

    False when the outbox refuses the target (logged as ``failure`` with the reason).
    """
    try:
        async with app[DB].write() as session:
            await enqueue(session, settings=app[SETTINGS], key=key, target=target, reply=reply)
    except Unreachable as exc:
        logger.warning("%s: %s: %s", incoming.channel, failure, exc.reason)
        return False
    app[OUTBOX].wake()
    return True
