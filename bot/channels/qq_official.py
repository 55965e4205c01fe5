"""The official QQ bot (QQ 开放平台), webhook mode, at ``POST /qq/official``.

- op 13 (callback address check): answered with ``{"plain_token", "signature"}``, the
  signature being Ed25519 over ``event_ts + plain_token`` with the key made from the
  bot secret (``bot.channels.qq_sign``).
- every other payload must carry ``X-Signature-Ed25519`` over
  ``X-Signature-Timestamp + body`` (missing → 401, wrong → 403, stale → 403).
- op 0 events are acknowledged at once with ``{"op": 12}``; group @-messages and
  private messages then run through the pipeline in a tracked task, and the reply goes
  back as a passive reply through the v2 API (``bot.channels.qq_api``).

The platform lets the bot answer only, never speak first: there is no outbox sender
for this channel, and the outbox refuses notices aimed at it with a clear reason.
Dedup key: the event id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, HTTP, METRICS, PIPELINE, SETTINGS
from bot.channels.base import Rejected, check_fresh, read_body, rejection, track
from bot.channels.qq_api import QqApi
from bot.channels.qq_events import (
    CHANNEL,
    OP_DISPATCH,
    OP_VALIDATE,
    MessageEvent,
    load,
    message_event,
    validation,
)
from bot.channels.qq_sign import BotKeys
from bot.messages import Reply
from bot.render import say

logger = logging.getLogger(__name__)

PATH = "/qq/official"
ACK = {"op": 12}  # HTTP Callback ACK
KEYS = web.AppKey("qq_official_keys", BotKeys)
API = web.AppKey("qq_official_api", QqApi)


def install(app: web.Application) -> None:
    """Add ``POST /qq/official``; the bot's keys and API client live in the app."""
    settings = app[SETTINGS].qq_official
    results = app[METRICS].counter(
        "unionbot_qq_official_replies", "Passive replies on the official QQ bot, per result "
        "(sent, duplicate, expired = past the reply window, failed)",
        "result",
    )
    app[KEYS] = BotKeys(settings.secret)
    app[API] = QqApi(settings, lambda: app[HTTP], results=results)
    app.router.add_post(PATH, receive)


async def receive(request: web.Request) -> web.StreamResponse:
    """One webhook call from the QQ platform."""
    app = request.app
    try:
        body = await read_body(request)
        _check_app_id(request)
        signed = _verify(request, body)
        payload = load(body)
        if payload["op"] == OP_VALIDATE:
            return web.json_response(_validate(app[KEYS], payload))
        if not signed:
            raise Rejected(401, "missing_signature")
        event = message_event(payload, app[CLOCK]()) if payload["op"] == OP_DISPATCH else None
    except Rejected as exc:
        return rejection(request, CHANNEL, exc)
    except Exception:  # a parser bug must not become a 5xx
        logger.exception("qq_official: could not read a webhook call")
        return rejection(request, CHANNEL, Rejected(400, "unreadable"))
    if event is not None:
        track(app, asyncio.ensure_future(_answer(app, event)))
    return web.json_response(ACK)


def _check_app_id(request: web.Request) -> None:
    given = request.headers.get("X-Bot-Appid")
    if given is not None and given.strip() != request.app[SETTINGS].qq_official.app_id:
        raise Rejected(403, "wrong_app_id")


def _verify(request: web.Request, body: bytes) -> bool:
    """True when the call is signed correctly, False when it carries no signature."""
    signature = request.headers.get("X-Signature-Ed25519")
    timestamp = request.headers.get("X-Signature-Timestamp")
    if signature is None and timestamp is None:
        return False
    if not signature:
        raise Rejected(401, "missing_signature")
    check_fresh(request, timestamp)
    assert timestamp is not None  # check_fresh refuses a missing one
    if not request.app[KEYS].verify(signature.strip().lower(), timestamp.encode() + body):
        raise Rejected(403, "bad_signature")
    return True


def _validate(keys: BotKeys, payload: dict[str, Any]) -> dict[str, str]:
    check = validation(payload)
    logger.info("qq_official: answered the callback address check")
    return {
        "plain_token": check.plain_token,
        "signature": keys.sign((check.event_ts + check.plain_token).encode()),
    }


async def _answer(app: web.Application, event: MessageEvent) -> None:
    """Run the message through the pipeline and send the reply, if any, as a passive reply."""
    try:
        if event.only_media:
            reply: Reply | None = Reply(say("qq", "text_only"))
        else:
            reply = await app[PIPELINE].handle(event.incoming)
        if reply is not None:
            await app[API].answer(event.target, reply)
    except Exception:
        logger.exception("qq_official: could not answer message %s", event.target.msg_id)
