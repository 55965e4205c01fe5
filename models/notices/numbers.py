"""Notice numbers ``G5`` / ``S8`` / ``Y3``: gapless per prefix, safe under concurrent use.

One ``INSERT … ON CONFLICT (prefix) DO UPDATE SET seq = seq + 1 RETURNING seq`` on the
prefix's counter row, in the caller's transaction: PostgreSQL locks the row until the
transaction ends, SQLite holds its write lock; a rolled-back transaction gives its number back.
"""

from __future__ import annotations

from sqlalchemy import Insert, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import PerDialect, execute_core, insert_for, table_of
from models.notices.tables import NoticeCounter

_COUNTER = table_of(NoticeCounter)


def _bump(dialect: str) -> Insert:
    maker = insert_for(dialect)
    statement = maker(_COUNTER).values(prefix=bindparam("prefix"), seq=1)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTER.c.prefix], set_={"seq": _COUNTER.c.seq + 1}
    ).returning(_COUNTER.c.seq)


_BUMPS = PerDialect(_bump)


async def next_number(session: AsyncSession, prefix: str) -> tuple[int, str]:
    """The next sequence number of ``prefix`` and its text (``G5``)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    seq = int((await execute_core(session, _BUMPS[dialect], {"prefix": prefix})).scalar_one())
    return seq, f"{prefix}{seq}"
