"""Answering on WeChat and WeCom: text of at most 2,048 bytes, passive or through the outbox.

A passive reply is a single text message. When the pipeline is late, the channel
acknowledges at once and the reply follows through the outbox (``answer_in_time``).
When a reply is longer than one message, the first part is the passive reply and the
rest is queued under ``more:<dedup key>``; the sender splits it again and sends the
parts in order.
"""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web

from bot.appkeys import DB, SETTINGS
from bot.channels.base import answer_in_time, queue_reply
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target
from bot.render import say
from models.members import identify

MAX_BYTES: Final = 2048

_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_QUOTE = re.compile(r"^>\s?", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_FONT = re.compile(r"</?font[^>]*>", re.IGNORECASE)


def plain(markdown: str) -> str:
    """Markdown as readable plain text (headings, emphasis, quotes, links, colours)."""
    text = _FONT.sub("", markdown)
    text = _LINK.sub(r"\1（\2）", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _QUOTE.sub("", text)
    return _HEADING.sub("", text)


def reply_text(reply: Reply, *, markdown_ok: bool) -> str:
    """The text to send for ``reply``; markdown is flattened where it cannot be shown."""
    text = reply.text if markdown_ok or not reply.markdown else plain(reply.text)
    if reply.file_url:
        text = f"{text}\n{say('wechat', 'file_link', url=reply.file_url)}"
    return text


def split_parts(text: str, limit: int = MAX_BYTES) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-8 bytes, cut between lines.

    A single line longer than ``limit`` is cut between characters, never inside one.
    Blank text gives no parts.
    """
    if not text.strip():
        return []
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            needed = len(piece.encode()) + (1 if current else 0)
            if current and size + needed > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                needed = len(piece.encode())
            current.append(piece)
            size += needed
    if current:
        parts.append("\n".join(current))
    return [part for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    if len(line.encode()) <= limit:
        return [line]
    pieces, start, size = [], 0, 0
    for index, char in enumerate(line):
        width = len(char.encode())
        if size + width > limit:
            pieces.append(line[start:index])
            start, size = index, 0
        size += width
    pieces.append(line[start:])
    return pieces


async def passive_text(
    request: web.Request, incoming: Incoming, *, budget: float, target: Target, markdown_ok: bool = False,
) -> str | None:
    """The text of the passive reply to ``incoming``, or None (late, or nothing to say)."""
    in_time, reply = await answer_in_time(request.app, incoming, budget, late_target=target)
    if not in_time or reply is None:
        return None
    text = reply_text(reply, markdown_ok=markdown_ok)
    parts = split_parts(text)
    if not parts:
        return None
    if len(parts) > 1:
        rest = text[text.find(parts[0]) + len(parts[0]):].lstrip("\n")
        await queue_reply(request.app, incoming, key=f"more:{incoming.dedup_key}", target=target,
                          reply=Reply(rest), failure="the rest of a long reply cannot be sent")
    return parts[0]


async def welcome(app: web.Application, channel: str, user_id: str, *, unbound_only: bool) -> str | None:
    """The greeting for a new follower: bind instructions, or a welcome back by name.

    With ``unbound_only``, members already bound get no greeting (None).
    """
    async with app[DB].read() as session:
        member, _ = await identify(session, channel, user_id)
    if member is not None and unbound_only:
        return None
    union = app[SETTINGS].union
    return say(
        "wechat", "welcome", union=union.name, bot_name=union.bot_name,
        name=member.name if member is not None else None,
    )


def text_only() -> str:
    return say("wechat", "text_only")
