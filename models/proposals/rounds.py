"""Collection rounds — 提案征集: when proposals may be filed.

A round is open from ``opens_at`` until ``closes_at`` (the start of the day after the
close date, in the union's time zone); at most one round is open at a time. Officers
start one, move its close (also to reopen it) or end it now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.fixed_sql import FixedStatement
from models.proposals.flow import Refused
from models.proposals.tables import ProposalRound


async def open_round(session: AsyncSession, now: datetime) -> ProposalRound | None:
    """The collection round open at ``now``, if any."""
    found: ProposalRound | None = await session.scalar(
        select(ProposalRound)
        .where(col(ProposalRound.opens_at) <= now, col(ProposalRound.closes_at) > now)
        .order_by(col(ProposalRound.id).desc())
        .limit(1)
    )
    return found


_OPEN_ROUND_ID = FixedStatement(
    select(col(ProposalRound.id))
    .where(col(ProposalRound.opens_at) <= bindparam("now"))
    .where(col(ProposalRound.closes_at) > bindparam("now"))
    .order_by(col(ProposalRound.id).desc())
    .limit(1)
)


async def open_round_id(session: AsyncSession, now: datetime) -> int | None:
    """The id of the round open at ``now`` (a fixed statement: it runs on every filing)."""
    found = await _OPEN_ROUND_ID.rows(session, {"now": now})
    return int(found[0][0]) if found else None


async def latest_round(session: AsyncSession) -> ProposalRound | None:
    """The round started last (open or not)."""
    found: ProposalRound | None = await session.scalar(
        select(ProposalRound).order_by(col(ProposalRound.id).desc()).limit(1)
    )
    return found


async def start_round(
    session: AsyncSession, *, name: str, closes_at: datetime, officer_id: int, now: datetime
) -> ProposalRound:
    """Open a collection round now, until ``closes_at``; one round is open at a time."""
    current = await open_round(session, now)
    if current is not None:
        raise Refused("round_already_open", name=current.name, closes_at=current.closes_at)
    taken = await session.scalar(select(col(ProposalRound.id)).where(col(ProposalRound.name) == name))
    if taken is not None:
        raise Refused("round_name_taken", name=name)
    found = ProposalRound(
        name=name, opens_at=now, closes_at=closes_at, created_by=officer_id, created_at=now
    )
    session.add(found)
    await session.flush()
    return found


async def move_round_close(
    session: AsyncSession, *, closes_at: datetime, now: datetime
) -> tuple[ProposalRound, datetime]:
    """Set the close of the latest round (also to reopen it); returns it and the old close."""
    found = await latest_round(session)
    if found is None:
        raise Refused("round_none")
    before = found.closes_at
    found.closes_at = closes_at
    if found.opens_at > now:
        found.opens_at = now
    await session.flush()
    return found, before


async def end_round(session: AsyncSession, *, now: datetime) -> ProposalRound:
    """Close the open round now."""
    found = await open_round(session, now)
    if found is None:
        raise Refused("round_none_open")
    found.closes_at = now
    await session.flush()
    return found
