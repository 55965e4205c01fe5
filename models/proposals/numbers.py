"""Proposal numbers ``T<year>-<seq>``: gapless per year, safe under concurrent filing.

The next number comes from ``UPDATE proposal_counter SET seq = seq + 1 WHERE year = …
RETURNING seq`` on the year's counter row, inside the filing transaction (the year's
first filing creates the row with ``INSERT … ON CONFLICT DO NOTHING`` and bumps it):

- on PostgreSQL the UPDATE locks the counter row until the filing commits or rolls
  back, so concurrent filings queue on it and each gets the next number. Waiting
  UPDATEs queue on the row's tuple lock and are let through one at a time, where an
  ``INSERT … ON CONFLICT DO UPDATE`` would wake every waiter to retry its insert at
  each commit;
- on SQLite every write transaction already holds the database's write lock
  (``BEGIN IMMEDIATE``);
- a filing that is refused or fails rolls back the counter with everything else,
  so no number is ever skipped.
"""

from __future__ import annotations

from sqlalchemy import Insert, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import PerDialect, execute_core, insert_for, table_of
from models.proposals.tables import ProposalCounter, format_number

_COUNTER = table_of(ProposalCounter)

_BUMP = (
    update(_COUNTER).where(_COUNTER.c.year == bindparam("of_year"))
    .values(seq=_COUNTER.c.seq + 1).returning(_COUNTER.c.seq)
)


def _first(dialect: str) -> Insert:
    return insert_for(dialect)(_COUNTER).values(year=bindparam("year"), seq=0).on_conflict_do_nothing(
        index_elements=[_COUNTER.c.year]
    )


_FIRSTS = PerDialect(_first)


async def next_number(session: AsyncSession, year: int) -> tuple[int, str]:
    """Take the next sequence number of ``year`` in the caller's transaction."""
    seq = (await execute_core(session, _BUMP, {"of_year": year})).scalar()
    if seq is None:  # the year's first number
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        await execute_core(session, _FIRSTS[dialect], {"year": year})
        seq = (await execute_core(session, _BUMP, {"of_year": year})).scalar_one()
    return int(seq), format_number(year, int(seq))
