"""The hash chain: what an entry's hash covers, computed the same way everywhere.

An entry's hash is SHA-256 over a canonical JSON of every field that matters (its
ledger and position, number, kind, amount, category, description, dates, who recorded
it, what it reverses, its transfer) and the previous entry's hash. Changing, inserting,
deleting or reordering any entry therefore changes the hash of every later one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of a ledger's first entry


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash of an entry from its fields (``prev_hash`` included)."""
    payload = {key: _plain(value) for key, value in sorted(fields.items())}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HASHED = (
    "ledger_id", "seq", "number", "kind", "amount_fen", "category_code", "description",
    "occurred_on", "recorded_at", "recorded_by", "reverses_id", "transfer_key", "prev_hash",
)


def hashed_fields(row: Any) -> dict[str, Any]:
    """The fields of ``row`` (an entry, a Core row or a mapping) that its hash covers."""
    if isinstance(row, dict):
        return {name: row[name] for name in HASHED}
    return {name: getattr(row, name) for name in HASHED}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value
