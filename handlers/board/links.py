"""Personal board links — 公开栏链接: ``<member id>.<expiry>.<signature>``.

The signature is HMAC-SHA256 over the member id and the expiry (Unix seconds) with the
board's key (``[board] key_file``, 32 random bytes created with mode 0600 on first use).
The same token, once opened, is the cookie that lets the member in until it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from models.ideas.pseudonym import load_key

TOKEN = re.compile(r"^([0-9]{1,12})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
COOKIE = "unionbot_board"


@dataclass(frozen=True, slots=True)
class Pass:
    """Whom a valid token lets in, and until when (Unix seconds)."""

    member_id: int
    expires: int


def _signature(key: bytes, member_id: int, expires: int) -> str:
    digest = hmac.new(key, f"board-link:{member_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(key_file: str, member_id: int, expires: int) -> str:
    """A token for ``member_id`` valid until ``expires``."""
    return f"{member_id}.{expires}.{_signature(load_key(key_file), member_id, expires)}"


def read(key_file: str, token: str, now: float) -> Pass | None:
    """The pass ``token`` carries, or None when it is malformed, tampered with or expired."""
    match = TOKEN.match(token)
    if match is None:
        return None
    member_id, expires = int(match[1]), int(match[2])
    expected = _signature(load_key(key_file), member_id, expires)
    if not hmac.compare_digest(expected, match[3]) or expires <= now:
        return None
    return Pass(member_id, expires)
