"""Proposal numbers ``T<year>-<seq>``: gapless per year, safe under concurrent filing.

The next number comes from one ``INSERT … ON CONFLICT (year) DO UPDATE SET seq = seq + 1
RETURNING seq`` on the year's counter row, inside the filing transaction:

- on PostgreSQL the upsert locks the counter row until the filing commits or rolls
  back, so concurrent filings queue on it and each gets the next number;
- on SQLite every write transaction already holds the database's write lock
  (``BEGIN IMMEDIATE``);
- a filing that is refused or fails rolls back the counter with everything else,
  so no number is ever skipped.
"""

from __future__ import annotations

from sqlalchemy import Insert, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import PerDialect, execute_core, insert_for, table_of
from models.proposals.tables import ProposalCounter, format_number

_COUNTER = table_of(ProposalCounter)


def _bump(dialect: str) -> Insert:
    maker = insert_for(dialect)
    statement = maker(_COUNTER).values(year=bindparam("year"), seq=1)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTER.c.year], set_={"seq": _COUNTER.c.seq + 1}
    ).returning(_COUNTER.c.seq)


_BUMPS = PerDialect(_bump)


async def next_number(session: AsyncSession, year: int) -> tuple[int, str]:
    """Take the next sequence number of ``year`` in the caller's transaction."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    seq = int((await execute_core(session, _BUMPS[dialect], {"year": year})).scalar_one())
    return seq, format_number(year, seq)
