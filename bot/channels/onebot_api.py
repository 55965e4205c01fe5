"""Sending through a OneBot v11 implementation: its reverse WebSocket or its HTTP API.

``send_group_msg`` and ``send_private_msg`` go over the reverse WebSocket of a
connected account when one can reach the target (``bot.channels.onebot_link``),
else to ``[onebot] api_url`` with ``Authorization: Bearer <access_token>``. With
neither, a message waits in the outbox for a connection (``RetryLater``) when a
socket can connect at all (``access_token`` set), and is dead otherwise.
How the answers are read (over the socket, only the JSON part applies)::

    HTTP 200, status ok / retcode 0          sent
    HTTP 200, retcode 1400 / 1401 / 1403 / 1404
    HTTP 400, 401, 403, 404, 406             Undeliverable (bad request, token, no such API)
    HTTP 200, status async / failed          RetryLater (not confirmed, or refused this time)
    HTTP 408, 429, 5xx, network error        RetryLater

OneBot does not drop a resent duplicate, so the sender is not idempotent.

A late reply to a group command is queued with a key ending in ``:at:<QQ号>`` (see
``late_key``); its message then starts with an @ of the person who asked.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.channels.onebot_cq import at_code, escape
from bot.channels.onebot_link import Link, LinkGone, Links
from bot.config import OnebotSettings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target
from bot.outbox.worker import RetryLater, Sender, Undeliverable
from bot.render import say

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
_AT_IN_KEY = re.compile(r":at:(\d{1,20})$")
_AUTH_CODES = {1401, 1403}


def late_key(incoming: Incoming) -> str:
    """The outbox key of a late reply; names the sender in groups so the reply can @ them."""
    key = f"late:{incoming.dedup_key}"
    return f"{key}:at:{incoming.sender_id}" if incoming.is_group else key


def plain_text(reply: Reply) -> str:
    return f"{reply.text}\n{reply.file_url}" if reply.file_url else reply.text


def action_for(target: Target, reply: Reply, key: str) -> tuple[str, dict[str, Any]]:
    """The API action and its parameters for one outbox message."""
    if not target.id.isascii() or not target.id.isdigit() or len(target.id) > 20:
        raise Undeliverable(say("qq", "bad_target", target=target.id[:40]))
    text = plain_text(reply)
    if target.kind == "group":
        mention = _AT_IN_KEY.search(key) if reply.mention_sender else None
        if mention is not None:
            message = f"{at_code(mention.group(1))} {escape(text)}"
            return "send_group_msg", {"group_id": int(target.id), "message": message,
                                      "auto_escape": False}
        return "send_group_msg", {"group_id": int(target.id), "message": text, "auto_escape": True}
    if target.kind == "user":
        return "send_private_msg", {"user_id": int(target.id), "message": text, "auto_escape": True}
    raise Undeliverable(say("qq", "onebot_kinds"))


class OnebotSender(Sender):
    """Delivers outbox messages to QQ groups and QQ users: over a socket, else the HTTP API."""

    channel = "onebot"
    idempotent = False

    def __init__(self, settings: OnebotSettings, http: Callable[[], aiohttp.ClientSession],
                 links: Links | None = None) -> None:
        self.settings = settings
        self.http = http
        self.links = links

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        action, params = action_for(target, reply, key)
        link = self.links.pick(target, key) if self.links is not None else None
        if link is not None:
            await self._over_socket(link, action, params)
            return
        if self.settings.api_url:
            await self._over_http(action, params)
            logger.debug("onebot: %s to %s done", action, target)
            return
        if self.links is not None and self.settings.access_token:
            raise RetryLater(say("qq", "no_socket", connected=bool(self.links.by_id)))
        raise Undeliverable(say("qq", "no_api_url"))

    @staticmethod
    async def _over_socket(link: Link, action: str, params: dict[str, Any]) -> None:
        try:
            answer = await link.call(action, params)
        except LinkGone:
            raise RetryLater(say("qq", "socket_closed")) from None
        answer_verdict(action, answer)

    async def _over_http(self, action: str, params: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if self.settings.access_token:
            headers["Authorization"] = f"Bearer {self.settings.access_token}"
        url = f"{self.settings.api_url}/{action}"
        async with self.http().post(
            url, data=json.dumps(params, ensure_ascii=False).encode(), headers=headers,
            timeout=REQUEST_TIMEOUT,
        ) as response:
            body = await response.read()
            verdict(action, response.status, body, response.headers.get("Retry-After"))


def verdict(action: str, status: int, body: bytes, retry_after: str | None = None) -> None:
    """Return when the implementation confirmed the message; raise otherwise."""
    if status in (401, 403):
        raise Undeliverable(say("qq", "token_refused_http", status=status))
    if status == 404:
        raise Undeliverable(say("qq", "no_such_action_http", action=action))
    if status in (408, 429) or status >= 500:
        raise RetryLater(say("qq", "busy", status=status), after=_seconds(retry_after))
    if 400 <= status < 500:
        raise Undeliverable(say("qq", "request_refused", status=status))
    if status != 200:
        raise RetryLater(say("qq", "odd_status", status=status))
    answer = _json_object(body)
    if answer is None:
        raise RetryLater(say("qq", "not_onebot"))
    answer_verdict(action, answer)


def answer_verdict(action: str, answer: dict[str, Any]) -> None:
    """Return when a OneBot response object confirms the message; raise otherwise."""
    retcode, state = answer.get("retcode"), answer.get("status")
    if (state == "ok" and retcode in (0, None)) or (state is None and retcode == 0):
        return
    detail = _detail(answer)
    if retcode == 1400:
        raise Undeliverable(say("qq", "bad_request", detail=detail))
    if retcode in _AUTH_CODES:
        raise Undeliverable(say("qq", "token_refused", retcode=retcode, detail=detail))
    if retcode == 1404:
        raise Undeliverable(say("qq", "no_such_action", action=action, detail=detail))
    if state == "async":
        raise RetryLater(say("qq", "only_accepted"))
    raise RetryLater(say("qq", "send_failed", retcode=retcode, detail=detail))


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return answer if isinstance(answer, dict) else None


def _detail(answer: dict[str, Any]) -> str:
    words = answer.get("wording") or answer.get("message") or answer.get("msg")
    return say("qq", "detail", words=str(words)[:200]) if words else ""


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), 3600.0)
