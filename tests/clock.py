"""The time tests run at: a clock that stands still until the test moves it.

Everything a test compares with a reply (today's date, this year, "in 60 minutes") is
taken from the same ``FrozenClock`` the pipeline or the app is given, so no test depends
on the wall clock crossing a second, a day or a year while it runs.

``UNIONBOT_TEST_CLOCK`` (an ISO 8601 time with an offset) sets where clocks start instead
of the real time, to prove tests hold at any instant, e.g. one tenth of a second before
a new year in Beijing::

    UNIONBOT_TEST_CLOCK=2026-12-31T23:59:59.9+08:00 .venv/bin/pytest -q tests/handlers
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the union's time zone in the test settings


def start_instant() -> datetime:
    """Where a clock starts: ``UNIONBOT_TEST_CLOCK`` if set, else the real time now (UTC)."""
    given = os.environ.get("UNIONBOT_TEST_CLOCK")
    if not given:
        return datetime.now(UTC)
    at = datetime.fromisoformat(given)
    if at.tzinfo is None:
        raise ValueError(f"UNIONBOT_TEST_CLOCK needs an offset, e.g. {given}+08:00")
    return at.astimezone(UTC)


SUITE_START = start_instant()  # one instant for helpers that fix this year at import


@dataclass
class FrozenClock:
    """A wall clock (aware, UTC) that moves only when the test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """The time as ``time.time()`` gives it, for ``create_app(clock=...)``."""
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def today(self, tz: ZoneInfo = SHANGHAI) -> date:
        return self.now.astimezone(tz).date()
