"""The hash chain: what an entry's hash covers, computed the same way everywhere.

An entry's hash is SHA-256 over a canonical JSON list of every field that matters (its
ledger and position, number, kind, amount, category, description, day, the second it
was recorded (UTC), who recorded it, what it reverses, its transfer) and the previous
entry's hash. Changing, inserting, deleting or reordering any entry therefore changes
the hash of every later one. Days and times read back as text (SQLite) or as values
(PostgreSQL) give the same canonical form.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of a ledger's first entry

HASHED = (
    "ledger_id", "seq", "number", "kind", "amount_fen", "category_code", "description",
    "occurred_on", "recorded_at", "recorded_by", "reverses_id", "transfer_key", "prev_hash",
)
_DAY, _MOMENT = HASHED.index("occurred_on"), HASHED.index("recorded_at")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def day_text(value: date | str) -> str:
    """``2026-12-05`` from a date or from SQLite's text."""
    return value[:10] if isinstance(value, str) else value.isoformat()


def moment_text(value: datetime | str) -> str:
    """``2026-12-05T04:00:00Z`` (UTC, whole seconds) from a datetime or SQLite's text."""
    if isinstance(value, str):  # "2026-12-05 04:00:00.000000", stored in UTC
        return f"{value[:10]}T{value[11:19]}Z"
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}Z"


def hash_values(values: list[Any] | tuple[Any, ...]) -> str:
    """The hash of an entry from its ``HASHED`` values, in that order."""
    canonical = list(values)
    canonical[_DAY] = day_text(canonical[_DAY])
    canonical[_MOMENT] = moment_text(canonical[_MOMENT])
    return hashlib.sha256(_encode(canonical).encode("utf-8")).hexdigest()


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash of an entry from its fields (``prev_hash`` included)."""
    return hash_values([fields[name] for name in HASHED])


def hashed_fields(row: Any) -> dict[str, Any]:
    """The fields of ``row`` (an entry, a Core row or a mapping) that its hash covers."""
    if isinstance(row, dict):
        return {name: row[name] for name in HASHED}
    return {name: getattr(row, name) for name in HASHED}
