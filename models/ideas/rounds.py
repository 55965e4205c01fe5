"""Collection rounds — 点子征集: when and for whom ideas are collected.

A round belongs to a branch, or (``branch_id`` None) to the whole union when the 校工会
starts it. A member's idea goes into the most specific round open for them: their own
branch's, else the nearest branch above, else the union's. Each branch (and the union)
has at most one open round at a time. Outside any round ideas join the year's open pool,
unless ``[ideas] rounds_only``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.ideas.tables import IdeaRound, Refused
from models.scope import branch_tree

_OPEN = (
    select(IdeaRound)
    .where(col(IdeaRound.opens_at) <= bindparam("now"), col(IdeaRound.closes_at) > bindparam("now"))
    .order_by(col(IdeaRound.id))
)


def is_open(found: IdeaRound, now: datetime) -> bool:
    return found.opens_at <= now < found.closes_at


def chain(tree: dict[int, int | None], branch_id: int) -> list[int | None]:
    """``branch_id``, the branches above it, and None (the whole union), nearest first."""
    found: list[int | None] = []
    current: int | None = branch_id
    while current is not None and current not in found:
        found.append(current)
        current = tree.get(current)
    return [*found, None]


async def owner_of(session: AsyncSession, branch_id: int) -> int | None:
    """The branch a round started by an officer of ``branch_id`` belongs to (None: the union)."""
    tree = await branch_tree(session)
    return None if tree.get(branch_id) is None else branch_id


async def open_rounds(session: AsyncSession, now: datetime) -> list[IdeaRound]:
    return list(await session.scalars(_OPEN, {"now": now}))


async def round_for(session: AsyncSession, branch_id: int, now: datetime) -> IdeaRound | None:
    """The round a member of ``branch_id`` submits into now (the most specific open one)."""
    current = await open_rounds(session, now)
    if not current:
        return None
    by_branch = {found.branch_id: found for found in current}
    for owner in chain(await branch_tree(session), branch_id):
        if owner in by_branch:
            return by_branch[owner]
    return None


async def latest_for(session: AsyncSession, branch_id: int) -> IdeaRound | None:
    """The round started last among those a member of ``branch_id`` takes part in."""
    owners = chain(await branch_tree(session), branch_id)
    branches = [owner for owner in owners if owner is not None]
    statement = select(IdeaRound).where(
        col(IdeaRound.branch_id).in_(branches) | col(IdeaRound.branch_id).is_(None)
    )
    found: IdeaRound | None = await session.scalar(statement.order_by(col(IdeaRound.id).desc()).limit(1))
    return found


async def by_name(session: AsyncSession, name: str) -> IdeaRound | None:
    found: IdeaRound | None = await session.scalar(select(IdeaRound).where(col(IdeaRound.name) == name))
    return found


async def open_round_of(session: AsyncSession, owner: int | None, now: datetime) -> IdeaRound | None:
    """The open round that belongs to ``owner`` itself (a branch id, None: the union)."""
    for found in await open_rounds(session, now):
        if found.branch_id == owner:
            return found
    return None


async def start_round(
    session: AsyncSession, *, name: str, owner: int | None, closes_at: datetime, officer_id: int,
    now: datetime,
) -> IdeaRound:
    """Open a round of ``owner`` now, until ``closes_at``."""
    if closes_at <= now:
        raise Refused("round_close_past")
    current = await open_round_of(session, owner, now)
    if current is not None:
        raise Refused("round_already_open", name=current.name, closes_at=current.closes_at)
    if await by_name(session, name) is not None:
        raise Refused("round_name_taken", name=name)
    found = IdeaRound(name=name, branch_id=owner, opens_at=now, closes_at=closes_at,
                      created_by=officer_id, created_at=now)
    session.add(found)
    await session.flush()
    return found


async def end_round(session: AsyncSession, *, owner: int | None, now: datetime) -> IdeaRound:
    """Close ``owner``'s open round now."""
    found = await open_round_of(session, owner, now)
    if found is None:
        raise Refused("round_none_open")
    found.closes_at = now
    await session.flush()
    return found
