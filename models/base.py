"""Column types and helpers shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, DateTime, Executable, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


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


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel class, for fast inserts that bypass the ORM flush."""
    found = getattr(model, "__table__", None)
    assert isinstance(found, Table)
    return found


async def execute_core(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | None = None
) -> CursorResult[Any]:
    """Run a Core statement on the session's connection, skipping the ORM's bulk paths
    (which compile INSERT/UPDATE statements anew on every call)."""
    return await session.run_sync(_execute_core, statement, params)


def _execute_core(
    session: Session, statement: Executable, params: dict[str, Any] | None
) -> CursorResult[Any]:
    return session.connection().execute(statement, params)
