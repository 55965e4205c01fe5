"""Column types and helpers shared by the tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import CursorResult, DateTime, Executable, Table
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)
T = TypeVar("T")


def system_clock() -> datetime:
    """The machine's current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# Where "now" comes from for the pipeline, the handlers, the scheduler, the outbox and the
# column defaults: ``utcnow`` asks it on every call, so replacing it fixes the time for all
# of them at once, as the README walkthrough test does.
clock: Callable[[], datetime] = system_clock


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC, as ``clock`` tells it."""
    return clock()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are
    normalised to UTC on the way in and tagged as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def snapshot(model: type[M], values: Mapping[str, Any]) -> M:
    """An instance of ``model`` holding ``values`` (a row read with Core), built without
    the ORM's per-field bookkeeping, which costs more than the query on a hot path.

    It reads like a loaded row but belongs to no session: changes made to it are never
    saved. ``set_loaded`` updates it after a Core UPDATE.
    """
    configure_mappers()  # attribute access needs configured mappers; a no-op once done
    return cast(M, model.model_construct(**values))


def set_loaded(instance: SQLModel, name: str, value: Any) -> None:
    """Record ``value`` as the stored value of ``name`` (after a Core UPDATE of the row),
    on a session's instance or on a ``snapshot``."""
    if "_sa_instance_state" in instance.__dict__:
        set_committed_value(instance, name, value)
    else:
        instance.__dict__[name] = value


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel class, for fast inserts that bypass the ORM flush."""
    found = getattr(model, "__table__", None)
    assert isinstance(found, Table)
    return found


async def execute_core(
    session: AsyncSession, statement: Executable,
    params: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
) -> CursorResult[Any]:
    """Run a Core statement on the session's connection, skipping the ORM's bulk paths
    (which compile INSERT/UPDATE statements anew on every call); a list of parameter sets
    runs it once for each (``executemany``)."""
    return await session.run_sync(_execute_core, statement, params)


def _execute_core(
    session: Session, statement: Executable, params: dict[str, Any] | Sequence[dict[str, Any]] | None
) -> CursorResult[Any]:
    connection = session.connection()
    if _uncacheable(statement):
        return connection.execute(_compiled(statement, connection.dialect, params), params)
    return connection.execute(statement, params)


# SQLAlchemy's statement cache leaves out ``INSERT … ON CONFLICT`` (its cache key is None),
# so such a statement would be compiled anew on every execution, which costs several times
# what the database needs to run it. Statements kept for reuse (module constants) are
# compiled once per dialect and set of parameter names instead.
def _uncacheable(statement: Executable) -> bool:
    if isinstance(statement, SqliteInsert):
        return True
    postgresql_dml = sys.modules.get("sqlalchemy.dialects.postgresql.dml")  # loaded with its Insert
    return postgresql_dml is not None and isinstance(statement, postgresql_dml.Insert)


_COMPILED: WeakKeyDictionary[Executable, dict[tuple[Dialect, tuple[str, ...], bool], Compiled]] = (
    WeakKeyDictionary()
)


def _compiled(
    statement: Executable, dialect: Dialect,
    params: dict[str, Any] | Sequence[dict[str, Any]] | None,
) -> Any:
    many = isinstance(params, Sequence) and len(params) > 1
    first = (params[0] if params else {}) if isinstance(params, Sequence) else (params or {})
    key = (dialect, tuple(first), many)
    known = _COMPILED.setdefault(statement, {})
    compiled = known.get(key)
    if compiled is None:
        assert isinstance(statement, ClauseElement)
        compiled = known[key] = statement.compile(
            dialect=dialect, column_keys=list(first), for_executemany=many
        )
    return compiled


def insert_for(dialect: str) -> Callable[[Table], SqliteInsert]:
    """``INSERT … ON CONFLICT`` of ``dialect`` ("postgresql", else SQLite's).

    PostgreSQL's dialect module (~2 MB) loads only when a PostgreSQL database uses it.
    Both constructs offer the same ``on_conflict_do_nothing`` / ``on_conflict_do_update``
    / ``excluded`` used here, so they share SQLite's type.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return cast(Callable[[Table], SqliteInsert], insert)
    return sqlite_insert


class PerDialect(dict[str, T]):
    """``{dialect name: statement}``, each statement built by ``build(dialect)`` on first use."""

    def __init__(self, build: Callable[[str], T]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, dialect: str) -> T:
        built = self[dialect] = self._build(dialect)
        return built
