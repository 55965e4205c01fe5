"""Pacing — long work on the event loop, in short slices.

Statements on SQLite run on the event loop (``models.sqlite_inline``), and so does any
Python that builds a file. A long read or a big file would stall every webhook while it
runs. Such work calls ``Pacer.turn()`` between small steps (a page of rows, a row of a
sheet): once a slice has taken its budget, the work rests as long, and the loop answers
what waits meanwhile. A turn of the loop alone (``sleep(0)``) would not do: a webhook
needs a dozen turns, and would wait for a slice at each one.
Work that needs no database runs whole in a worker thread instead (``asyncio.to_thread``)
only when it is mostly C code; pure-Python CPU work in a thread holds the GIL and still
stalls the loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

SLICE_SECONDS = 0.005  # the longest the loop waits for one slice of paced work
REST_SECONDS = 0.005  # the loop's time between two slices: paced work takes about half of it
PAGE_ROWS = 500  # rows read per statement by paged (keyset) reads

_T = TypeVar("_T")


class Pacer:
    """Rests ``rest`` seconds whenever the current slice has taken ``budget`` seconds."""

    def __init__(self, budget: float = SLICE_SECONDS, rest: float = REST_SECONDS) -> None:
        self.budget = budget
        self.rest = rest
        self.turns = 0
        self._since = time.perf_counter()

    async def turn(self) -> None:
        """Call between steps: returns at once, or after the loop had its turn."""
        if time.perf_counter() - self._since < self.budget:
            return
        await asyncio.sleep(self.rest)
        self.turns += 1
        self._since = time.perf_counter()


async def paced(items: Iterable[_T], pacer: Pacer | None = None) -> AsyncIterator[_T]:
    """``items``, giving the loop a turn between them whenever a slice is used up."""
    pacer = pacer or Pacer()
    for item in items:
        yield item
        await pacer.turn()
