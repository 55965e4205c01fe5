"""Keyed pseudonyms for anonymous ideas — who filed an idea, known to the bot only.

An anonymous idea stores ``HMAC-SHA256(key, "idea-author:<member id>")`` instead of the
member id. The bot recomputes it to list a member's own ideas, refuse supporting one's own
idea and tell the submitter about a 评选; nobody reading the database can reverse it
without the key.

The key lives in a file outside the database (``[ideas] key_file``, default
``data/ideas.key``), so a database dump or backup alone does not reveal anyone. It is
created on first use with 32 random bytes: written to a temporary file, then linked to
its name, which fails if the name exists — two processes starting at once never keep two
different keys; the loser reads the winner's. Servers sharing one database must share the
file (copy it, or point ``key_file`` at shared storage); a lost key means anonymous ideas
can no longer be matched to their submitters (they stay on the board and in statistics).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

KEY_BYTES = 32
_KEYS: dict[Path, bytes] = {}
_BY_NAME: dict[str, bytes] = {}  # the same keys by the path as configured


class KeyFileError(RuntimeError):
    """The key file exists but does not hold a key (damaged or edited by hand)."""


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} does not hold a {KEY_BYTES}-byte hex key")
    return key


def _create(path: Path) -> None:
    """Write a fresh key at ``path`` unless one is there already (atomic, exclusive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_key(path: str | Path) -> bytes:
    """The key in ``path``, created on first use; read once per process."""
    known = _BY_NAME.get(str(path))
    if known is not None:
        return known
    resolved = Path(path).resolve()
    key = _KEYS.get(resolved)
    if key is None:
        if not resolved.exists():
            _create(resolved)
        key = _KEYS[resolved] = _read(resolved)
    _BY_NAME[str(path)] = key
    return key


class Pseudonyms:
    """The keyed digests of one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def author(self, member_id: int) -> str:
        """The pseudonym an anonymous idea of ``member_id`` stores."""
        return self._digest(f"idea-author:{member_id}")

    def duplicate(self, member_id: int, text: str) -> str:
        """A digest of the member and the idea's text: equal only for the same text by the
        same member, unrelated to ``author`` so it links nothing."""
        return self._digest(f"idea-text:{member_id}:{text}")

    def is_author(self, member_id: int, tag: str | None) -> bool:
        return tag is not None and hmac.compare_digest(self.author(member_id), tag)

    def find(self, tag: str, member_ids: Iterable[int]) -> int | None:
        """Which of ``member_ids`` the pseudonym ``tag`` stands for (None: none of them)."""
        for member_id in member_ids:
            if hmac.compare_digest(self.author(member_id), tag):
                return member_id
        return None


def pseudonyms(key_file: str | Path) -> Pseudonyms:
    return Pseudonyms(load_key(key_file))
