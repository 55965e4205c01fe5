"""Text clean-up applied to every incoming message before routing."""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def normalize(text: str) -> str:
    """NFKC (full-width digits, colons, spaces, ＃ become ASCII), no zero-width characters,
    runs of spaces folded to one, line breaks kept, ends stripped."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text))
    return text.strip()


def strip_mention(text: str, bot_name: str) -> tuple[str, bool]:
    """Remove ``@<bot_name>`` wherever it stands; report whether it was there."""
    mention = "@" + unicodedata.normalize("NFKC", bot_name)
    if mention not in text:
        return text, False
    return normalize(text.replace(mention, " ")), True


END_PUNCTUATION = "。.!?~,;、"  # after NFKC: ！？～，；． are ASCII already
SEPARATORS = ",、;"  # what people type between words instead of a space (after NFKC)


def strip_end_punctuation(text: str) -> str:
    """``我。`` → ``我``, ``下午！`` → ``下午``: sentence punctuation at the end dropped."""
    return text.strip().rstrip(END_PUNCTUATION).rstrip()


def shown(text: str, limit: int = 30) -> str:
    """What a person typed, quoted back in a reply: one line; a cut is marked with …"""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
