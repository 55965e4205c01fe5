"""Fixed statements for the work done on every message: who sent it, its dedup record,
its audit entry.

SQLAlchemy's statement machinery costs several times what SQLite itself needs for a
small indexed query or a one-row INSERT. These classes keep each statement as Core
(run through SQLAlchemy on PostgreSQL and wherever no SQLite connection is at hand)
and, in a session of SQLite's group-commit writer, run the same SQL, compiled once by
SQLAlchemy, on the ``sqlite3`` connection directly: with the columns' own
conversions, SQLAlchemy's exception types, inside the session's savepoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from models.base import execute_core

SQLITE_CONNECTION = "unionbot.sqlite3"  # key in ``session.info``, set by the writer
SQLITE_DIALECT = "unionbot.sqlite_dialect"
_READY = "unionbot.fixed_sql_ready"


Convert = Callable[[Any], Any] | None


def _sqlite(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The writer's ``sqlite3`` connection and dialect, if the session has them."""
    connection: sqlite3.Connection | None = session.info.get(SQLITE_CONNECTION)
    return None if connection is None else (connection, session.info[SQLITE_DIALECT])


async def _begun(session: AsyncSession) -> None:
    """Make SQLAlchemy emit what it has deferred before a statement of ours runs.

    The savepoints of the writer's session, and of any ``begin_nested()`` inside it,
    are sent to the database only when a connection is asked for; a raw statement
    sent before that would land outside them and survive their rollback. Asking
    also refuses a session whose transaction has already failed. It is asked once
    per (transaction, nested transaction) the session is in.
    """
    sync = session.sync_session
    root = sync.get_transaction()
    if root is not None and root.is_active and session.info.get(_READY) == (
        root, sync.get_nested_transaction()
    ):
        return
    await session.connection()
    session.info[_READY] = (sync.get_transaction(), sync.get_nested_transaction())


def _run(connection: sqlite3.Connection, sql: str, args: list[Any]) -> sqlite3.Cursor:
    try:
        return connection.execute(sql, args)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, args, error, sqlite3.Error) from error


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    params: tuple[str, ...]  # bind names, in the order of the placeholders
    defaults: dict[str, Any]  # values of literal binds
    binds: dict[str, Convert]
    results: tuple[Convert, ...]


class FixedStatement:
    """A Core statement without expanding parameters (``IN`` lists): a SELECT whose rows
    come back as plain tuples of converted values, or an UPDATE / INSERT / DELETE."""

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        self.keys = tuple(column.key for column in columns)  # names of the row's values
        self._columns = tuple(columns)
        self._compiled: _Compiled | None = None

    def _compile(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            assert compiled.positiontup is not None, "a positional paramstyle is expected"
            assert "POSTCOMPILE" not in compiled.string, "expanding parameters are not supported"
            self._compiled = _Compiled(
                sql=compiled.string,
                params=tuple(compiled.positiontup),
                defaults=dict(compiled.params),
                binds={name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                       for bind, name in compiled.bind_names.items()},
                results=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                              for column in self._columns),
            )
        return self._compiled

    async def _cursor(
        self, session: AsyncSession, params: Mapping[str, Any]
    ) -> tuple[sqlite3.Cursor, _Compiled] | None:
        sqlite = _sqlite(session)
        if sqlite is None:
            return None
        connection, dialect = sqlite
        await _begun(session)
        c = self._compile(dialect)
        values = {**c.defaults, **params}
        args = [_convert(values[name], c.binds.get(name)) for name in c.params]
        return _run(connection, c.sql, args), c

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a SELECT."""
        ran = await self._cursor(session, params)
        if ran is None:
            result = await execute_core(session, self.statement, dict(params))
            return [tuple(row) for row in result.all()]
        cursor, c = ran
        return [
            tuple(_convert(value, convert) for value, convert in zip(row, c.results, strict=True))
            for row in cursor.fetchall()
        ]

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        """Run an UPDATE, INSERT or DELETE; the number of rows it touched."""
        ran = await self._cursor(session, params)
        if ran is None:
            return (await execute_core(session, self.statement, dict(params))).rowcount
        return ran[0].rowcount


    async def execute_many(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run an UPDATE, INSERT or DELETE once per parameter set (``executemany``): for
        thousands of rows, SQLAlchemy's work per row costs several times SQLite's."""
        sqlite = _sqlite(session)
        if sqlite is None:
            await execute_core(session, self.statement, [dict(row) for row in rows])
            return
        connection, dialect = sqlite
        await _begun(session)
        c = self._compile(dialect)
        converts = [(name, c.binds.get(name)) for name in c.params]
        args = [
            [_convert(row[name] if name in row else c.defaults[name], convert) for name, convert in converts]
            for row in rows
        ]
        try:
            connection.executemany(c.sql, args)
        except sqlite3.Error as error:
            raise DBAPIError.instance(c.sql, args[:1], error, sqlite3.Error) from error


def _convert(value: Any, convert: Convert) -> Any:
    return value if convert is None or value is None else convert(value)


class FixedInsert:
    """``INSERT INTO table (columns…) VALUES (…)`` with every column given each time."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.statement = insert(table).values({name: bindparam(name) for name in self.columns})
        self._returning_id = self.statement.returning(*table.primary_key.columns)
        names = ", ".join(f'"{name}"' for name in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self.sqlite_sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        self._processors: list[Convert] | None = None

    def _sqlite_processors(self, dialect: Dialect) -> list[Convert]:
        if self._processors is None:
            self._processors = [
                self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in self.columns
            ]
        return self._processors

    async def run(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        """Insert one row; raises SQLAlchemy's ``IntegrityError`` on a constraint."""
        sqlite = _sqlite(session)
        if sqlite is None:
            await execute_core(session, self.statement, dict(params))
            return
        await _begun(session)
        self._run_sqlite(*sqlite, params)

    async def run_for_id(self, session: AsyncSession, params: Mapping[str, Any]) -> int:
        """Insert one row and return its (integer) primary key."""
        sqlite = _sqlite(session)
        if sqlite is None:
            return int((await execute_core(session, self._returning_id, dict(params))).scalar_one())
        await _begun(session)
        row_id = self._run_sqlite(*sqlite, params).lastrowid
        assert row_id is not None
        return row_id

    def _run_sqlite(
        self, connection: sqlite3.Connection, dialect: Dialect, params: Mapping[str, Any]
    ) -> sqlite3.Cursor:
        args = [_convert(params[name], convert)
                for name, convert in zip(self.columns, self._sqlite_processors(dialect), strict=True)]
        return _run(connection, self.sqlite_sql, args)
