"""OneBot v11 events (event/message.md) turned into ``Incoming``; a pure function, no I/O.

Only group and private messages go to the pipeline. Meta events (heartbeat, lifecycle),
notices, requests, the bot's own messages and anonymous group messages (nobody to
identify) are acknowledged and dropped. Anything that is not a OneBot event at all is
refused with ``Rejected(400, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.base import Rejected
from bot.channels.onebot_cq import BadMessage, read_message
from bot.messages import Incoming

CHANNEL = "onebot"
MAX_ID_DIGITS = 20


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A message for the pipeline; ``only_media`` when it carries no text at all."""

    incoming: Incoming
    only_media: bool


def qq_id(value: Any, name: str) -> str:
    """A QQ number or group number, given as an integer or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        text = str(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        text = value
    else:
        raise Rejected(400, f"bad_{name}")
    if len(text) > MAX_ID_DIGITS:
        raise Rejected(400, f"bad_{name}")
    return text


def parse_event(payload: dict[str, Any], header_self_id: str | None) -> MessageEvent | None:
    """The message in an event, or None when the event needs no answer."""
    post_type = payload.get("post_type")
    if not isinstance(post_type, str):
        raise Rejected(400, "no_post_type")
    self_id = qq_id(payload.get("self_id"), "self_id")
    if header_self_id is not None and header_self_id.strip() != self_id:
        raise Rejected(400, "self_id_mismatch")
    if post_type != "message":
        return None
    message_type = payload.get("message_type")
    if message_type not in ("group", "private"):
        raise Rejected(400, "bad_message_type")
    if message_type == "group" and payload.get("sub_type") == "anonymous":
        return None
    user_id = qq_id(payload.get("user_id"), "user_id")
    message_id = _message_id(payload.get("message_id"))
    try:
        parsed = read_message(payload.get("message", payload.get("raw_message")), self_id)
    except BadMessage:
        raise Rejected(400, "bad_message") from None
    is_group = message_type == "group"
    chat_id = qq_id(payload.get("group_id"), "group_id") if is_group else user_id
    incoming = Incoming(
        channel=CHANNEL,
        chat_id=chat_id,
        chat_type="group" if is_group else "private",
        sender_id=user_id,
        text=parsed.text,
        # ids are int32 hashes in several implementations: unique within a chat, not across chats
        message_id=f"{self_id}:{'g' if is_group else 'p'}{chat_id}:{message_id}",
        mentions_bot=parsed.mentions_bot,
        mentions=parsed.mentions,
        chat_name=_short_text(payload.get("group_name")) if is_group else None,
        sender_name=_sender_name(payload.get("sender")),
    )
    return MessageEvent(incoming, parsed.only_media)


def _message_id(value: Any) -> str:
    """OneBot 11 message ids are int32 and may be negative."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**MAX_ID_DIGITS:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isprintable():
        return value
    raise Rejected(400, "bad_message_id")


def _sender_name(sender: Any) -> str | None:
    if not isinstance(sender, dict):
        return None
    return _short_text(sender.get("card")) or _short_text(sender.get("nickname"))


def _short_text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:64]
    return None
