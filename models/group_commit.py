"""Group commit for SQLite's single writer.

SQLite has one writer at a time, and a commit costs more than the small
transactions of a chat message (it appends the changed pages to the WAL). So
write transactions that queue up behind each other share one database
transaction: each runs in a savepoint of its own (its session's commit releases
the savepoint, an error rolls back to it, undoing only that writer's work), and
the shared transaction is committed once the writers that were already waiting
have had their turn, after ``MAX_BATCH`` of them, or when a writer arrives after
the batch has been open for ``MAX_BATCH_SECONDS``. A block that awaits something
other than the database holds up the writers of its batch, as it holds up those
waiting for the lock: keep write blocks to database work.

A writer's block returns only after the shared commit succeeded, so "the block
finished" still means "the data is on disk". If that commit fails, every writer
in the batch gets the error, and none of their work is kept. (A writer refused
because of another's work in the same batch, e.g. a place just taken, keeps its
refusal even then: commits fail only when the disk does.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, AsyncTransaction

from models.fixed_sql import SQLITE_CONNECTION, SQLITE_DIALECT
from models.sqlite_inline import InlineConnection

logger = logging.getLogger(__name__)

MAX_BATCH = 64
MAX_BATCH_SECONDS = 0.05


@dataclass(eq=False)
class _Batch:
    connection: AsyncConnection
    transaction: AsyncTransaction
    done: asyncio.Future[None]
    opened_at: float
    sqlite: sqlite3.Connection | None = None  # for ``FixedInsert``
    size: int = 0
    flusher: asyncio.Task[None] | None = field(default=None, repr=False)


class GroupCommitWriter:
    """Hands out write sessions that share transactions with queued writers."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._lock = asyncio.Lock()
        self._batch: _Batch | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends without error.

        When the block raises, its own work is rolled back, and the error is passed
        on once its batch is committed: like separate transactions, whatever made
        it fail (a row another writer just added) is then visible to everyone.
        """
        batch: _Batch | None = None
        try:
            async with self._lock:
                batch = await self._current()
                session = AsyncSession(
                    bind=batch.connection, join_transaction_mode="create_savepoint",
                    expire_on_commit=False,
                )
                if batch.sqlite is not None:
                    session.info[SQLITE_CONNECTION] = batch.sqlite
                    session.info[SQLITE_DIALECT] = batch.connection.dialect
                try:
                    yield session
                    await session.commit()  # releases this writer's savepoint
                except BaseException:
                    await self._undo(session, batch)
                    raise
                session.sync_session.close()  # after a commit it holds nothing to wait for
                batch.size += 1
                if batch.size >= self._max_batch or _stopped(batch.flusher):
                    await self._commit(batch)
        except Exception:
            if batch is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(batch.done)
            raise
        await asyncio.shield(batch.done)

    async def _current(self) -> _Batch:
        """The open batch to join (holding the lock); a new one when it is old or full."""
        batch = self._batch
        if batch is not None:
            age = asyncio.get_running_loop().time() - batch.opened_at
            if age < MAX_BATCH_SECONDS and not _stopped(batch.flusher):
                return batch
            await self._commit(batch)
        return await self._open()

    async def _open(self) -> _Batch:
        connection = await self._engine.connect()
        try:
            transaction = await connection.begin()
        except BaseException:
            await connection.close()
            raise
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        loop = asyncio.get_running_loop()
        batch = _Batch(connection, transaction, loop.create_future(), loop.time(),
                       sqlite=driver.sqlite if isinstance(driver, InlineConnection) else None)
        self._batch = batch
        # Queued behind the writers already waiting for the lock: they join this batch.
        batch.flusher = asyncio.create_task(self._flush(batch))
        return batch

    async def _flush(self, batch: _Batch) -> None:
        # If this task dies instead (cancelled at shutdown), the next writer to come
        # along commits the batch itself (``_stopped``), and ``close`` commits the rest.
        async with self._lock:
            if self._batch is batch:
                await self._commit(batch)

    async def _undo(self, session: AsyncSession, batch: _Batch) -> None:
        """Roll back to the writer's savepoint; if even that fails, give up the batch."""
        try:
            await session.close()
        except BaseException as exc:
            logger.exception("rolling back to a savepoint failed; abandoning the batch")
            await self._abandon(batch, exc)

    async def _commit(self, batch: _Batch) -> None:
        self._batch = None
        try:
            await batch.transaction.commit()
        except BaseException as exc:
            logger.exception("committing a batch of %d writes failed", batch.size)
            await self._abandon(batch, exc)
            return
        batch.done.set_result(None)
        try:
            await batch.connection.close()
        except Exception:
            logger.exception("returning the connection of a committed batch failed")

    async def _abandon(self, batch: _Batch, exc: BaseException) -> None:
        if self._batch is batch:
            self._batch = None
        try:
            await batch.connection.invalidate()
            await batch.connection.close()
        except Exception:
            logger.exception("closing the connection of an abandoned batch failed")
        if not batch.done.done():
            batch.done.set_exception(
                exc if isinstance(exc, Exception) else RuntimeError("write batch abandoned")
            )
            batch.done.exception()  # retrieved here, so an empty batch logs no warning

    async def close(self) -> None:
        """Commit what is pending; used when the database is disposed."""
        async with self._lock:
            if self._batch is not None:
                await self._commit(self._batch)


def _stopped(flusher: asyncio.Task[None] | None) -> bool:
    return flusher is not None and flusher.done()
