"""The outbox keys of an event's messages, shared by the commands that recall them and the
reminder job that queues them.

``event:A12:start-20270501T0600Z:remind-24h:member:<member id>`` is a reminder; the start
time is part of the key, so an event that moves gets new reminders.
"""

from __future__ import annotations

from datetime import UTC, datetime


def reminder_prefix(code: str, starts_at: datetime | None = None) -> str:
    """The beginning of the keys of an event's reminders: of those for one start time
    (``event:A12:start-20270501T0600Z:remind-``) or, without one, of all (``event:A12:start-``).
    Both end in a separator, so A1's never take in A12's."""
    if starts_at is None:
        return f"event:{code}:start-"
    return f"event:{code}:start-{starts_at.astimezone(UTC):%Y%m%dT%H%MZ}:remind-"


def occasion_key(code: str, starts_at: datetime, hours: int) -> str:
    """``event:A12:start-20270501T0600Z:remind-24h``."""
    return f"{reminder_prefix(code, starts_at)}{hours}h"
