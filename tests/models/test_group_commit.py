"""SQLite writers that queue up share a commit, and each keeps its own failures."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from models import group_commit
from models.db import Database
from models.group_commit import GroupCommitWriter

INSERT = text("INSERT INTO branch (name) VALUES (:name)")


def count_commits(db: Database) -> list[int]:
    commits: list[int] = []

    @event.listens_for(db.write_engine.sync_engine, "commit")
    def _commit(conn: Any) -> None:
        commits.append(1)

    return commits


async def names(db: Database) -> list[str]:
    async with db.read() as session:
        rows = await session.execute(text("SELECT name FROM branch ORDER BY id"))
        return list(rows.scalars())


async def add(db: Database, name: str, *, fail: bool = False) -> None:
    async with db.write() as session:
        await session.execute(INSERT, {"name": name})
        if fail:
            raise ValueError(name)


async def test_concurrent_writers_share_one_commit(sqlite_db: Database) -> None:
    commits = count_commits(sqlite_db)
    await asyncio.gather(*(add(sqlite_db, f"分工会{i}") for i in range(20)))
    assert len(commits) == 1
    assert await names(sqlite_db) == [f"分工会{i}" for i in range(20)]


async def test_writers_one_after_another_each_commit(sqlite_db: Database) -> None:
    commits = count_commits(sqlite_db)
    for i in range(3):
        await add(sqlite_db, f"分工会{i}")
        assert await names(sqlite_db) == [f"分工会{j}" for j in range(i + 1)]
    assert len(commits) == 3


async def test_a_failing_writer_loses_only_its_own_work(sqlite_db: Database) -> None:
    results = await asyncio.gather(
        add(sqlite_db, "甲"), add(sqlite_db, "乙", fail=True), add(sqlite_db, "丙"),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert await names(sqlite_db) == ["甲", "丙"]


async def test_an_error_is_passed_on_after_the_writers_before_it_are_committed(
    sqlite_db: Database,
) -> None:
    seen_when_failing: list[list[str]] = []

    async def duplicate() -> None:
        try:
            await add(sqlite_db, "甲")  # the unique name is taken by the first writer
        except IntegrityError:
            seen_when_failing.append(await names(sqlite_db))

    await asyncio.gather(add(sqlite_db, "甲"), duplicate())
    assert seen_when_failing == [["甲"]]


async def test_a_failed_commit_fails_every_writer_of_the_batch(sqlite_db: Database) -> None:
    async def breaks_the_commit() -> None:
        async with sqlite_db.write() as session:
            # Checked only at COMMIT: a member of a branch that does not exist.
            await session.execute(text("PRAGMA defer_foreign_keys = ON"))
            await session.execute(text(
                "INSERT INTO member (staff_no, name, branch_id, active, created_at, updated_at) "
                "VALUES ('1', '张三', 999, 1, '2026-01-01', '2026-01-01')"
            ))

    results = await asyncio.gather(
        add(sqlite_db, "甲"), breaks_the_commit(), add(sqlite_db, "乙"),
        return_exceptions=True,
    )
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert await names(sqlite_db) == []
    await add(sqlite_db, "丙")  # the writer recovers for the next batch
    assert await names(sqlite_db) == ["丙"]


async def test_batches_are_capped(sqlite_db: Database) -> None:
    sqlite_db._writer = GroupCommitWriter(sqlite_db.write_engine, max_batch=2)
    commits = count_commits(sqlite_db)
    await asyncio.gather(*(add(sqlite_db, f"分工会{i}") for i in range(5)))
    assert len(commits) == 3
    assert len(await names(sqlite_db)) == 5


async def test_a_cancelled_waiter_does_not_hold_up_the_batch(sqlite_db: Database) -> None:
    release = asyncio.Event()

    async def slow() -> None:
        async with sqlite_db.write() as session:
            await session.execute(INSERT, {"name": "慢"})
            await release.wait()

    first = asyncio.create_task(slow())
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(add(sqlite_db, "等"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    await asyncio.wait_for(first, 5)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await names(sqlite_db) == ["慢"]


async def test_pending_work_is_committed_on_dispose(tmp_path: Any) -> None:
    from models.migrate import upgrade

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    await upgrade(db)
    task = asyncio.create_task(add(db, "甲"))
    await asyncio.sleep(0)  # the writer has run; its batch waits for the flush
    await db.dispose()
    await task
    again = Database(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    assert await names(again) == ["甲"]
    await again.dispose()


async def test_a_stopped_flusher_does_not_strand_later_writers(sqlite_db: Database) -> None:
    first = asyncio.create_task(add(sqlite_db, "甲"))
    await asyncio.sleep(0)  # the writer is done; its batch waits for the flusher
    writer = sqlite_db._writer
    assert writer is not None and writer._batch is not None
    flusher = writer._batch.flusher
    assert flusher is not None
    flusher.cancel()
    await asyncio.wait_for(add(sqlite_db, "乙"), 5)
    await asyncio.wait_for(first, 5)
    assert await names(sqlite_db) == ["甲", "乙"]


async def test_an_old_batch_takes_no_more_writers(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_commit, "MAX_BATCH_SECONDS", 0.0)
    commits = count_commits(sqlite_db)
    await asyncio.gather(*(add(sqlite_db, f"分工会{i}") for i in range(4)))
    assert len(commits) == 4
