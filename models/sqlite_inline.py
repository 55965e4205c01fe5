"""A SQLAlchemy dialect that runs SQLite statements on the calling thread.

SQLAlchemy's aiosqlite dialect hands every driver call (cursor, execute, fetch,
close, commit) to aiosqlite's worker thread and waits for it through a greenlet
switch: several hand-offs per statement for statements that SQLite itself answers
in microseconds. This dialect keeps SQLAlchemy's aiosqlite adapter but gives it a
connection whose calls return at once, so no hand-off or switch happens at all.

It never blocks the event loop on a lock: readers do not take locks in WAL mode,
and the one statement that waits for another process's write lock,
``BEGIN IMMEDIATE``, is retried with ``asyncio.sleep`` between attempts
(``busy_timeout`` is 0); only then is the greenlet bridge used.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util.concurrency import await_only, greenlet_spawn

LOCK_WAIT_SECONDS = 30.0
DRIVER = "unionbot_inline"


class InlineCursor:
    """A ``sqlite3`` cursor whose calls return results directly.

    ``execute`` returns an awaitable only for a ``BEGIN`` that found the database
    locked by another process; the adapter's ``await_`` then waits for it.
    """

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    def execute(
        self, sql: str, parameters: Sequence[Any] | None = None
    ) -> InlineCursor | Awaitable[InlineCursor]:
        if sql.startswith("BEGIN"):
            try:
                self._cursor.execute(sql)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                return self._begin_later(sql)
        elif parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def _begin_later(self, sql: str) -> InlineCursor:
        """``BEGIN [IMMEDIATE]``, waiting asynchronously while another process writes."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        delay = 0.001
        while True:
            await asyncio.sleep(delay)
            try:
                self._cursor.execute(sql)
                return self
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            delay = min(delay * 2, 0.05)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, rows)
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """Just enough of ``aiosqlite.Connection`` for SQLAlchemy's adapter, minus the thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection itself (see ``models.fixed_sql``)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    def execute(
        self, sql: str, parameters: Sequence[Any] | None = None
    ) -> InlineCursor | Awaitable[InlineCursor]:
        return self.cursor().execute(sql, parameters)

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def _inline_await(value: Any) -> Any:
    """The adapter's ``await_``: plain values pass through, awaitables go over the bridge."""
    if hasattr(value, "__await__"):
        return await_only(value)
    return value


class _InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    await_ = staticmethod(_inline_await)  # type: ignore[assignment]

    async def _terminate_graceful_close(self) -> None:
        self._connection.close()


class _InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        creator: Callable[..., Awaitable[InlineConnection]] = kw.pop("async_creator_fn")
        kw.pop("async_fallback", None)
        connection: Any = await_only(creator(*arg, **kw))
        return _InlineAdaptedConnection(self, connection)


class InlineDialect(SQLiteDialect_aiosqlite):
    """``sqlite+unionbot_inline``: the aiosqlite dialect over ``InlineConnection``."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _InlineDBAPI(__import__("aiosqlite"), sqlite3)

    # Savepoints go straight to the driver, like BEGIN (see ``models.db``): each
    # write of a group commit opens and releases one.
    def do_savepoint(self, connection: Any, name: str) -> None:
        connection.connection.dbapi_connection.execute(f'SAVEPOINT "{name}"')

    def do_release_savepoint(self, connection: Any, name: str) -> None:
        connection.connection.dbapi_connection.execute(f'RELEASE SAVEPOINT "{name}"')

    def do_rollback_to_savepoint(self, connection: Any, name: str) -> None:
        connection.connection.dbapi_connection.execute(f'ROLLBACK TO SAVEPOINT "{name}"')


registry.register(f"sqlite.{DRIVER}", __name__, "InlineDialect")


class InlineAsyncConnection(AsyncConnection):
    """``AsyncConnection`` for the inline dialect.

    SQLAlchemy's ``AsyncConnection.execute`` insists that the driver suspended at
    least once, as a check against synchronous drivers; this one answers without
    suspending by design, so the check is left out. Results are always buffered.
    """

    __slots__ = ()

    async def execute(
        self,
        statement: Executable,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[Any]:
        result: CursorResult[Any] = await greenlet_spawn(
            self._proxied.execute, statement, parameters, execution_options=execution_options,
        )
        return result

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None,
    ) -> CursorResult[Any]:
        result: CursorResult[Any] = await greenlet_spawn(
            self._proxied.exec_driver_sql, statement, parameters, execution_options,
        )
        return result


class InlineAsyncEngine(AsyncEngine):
    """``AsyncEngine`` whose connections are ``InlineAsyncConnection``."""

    __slots__ = ()
    _connection_cls = InlineAsyncConnection


def connector(path: str) -> Callable[[], Awaitable[InlineConnection]]:
    """An ``async_creator`` for ``create_async_engine``: opens ``path`` in WAL mode."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       "busy_timeout=0"):
            conn.execute(f"PRAGMA {pragma}")
        return InlineConnection(conn)

    return connect
