"""QQ through a OneBot v11 implementation (NapCat, LLOneBot, go-cqhttp and the like).

Two ways in: HTTP POST events here, or a reverse WebSocket (``bot.channels.onebot_ws``).

``POST /qq/onebot`` receives the implementation's HTTP POST events
(communication/http-post.md). When ``[onebot] secret`` is set, ``X-Signature:
sha1=<hex HMAC-SHA1(secret, body)>`` must match (missing → 401, wrong → 403);
``X-Self-ID`` must agree with the event's ``self_id``.

A message the pipeline answers within ``reply_budget_seconds`` is answered in the
HTTP response as a quick operation (``reply``, ``at_sender`` in groups); a slower
one gets 204 and its reply goes out through the outbox (``bot.channels.onebot_api``).
Dedup key: ``self_id`` + the chat (group or private) + ``message_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.appkeys import HTTP, SENDERS, SETTINGS
from bot.channels.base import Rejected, answer_in_time, json_object, read_body, rejection, same
from bot.channels.onebot_api import OnebotSender, late_key, plain_text
from bot.channels.onebot_events import CHANNEL, MessageEvent, parse_event
from bot.channels.onebot_ws import LINKS, media_only
from bot.channels.onebot_ws import install as install_socket
from bot.config import OnebotSettings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target

logger = logging.getLogger(__name__)

PATH = "/qq/onebot"
NO_CONTENT = 204


def install(app: web.Application) -> None:
    """Add ``POST /qq/onebot`` and the OneBot outbox sender."""
    settings = app[SETTINGS].onebot
    app.router.add_post(PATH, receive)
    install_socket(app)
    app[SENDERS][CHANNEL] = OnebotSender(settings, lambda: app[HTTP], app[LINKS])
    if not settings.secret:
        logger.warning("onebot: no [onebot] secret is set, so anyone who can reach %s "
                       "can speak as any QQ user; set the same secret in the OneBot implementation",
                       PATH)
    if not settings.api_url and not settings.access_token:
        logger.warning("onebot: neither [onebot] api_url nor access_token is set; "
                       "the bot can answer but never speak first")


def expected_signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header a OneBot implementation sends for ``body``."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def check_signature(settings: OnebotSettings, given: str | None, body: bytes) -> None:
    if not settings.secret:
        return
    if not given:
        raise Rejected(401, "missing_signature")
    if not same(expected_signature(settings.secret, body), given.strip().lower()):
        raise Rejected(403, "bad_signature")


async def receive(request: web.Request) -> web.StreamResponse:
    """One event from the OneBot implementation."""
    settings = request.app[SETTINGS].onebot
    try:
        body = await read_body(request)
        check_signature(settings, request.headers.get("X-Signature"), body)
        event = parse_event(json_object(body), request.headers.get("X-Self-ID"))
    except Rejected as exc:
        return rejection(request, CHANNEL, exc)
    except Exception:  # a parser bug must not become a 5xx
        logger.exception("onebot: could not read an event")
        return rejection(request, CHANNEL, Rejected(400, "unreadable"))
    if event is None:
        return web.Response(status=NO_CONTENT)
    reply = await answer(request.app, event, settings.reply_budget_seconds)
    if reply is None:
        return web.Response(status=NO_CONTENT)
    return web.json_response(quick_operation(event.incoming, reply))


def quick_operation(incoming: Incoming, reply: Reply) -> dict[str, Any]:
    """The HTTP response that makes the implementation send the reply (event/message.md)."""
    operation: dict[str, Any] = {"reply": plain_text(reply), "auto_escape": True}
    if incoming.is_group:
        operation["at_sender"] = reply.mention_sender
    return operation


async def answer(app: web.Application, event: MessageEvent, budget: float) -> Reply | None:
    """The reply if it is ready within ``budget`` seconds; later ones go to the outbox."""
    incoming = event.incoming
    if event.only_media:
        return media_only(event)
    target = Target(CHANNEL, "group" if incoming.is_group else "user", incoming.chat_id)
    _, reply = await answer_in_time(app, incoming, budget, late_target=target, late_key=late_key(incoming))
    return reply
