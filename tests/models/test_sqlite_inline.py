"""SQLite statements run inline, and a held write lock is waited for without blocking."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from models.db import Database
from models.migrate import upgrade


async def test_writer_waits_for_another_process_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lock.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> float:
        started = time.monotonic()
        async with db.write() as session:
            await session.execute(text(
                "INSERT INTO branch (name) VALUES ('等锁分工会')"
            ))
        return time.monotonic() - started

    tick_task = asyncio.create_task(ticker())
    write_task = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not write_task.done()
    other.execute("COMMIT")
    waited = await write_task
    tick_task.cancel()
    other.close()
    assert waited >= 0.3
    assert ticks >= 20  # the loop kept running while the writer waited
    async with db.read() as session:
        names = (await session.execute(text("SELECT name FROM branch"))).scalars().all()
    assert names == ["等锁分工会"]
    await db.dispose()


async def test_readers_see_committed_writes(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/r.db")
    await upgrade(db)
    async with db.write() as session:
        await session.execute(text("INSERT INTO branch (name) VALUES ('甲')"))
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM branch"))).scalar() == 1
    await db.dispose()
