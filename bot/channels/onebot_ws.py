"""QQ through a OneBot v11 reverse WebSocket: ``GET /qq/onebot/ws`` (communication/ws-reverse.md).

The implementation (NapCat, Lagrange.OneBot, LLOneBot …) connects as a ``Universal``
client, one connection per QQ account. Before the upgrade it must show
``[onebot] access_token`` (``Authorization: Bearer <token>`` or ``?access_token=``;
missing → 401, wrong → 403) and a numeric ``X-Self-ID`` (400). Without an
``access_token`` in the configuration the socket refuses everyone (403): an open
socket would let anyone speak as any QQ user. A new connection of an account
replaces (and closes) its older one.

Over the socket: events come in (messages go through the pipeline, as over HTTP
POST; heartbeats are tracked and a connection that misses ``HEARTBEAT_MISSES``
intervals is closed); replies and outbox messages go out as API calls
(``bot.channels.onebot_link``). A reply that cannot go out over the socket goes to
the outbox. What a peer can do wrong, and what happens::

    frame over 1 MiB                    closed, 1009
    invalid UTF-8 in a text frame       closed, 1007 (by aiohttp)
    more frames than the flood limit    closed, 1008
    not JSON / not an event             frame ignored, one log line a minute per kind
    message event over 64 KiB           ignored likewise
    MAX_PENDING messages still handled  further messages ignored likewise
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Final

from aiohttp import WSCloseCode, WSMsgType, web

from bot.appkeys import METRICS, PIPELINE, SETTINGS
from bot.channels.base import MAX_BODY_BYTES, Rejected, queue_reply, rejection, same, track
from bot.channels.onebot_api import action_for, answer_verdict, late_key
from bot.channels.onebot_events import CHANNEL, MessageEvent, parse_event, qq_id
from bot.channels.onebot_link import GROUPS_REFRESH_SECONDS, Link, LinkGone, Links
from bot.httpguard import FloodLog
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target
from bot.outbox.worker import RetryLater, Undeliverable
from bot.pipeline import ANSWER_ROUTE, PUSHED, AnswerRoute
from bot.render import say

logger = logging.getLogger(__name__)

PATH: Final = "/qq/onebot/ws"
MAX_FRAME_BYTES: Final = 1024 * 1024
FRAMES_PER_SECOND = 2000.0  # the flood limit: a sustained rate …
FRAME_BURST = 4000.0  # … and a burst above it
MAX_PENDING = 256  # message events of one connection being handled or waiting
CONCURRENCY = 16  # … of which at most this many in the pipeline at once
HEARTBEAT_MISSES: Final = 3
PING_SECONDS: Final = 30.0  # WebSocket pings, for connections without OneBot heartbeats
CLOSE_TIMEOUT: Final = 5.0

LINKS = web.AppKey("onebot_links", Links)
IGNORED = web.AppKey("onebot_ignored", FloodLog)


def install(app: web.Application) -> None:
    """Add ``GET /qq/onebot/ws``; the links it makes are in ``app[LINKS]``."""
    metrics = app[METRICS]
    app[LINKS] = Links(metrics.onebot_connected, metrics.onebot_ended)
    app[IGNORED] = FloodLog(metrics.onebot_ignored)
    app.router.add_get(PATH, connect)
    app.on_shutdown.append(_close_all)
    if not app[SETTINGS].onebot.access_token:
        logger.warning("onebot: no [onebot] access_token is set, so %s refuses every connection; "
                       "set the same token in the OneBot implementation to use it", PATH)


async def _close_all(app: web.Application) -> None:
    await app[LINKS].close_all(WSCloseCode.GOING_AWAY, "server shutting down")


def given_token(request: web.Request) -> str | None:
    """The access token a connecting implementation shows (header first, then the query)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        return value.strip() if scheme.lower() in ("bearer", "token") else ""
    return request.query.get("access_token")


def check_handshake(request: web.Request) -> str:
    """The account (``X-Self-ID``) of an allowed connection; ``Rejected`` otherwise."""
    expected = request.app[SETTINGS].onebot.access_token
    if not expected:
        raise Rejected(403, "no_access_token")
    token = given_token(request)
    if token is None:
        raise Rejected(401, "missing_token")
    if not same(expected, token):
        raise Rejected(403, "bad_token")
    role = request.headers.get("X-Client-Role", "Universal").strip().lower()
    if role != "universal":
        raise Rejected(400, "unsupported_role")
    return qq_id(request.headers.get("X-Self-ID", "").strip(), "self_id")


async def connect(request: web.Request) -> web.StreamResponse:
    """One implementation connecting for one QQ account."""
    links = request.app[LINKS]
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=PING_SECONDS,
                               timeout=CLOSE_TIMEOUT)
    try:
        self_id = check_handshake(request)
        if not ws.can_prepare(request).ok:
            raise Rejected(400, "not_a_websocket")
    except Rejected as exc:
        links.ended.labels(exc.reason).inc()
        return rejection(request, CHANNEL, exc)
    await ws.prepare(request)
    link = Link(self_id, ws)
    old = links.attach(link)
    if old is not None:  # closed aside: a peer slow to answer its close does not hold up the new one
        track(request.app, asyncio.ensure_future(old.close(WSCloseCode.OK, "replaced")))
    logger.info("onebot: account %s connected by WebSocket from %s", self_id, request.remote or "-")
    reason = "server_error"
    try:
        link.refresh_groups_soon(0)
        reason = await Connection(request.app, link).serve()
    finally:
        links.detach(link, reason)
        logger.info("onebot: account %s disconnected (%s)", self_id, reason)
    return ws


class Bucket:
    """A token bucket: ``rate`` frames a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    """Reads one link's frames until it closes; returns why it closed."""

    def __init__(self, app: web.Application, link: Link) -> None:
        self.app = app
        self.link = link
        self.bucket = Bucket(FRAMES_PER_SECOND, FRAME_BURST)
        self.pending = 0
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.deadline: float | None = None  # when the heartbeats count as missed

    async def serve(self) -> str:
        ws = self.link.ws
        while True:
            wait = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.001)
            try:
                message = await ws.receive(timeout=wait)
            except TimeoutError:
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    return await self._close(WSCloseCode.GOING_AWAY, "heartbeat_timeout")
                continue
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                if not self.bucket.take():
                    return await self._close(WSCloseCode.POLICY_VIOLATION, "flood")
                self.on_frame(message.data)
            elif message.type == WSMsgType.ERROR:
                return _error_reason(getattr(message.data, "code", None))
            else:
                return self.link.why or "peer_closed"

    async def _close(self, code: int, reason: str) -> str:
        logger.warning("onebot: closing the connection of account %s: %s", self.link.self_id, reason)
        await self.link.close(code, reason)
        return reason

    def ignore(self, reason: str) -> None:
        self.app[IGNORED].note(reason, "onebot: account %s: ignored a frame (%s)",
                               self.link.self_id, reason)

    def on_frame(self, data: str | bytes) -> None:
        payload = _json_object(data)
        if payload is None:
            self.ignore("not_json")
            return
        post_type = payload.get("post_type")
        if post_type is None:
            if not self.link.answered(payload):
                self.ignore("unexpected_response")
        elif post_type == "meta_event":
            self.on_meta(payload)
        elif post_type == "notice":
            self.on_notice(payload)
        elif post_type == "message":
            self.on_message(payload, len(data))

    def on_meta(self, payload: dict[str, Any]) -> None:
        kind = payload.get("meta_event_type")
        if kind == "heartbeat":
            interval = payload.get("interval")
            if isinstance(interval, int | float) and 0 < interval <= 86_400_000:
                self.deadline = time.monotonic() + HEARTBEAT_MISSES * interval / 1000
            status = payload.get("status")
            self.link.online = not (isinstance(status, dict) and status.get("online") is False)
            self.link.refresh_groups_soon(GROUPS_REFRESH_SECONDS)
        elif kind == "lifecycle":
            logger.info("onebot: account %s lifecycle event %.20s", self.link.self_id,
                        str(payload.get("sub_type")))

    def on_notice(self, payload: dict[str, Any]) -> None:
        """The account joined or left a group: keep its group list current."""
        kind = payload.get("notice_type")
        if kind not in ("group_increase", "group_decrease"):
            return
        if str(payload.get("user_id")) != self.link.self_id:
            return
        self.link.joined(str(payload.get("group_id")), kind == "group_increase")

    def on_message(self, payload: dict[str, Any], size: int) -> None:
        if size > MAX_BODY_BYTES:
            self.ignore("event_too_large")
            return
        try:
            event = parse_event(payload, self.link.self_id)
        except Rejected as exc:
            self.ignore(exc.reason)
            return
        if event is None:
            return
        if self.pending >= MAX_PENDING:
            self.ignore("busy")
            return
        self.pending += 1
        track(self.app, asyncio.ensure_future(self.handle(event)), self._done)

    def _done(self, _: asyncio.Future[None]) -> None:
        self.pending -= 1

    async def handle(self, event: MessageEvent) -> None:
        async with self.slots:
            reply = await answer_pushed(self.app, event)
        if reply is not None:
            await send_reply(self.app, self.link.self_id, event.incoming, reply)


async def answer_pushed(app: web.Application, event: MessageEvent) -> Reply | None:
    """The pipeline's reply, to be sent by API call (a redelivery of a message gets None)."""
    if event.only_media:
        return media_only(event)
    route = AnswerRoute()
    route.choose(PUSHED)
    ANSWER_ROUTE.set(route)  # this task's own context
    return await app[PIPELINE].handle(event.incoming)


def media_only(event: MessageEvent) -> Reply | None:
    """The answer to a message without any text: a hint, but silence to group chatter."""
    incoming = event.incoming
    if incoming.is_group and not incoming.mentions_bot:
        return None
    return Reply(say("qq", "text_only"), mention_sender=incoming.is_group)


async def send_reply(app: web.Application, self_id: str, incoming: Incoming, reply: Reply) -> None:
    """Send ``reply`` over the account's socket; through the outbox when that fails."""
    target = Target(CHANNEL, "group" if incoming.is_group else "user", incoming.chat_id)
    key = late_key(incoming)
    link = app[LINKS].current(self_id)
    try:
        if link is None:
            raise LinkGone
        action, params = action_for(target, reply, key)
        answer_verdict(action, await link.call(action, params))
    except Undeliverable as exc:
        logger.warning("onebot: the reply to message %s was refused: %s", incoming.message_id, exc.reason)
    except (LinkGone, RetryLater, TimeoutError):
        try:
            await queue_reply(app, incoming, key=key, target=target, reply=reply,
                              failure="a reply cannot be delivered")
        except Exception:
            logger.exception("onebot: could not queue the reply to message %s", incoming.message_id)


def _json_object(data: str | bytes) -> dict[str, Any] | None:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _error_reason(code: int | None) -> str:
    if code == WSCloseCode.MESSAGE_TOO_BIG:
        return "frame_too_big"
    if code == WSCloseCode.INVALID_TEXT:
        return "invalid_text"
    return "protocol_error"
