"""Long work leaves the event loop free: paced slices, paged reads, the roster export.

A loop-lag probe (a task that sleeps 1 ms again and again) runs beside the work and
records the most CPU time the loop's thread spent between two of its wake-ups: what
the loop did instead of answering. Counting CPU time rather than wall time keeps a busy
machine (the process waiting for a core) out of the figure. Without pacing, each of these
blocks the loop for the whole of its work (several hundred ms).
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import insert, select

from models.db import Database
from models.events import queries
from models.events.export import export_roster
from models.events.tables import CONFIRMED, WAITLIST, WITHDRAWN, Event, Signup
from models.org import Branch, Member
from models.pacing import Pacer, paced

TZ = ZoneInfo("Asia/Shanghai")
MAX_LAG = 0.1  # seconds of CPU; the work below takes 2-3 times that when it is not paced

_T = TypeVar("_T")


class LagProbe:
    """Records the most CPU time the loop's thread spent between two 1 ms sleeps."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0

    async def run(self) -> None:
        while True:
            began = time.thread_time()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.thread_time() - began)
            self.ticks += 1


@asynccontextmanager
async def probe() -> AsyncIterator[LagProbe]:
    """A probe beside the block. What exists before it is frozen out of garbage collection,
    as ``unionbot serve`` does after start-up: a full collection over everything pytest
    holds would take ~100 ms of its own, whatever the work does."""
    gc.collect()
    gc.freeze()
    found = LagProbe()
    task = asyncio.create_task(found.run())
    await asyncio.sleep(0.01)
    try:
        yield found
        await asyncio.sleep(0.01)  # the probe wakes once more: the last stretch counts too
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gc.unfreeze()


async def watched(work: Awaitable[_T]) -> tuple[_T, LagProbe]:
    async with probe() as lag:
        result = await work
    return result, lag


def spin(seconds: float) -> None:
    ends = time.perf_counter() + seconds
    while time.perf_counter() < ends:
        pass


async def test_paced_work_lets_the_loop_run_between_slices() -> None:
    pacer = Pacer()

    async def work() -> int:
        done = 0
        async for _ in paced(range(600), pacer):  # 600 steps of 1 ms: 0.6 s of CPU
            spin(0.001)
            done += 1
        return done

    done, lag = await watched(work())
    assert done == 600
    assert pacer.turns >= 50  # a turn every few steps, not once at the end
    assert lag.ticks >= 50
    assert lag.worst < MAX_LAG


async def test_a_pacer_within_its_budget_does_not_yield() -> None:
    pacer = Pacer(budget=60.0)
    for _ in range(1000):
        await pacer.turn()
    assert pacer.turns == 0


async def add_signups(db: Database, count: int) -> int:
    """An event with ``count`` active sign-ups (places, then a waitlist) and some withdrawn."""
    made = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
    async with db.write() as session:
        branch = Branch(name="示范大学工会")
        session.add(branch)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": f"{100000 + i}", "name": f"教工{i}", "branch_id": branch.id}
            for i in range(count + count // 10)])
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        event = Event(number=1, title="运动会", place="体育场", starts_at=made + timedelta(days=30),
                      capacity=count)
        session.add(event)
        await session.flush()
        rows, places = [], 0
        for seq, member_id in enumerate(ids, start=1):
            status = WITHDRAWN if seq % 11 == 0 else (CONFIRMED if seq % 3 else WAITLIST)
            places += status == CONFIRMED
            rows.append({
                "event_id": event.id, "member_id": member_id, "seq": seq, "status": status,
                "place_seq": (count + 1 - places) if status == CONFIRMED else None, "guests": 0,
                "answers": json.dumps({}), "signed_up_at": made, "updated_at": made,
            })
        await session.execute(insert(Signup), rows)
        assert event.id is not None
        return event.id


async def test_the_roster_read_in_pages_keeps_its_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PAGE_ROWS", 7)  # many pages, with withdrawn rows between
    event_id = await add_signups(db, 60)
    async with db.read() as session:
        lines = await queries.roster(session, event_id)
    confirmed = [line for line in lines if line.status == CONFIRMED]
    waiting = [line for line in lines if line.status == WAITLIST]
    assert len(lines) == 60
    assert lines == [*confirmed, *waiting]  # places first, then the waitlist
    # places in the order they were given (here the reverse of signing up); the waitlist by seq
    assert [line.staff_no for line in confirmed] == sorted(
        (line.staff_no for line in confirmed), reverse=True)
    assert [line.staff_no for line in waiting] == sorted(line.staff_no for line in waiting)
    assert [line.number for line in waiting] == list(range(1, len(waiting) + 1))


async def test_exporting_a_big_roster_does_not_stall_the_loop(db: Database) -> None:
    event_id = await add_signups(db, 2000)
    async with db.read() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        built, lag = await watched(export_roster(session, event, tz=TZ, fmt="xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(built.data), read_only=True).worksheets[0]
    assert built.rows == 2000
    assert sum(1 for _ in sheet.iter_rows()) == 2001
    assert lag.worst < MAX_LAG
