"""The two message types every channel speaks: ``Incoming`` and ``Reply``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["group", "private"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message a person sent, as a channel hands it to the pipeline."""

    channel: str
    chat_id: str
    chat_type: ChatType
    sender_id: str
    text: str
    message_id: str
    mentions_bot: bool = False
    mentions: tuple[str, ...] = ()  # other users @-mentioned (platform ids)
    chat_name: str | None = None
    sender_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_group(self) -> bool:
        return self.chat_type == "group"

    @property
    def dedup_key(self) -> str:
        return f"{self.channel}:{self.message_id}"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers: plain text or markdown, optionally a file link."""

    text: str
    markdown: bool = False
    file_url: str | None = None
    mention_sender: bool = False

    def to_json(self) -> str:
        return json.dumps({
            "text": self.text, "markdown": self.markdown,
            "file_url": self.file_url, "mention_sender": self.mention_sender,
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Reply:
        return cls(**json.loads(data))
