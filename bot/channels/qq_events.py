"""Payloads of the official QQ bot's webhook, read into what the bot needs; no I/O.

Every payload is ``{"id": <event id>, "op": <opcode>, "d": {...}, "t": <event type>}``:
op 13 is the callback address check, op 0 an event. The bot reads two events:
``GROUP_AT_MESSAGE_CREATE`` (someone @-mentioned the bot in a group) and
``C2C_MESSAGE_CREATE`` (a private message). Other events are acknowledged and dropped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.channels.base import Rejected, json_object
from bot.messages import Incoming

CHANNEL = "qq_official"
OP_DISPATCH = 0
OP_VALIDATE = 13
GROUP_WINDOW_SECONDS = 5 * 60  # passive replies in a group: within 5 minutes
C2C_WINDOW_SECONDS = 60 * 60  # in a private chat: within 60 minutes

# A plain_token is a short token of letters and digits. Refusing anything else keeps the
# op 13 answer from signing text that could pass as "timestamp + JSON body" of an event.
_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MENTION_MARK = re.compile(r"<@!?[A-Za-z0-9_-]{1,128}>")
MAX_ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class Validation:
    """op 13: sign ``event_ts + plain_token`` to prove the address belongs to the bot."""

    plain_token: str
    event_ts: str


@dataclass(frozen=True, slots=True)
class PassiveTarget:
    """Where and until when a message can be answered (a passive reply to ``msg_id``)."""

    kind: Literal["group", "user"]
    openid: str
    msg_id: str
    deadline: float  # epoch seconds

    @property
    def path(self) -> str:
        return f"/v2/groups/{self.openid}/messages" if self.kind == "group" else \
            f"/v2/users/{self.openid}/messages"


@dataclass(frozen=True, slots=True)
class MessageEvent:
    incoming: Incoming
    target: PassiveTarget
    only_media: bool


def load(body: bytes) -> dict[str, Any]:
    """The payload of a webhook call: a JSON object with an integer ``op``; 400 otherwise."""
    payload = json_object(body)
    op = payload.get("op")
    if not isinstance(op, int) or isinstance(op, bool):
        raise Rejected(400, "no_op")
    return payload


def validation(payload: dict[str, Any]) -> Validation:
    data = payload.get("d")
    if not isinstance(data, dict):
        raise Rejected(400, "no_data")
    token, event_ts = data.get("plain_token"), data.get("event_ts")
    if isinstance(event_ts, int) and not isinstance(event_ts, bool):
        event_ts = str(event_ts)
    if not isinstance(token, str) or not _PLAIN_TOKEN.match(token):
        raise Rejected(400, "bad_plain_token")
    if not isinstance(event_ts, str) or not event_ts.isascii() or not event_ts.isdigit() \
            or len(event_ts) > 12:
        raise Rejected(400, "bad_event_ts")
    return Validation(token, event_ts)


def message_event(payload: dict[str, Any], now: float | None = None) -> MessageEvent | None:
    """The message of an op 0 payload, or None for events the bot does not read."""
    kind = payload.get("t")
    if kind not in ("GROUP_AT_MESSAGE_CREATE", "C2C_MESSAGE_CREATE"):
        if kind is not None and not isinstance(kind, str):
            raise Rejected(400, "bad_event_type")
        return None
    data = payload.get("d")
    if not isinstance(data, dict) or not isinstance(data.get("author"), dict):
        raise Rejected(400, "no_data")
    msg_id = _text_id(data.get("id"), "bad_msg_id")
    event_id = _text_id(payload.get("id", msg_id), "bad_event_id")
    content = data.get("content", "")
    if not isinstance(content, str):
        raise Rejected(400, "bad_content")
    is_group = kind == "GROUP_AT_MESSAGE_CREATE"
    author = data["author"]
    sender = _openid(author.get("member_openid" if is_group else "user_openid"), "bad_author")
    chat = _openid(data.get("group_openid"), "bad_group") if is_group else sender
    received = _sent_at(data.get("timestamp"), time.time() if now is None else now)
    window = GROUP_WINDOW_SECONDS if is_group else C2C_WINDOW_SECONDS
    text = _MENTION_MARK.sub(" ", content)
    incoming = Incoming(
        channel=CHANNEL,
        chat_id=chat,
        chat_type="group" if is_group else "private",
        sender_id=sender,
        text=text,
        message_id=event_id,
        mentions_bot=is_group,
    )
    target = PassiveTarget("group" if is_group else "user", chat, msg_id, received + window)
    attachments = data.get("attachments")
    only_media = not text.strip() and isinstance(attachments, list) and bool(attachments)
    return MessageEvent(incoming, target, only_media)


def _text_id(value: Any, reason: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS \
            or not value.isascii() or not value.isprintable():
        raise Rejected(400, reason)
    return value


def _openid(value: Any, reason: str) -> str:
    if not isinstance(value, str) or not _OPENID.match(value):
        raise Rejected(400, reason)
    return value


def _sent_at(value: Any, now: float) -> float:
    """When the message was sent (RFC 3339 ``timestamp``); ``now`` if unknown or in the future."""
    if not isinstance(value, str) or len(value) > 64:
        return now
    try:
        sent = datetime.fromisoformat(value)
        if sent.tzinfo is None:
            return now
        return min(sent.timestamp(), now)
    except (ValueError, OverflowError):
        return now
