"""OneBot v11 messages: CQ-code strings and segment arrays, reduced to what the bot reads.

A message arrives either as a CQ-code string (``你好[CQ:at,qq=10001]``) or as an array of
segments (``[{"type": "text", "data": {"text": "你好"}}, {"type": "at", ...}]``). The bot
keeps the text, whether it was @-mentioned and whom else the sender @-mentioned;
pictures, faces, quotes and the rest do not count as text.

Escaping (OneBot 11 message/string.md): in text ``&`` ``[`` ``]`` are written
``&amp;`` ``&#91;`` ``&#93;``; inside a CQ code's parameters ``,`` is ``&#44;`` as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class BadMessage(ValueError):
    """The message field has a shape OneBot never sends."""


_CQ_CODE = re.compile(r"\[CQ:([A-Za-z0-9_.-]+)((?:,[^,\]]*)*)\]")
_UNESCAPE = re.compile(r"&(amp|#91|#93|#44);")
_ENTITIES = {"amp": "&", "#91": "[", "#93": "]", "#44": ","}
MAX_SEGMENTS = 500


def escape(text: str, *, in_param: bool = False) -> str:
    """Write plain text so that a OneBot implementation shows it literally."""
    text = text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    return text.replace(",", "&#44;") if in_param else text


def unescape(text: str) -> str:
    """Undo ``escape`` (in one pass, so ``&amp;#91;`` stays ``&#91;``)."""
    return _UNESCAPE.sub(lambda m: _ENTITIES[m.group(1)], text)


def at_code(qq: str) -> str:
    return f"[CQ:at,qq={escape(qq, in_param=True)}]"


@dataclass(frozen=True, slots=True)
class Segment:
    type: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parsed:
    """What the bot takes from a message."""

    text: str
    mentions_bot: bool
    mentions: tuple[str, ...]
    only_media: bool  # no text at all, but pictures, files, faces and the like


def parse_string(message: str) -> list[Segment]:
    """Split a CQ-code string into segments; text between codes becomes text segments."""
    segments: list[Segment] = []
    position = 0
    for match in _CQ_CODE.finditer(message):
        if match.start() > position:
            segments.append(Segment("text", {"text": unescape(message[position:match.start()])}))
        data: dict[str, str] = {}
        for pair in match.group(2).split(",")[1:]:
            key, _, value = pair.partition("=")
            data[key] = unescape(value)
        segments.append(Segment(match.group(1), data))
        position = match.end()
    if position < len(message):
        segments.append(Segment("text", {"text": unescape(message[position:])}))
    return segments


def parse_array(message: list[Any]) -> list[Segment]:
    """Check and convert a segment array; ``BadMessage`` when it is not one."""
    segments = []
    for item in message:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise BadMessage("a segment must be an object with a type")
        data = item.get("data") or {}
        if not isinstance(data, dict):
            raise BadMessage("a segment's data must be an object")
        segments.append(Segment(item["type"], {
            str(k): v if isinstance(v, str) else str(v)
            for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)
        }))
    return segments


def read_message(message: Any, self_id: str) -> Parsed:
    """The text and mentions of a message given as a CQ string or a segment array."""
    if isinstance(message, str):
        segments = parse_string(message)
    elif isinstance(message, list):
        if len(message) > MAX_SEGMENTS:
            raise BadMessage("too many segments")
        segments = parse_array(message)
    else:
        raise BadMessage("message must be a string or an array of segments")
    parts: list[str] = []
    mentions: list[str] = []
    mentions_bot = False
    media = False
    for segment in segments:
        if segment.type == "text":
            parts.append(segment.data.get("text", ""))
        elif segment.type == "at":
            qq = segment.data.get("qq", "").strip()
            if qq == self_id:
                mentions_bot = True
            elif qq.isdigit() and qq not in mentions:
                mentions.append(qq)
            parts.append(" ")
        elif segment.type != "reply":
            media = True
    text = "".join(parts)
    return Parsed(text, mentions_bot, tuple(mentions), only_media=media and not text.strip())
