"""Database engines and transactions for SQLite (default) and PostgreSQL.

SQLite allows one writer at a time. Every write transaction therefore starts with
``BEGIN IMMEDIATE`` on a dedicated single-connection engine, behind an asyncio lock,
so writers queue in order instead of failing with "database is locked", and writers
that queue up share a commit (see ``models.group_commit``); readers use their own
connections and see the last committed state (WAL mode). Statements run inline
(see ``models.sqlite_inline``). PostgreSQL uses one pooled engine for both, and a
small second pool of autocommit connections for single statements that must not wait
for the caller's transaction to end (``side_connection``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.group_commit import GroupCommitWriter
from models.sqlite_inline import DRIVER, InlineAsyncEngine, connector

logger = logging.getLogger(__name__)

SIDE_ENGINE = "unionbot.side_engine"  # key in ``session.info``: the autocommit engine (PostgreSQL)


def _sqlite_engine(url: str, path: str, *, begin: str, pool_size: int) -> AsyncEngine:
    engine = InlineAsyncEngine(create_async_engine(
        make_url(url).set(drivername=f"sqlite+{DRIVER}"), async_creator=connector(path),
        pool_size=pool_size, max_overflow=0, pool_timeout=60,
        # Sessions and connections end their own transactions (commit, or rollback
        # on close): the pool's extra rollback on every check-in would repeat it.
        pool_reset_on_return=None,
    ).sync_engine)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Straight to the driver: SQLAlchemy's statement machinery costs far more
        # than SQLite's BEGIN, and this runs once per transaction.
        conn.connection.dbapi_connection.execute(begin)

    return engine


def _side_engine(url: str, connect_args: dict[str, Any]) -> AsyncEngine:
    """Autocommit connections: a statement commits when it ends, so a row lock it takes
    is held for the statement only, not for the rest of a message's transaction.

    Their commits do not wait for the disk (``synchronous_commit = off``): a row lock is
    released only after the commit, so waiting there would queue every statement for the
    same row behind one disk flush each. Nothing is promised on the strength of such a
    commit alone: the message's own transaction commits after it and waits for the
    disk, and the log is written in order, so when a reply is stored the statement's
    work is on disk too; a crash before that loses both together.
    """
    settings = {**connect_args.get("server_settings", {}), "synchronous_commit": "off"}
    return create_async_engine(
        url, pool_size=4, max_overflow=0, pool_timeout=30, isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None, connect_args={**connect_args, "server_settings": settings},
    )


@asynccontextmanager
async def side_connection(session: AsyncSession) -> AsyncIterator[AsyncConnection | None]:
    """An autocommit connection beside ``session``'s transaction (PostgreSQL write
    sessions), or None: each statement on it commits at once, whatever ``session``
    does later. Use it only for single statements that stand on their own."""
    engine: AsyncEngine | None = session.info.get(SIDE_ENGINE)
    if engine is None:
        yield None
        return
    async with engine.connect() as connection:
        yield connection


@asynccontextmanager
async def _transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit ``session`` when the block succeeds; roll it back when it raises.

    The same as ``session.begin()``, with two fewer trips through SQLAlchemy's
    greenlet bridge: the transaction begins with the first statement, and after
    a commit the session holds no connection, so closing it waits for nothing.
    """
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.close()
        raise
    session.sync_session.close()


class Database:
    """The engines and session factories of one database URL."""

    def __init__(self, url: str, *, connect_args: dict[str, Any] | None = None) -> None:
        parsed = make_url(url)
        self.url = url
        self.side_engine: AsyncEngine | None = None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            path = parsed.database or ""
            if not path or path == ":memory:":
                raise ValueError("SQLite needs a file, e.g. sqlite+aiosqlite:///data/unionbot.db")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(url, path, begin="BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = _sqlite_engine(url, path, begin="BEGIN", pool_size=4)
        else:
            engine = create_async_engine(
                url, pool_size=10, max_overflow=10, pool_pre_ping=False,
                connect_args=connect_args or {},
                # sessions end their own transactions (``_transaction``, ``read``): the
                # pool's ROLLBACK on every check-in would be one more round trip each
                pool_reset_on_return=None,
            )
            self.write_engine = self.read_engine = engine
            self.side_engine = _side_engine(url, connect_args or {})
        info = {} if self.side_engine is None else {SIDE_ENGINE: self.side_engine}
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False, info=info)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = GroupCommitWriter(self.write_engine) if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else self.write_engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one write transaction: committed on success, rolled back on error."""
        if self._writer is None:
            async with _transaction(self._write_sessions()) as session:
                yield session
            return
        async with self._writer.session() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; closing it discards anything it changed.

        Objects loaded through it stay readable after the block (they are detached,
        not expired).
        """
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            logger.warning("database ping failed", exc_info=True)
            return False
        return True

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.write_engine.dispose()
        if self.side_engine is not None:
            await self.side_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
