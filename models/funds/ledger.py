"""Appending to a ledger: numbering, the hash chain, 冲销 and 拨付.

Appends to one ledger are serialised on its head row: ``SELECT … FOR UPDATE`` on
PostgreSQL (SQLite writers already hold the database's write lock), so two concurrent
记账 queue and each extends the chain the other left — the chain never forks and
numbers (``J2026-0042``, per ledger and year) are gapless. A 拨付 locks both ledgers in
id order (no deadlock) and writes both sides in the caller's one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Insert, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import PerDialect, execute_core, insert_for, set_loaded, snapshot, table_of
from models.funds.chain import entry_hash, hashed_fields
from models.funds.refusals import Refused
from models.funds.tables import (
    DESCRIPTION_MAX,
    FundCounter,
    FundDayTotal,
    FundEntry,
    FundLedger,
    Kind,
    entry_number,
)

_COUNTER = table_of(FundCounter)
_ENTRY = table_of(FundEntry)
_LEDGER = table_of(FundLedger)


def _bump(dialect: str) -> Insert:
    maker = insert_for(dialect)
    statement = maker(_COUNTER).values(ledger_id=bindparam("ledger_id"), year=bindparam("year"), seq=1)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTER.c.ledger_id, _COUNTER.c.year], set_={"seq": _COUNTER.c.seq + 1}
    ).returning(_COUNTER.c.seq)


_BUMPS = PerDialect(_bump)
_DAY = table_of(FundDayTotal)


def _add_to_day(dialect: str) -> Insert:
    maker = insert_for(dialect)
    statement = maker(_DAY).values(
        ledger_id=bindparam("ledger_id"), day=bindparam("occurred_on"), kind=bindparam("kind"),
        category_code=bindparam("category_code"), amount_fen=bindparam("amount_fen"), entries=1)
    return statement.on_conflict_do_update(
        index_elements=[_DAY.c.ledger_id, _DAY.c.day, _DAY.c.kind, _DAY.c.category_code],
        set_={"amount_fen": _DAY.c.amount_fen + statement.excluded.amount_fen, "entries": _DAY.c.entries + 1})


_DAY_ADDS = PerDialect(_add_to_day)
_INSERT = insert(_ENTRY).returning(_ENTRY.c.id)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What an officer records; the ledger adds the number, position and hashes."""

    kind: Kind
    amount_fen: int  # negative only for a reversal
    category_code: str
    description: str
    occurred_on: date
    recorded_by: int | None = None
    reverses_id: int | None = None
    transfer_key: str | None = None


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def open_ledger(session: AsyncSession, branch_id: int, *, opened_on: date) -> FundLedger:
    """The ledger of ``branch_id``, created when missing, locked for appending."""
    maker = insert_for(_dialect(session))
    await execute_core(session, maker(_LEDGER).values(
        branch_id=branch_id, opened_on=opened_on, entry_count=0, head_hash="0" * 64,
        balance_fen=0, created_at=datetime.now(UTC),
    ).on_conflict_do_nothing(index_elements=[_LEDGER.c.branch_id]))
    return await lock_ledger(session, branch_id)


async def lock_ledger(session: AsyncSession, branch_id: int) -> FundLedger:
    query = (select(FundLedger).where(col(FundLedger.branch_id) == branch_id)
             .with_for_update().execution_options(populate_existing=True))
    return (await session.execute(query)).scalar_one()


async def find_ledger(session: AsyncSession, branch_id: int) -> FundLedger | None:
    query = select(FundLedger).where(col(FundLedger.branch_id) == branch_id)
    return (await session.execute(query)).scalar_one_or_none()


def check_entry(ledger: FundLedger, entry: NewEntry, today: date) -> None:
    """Refuse dates in the future or before the ledger opened, and empty descriptions."""
    if entry.occurred_on > today:
        raise Refused("date_future", day=entry.occurred_on.isoformat(), today=today.isoformat())
    if entry.occurred_on < ledger.opened_on:
        raise Refused("date_before_opening", day=entry.occurred_on.isoformat(),
                      opened=ledger.opened_on.isoformat())
    if not entry.description.strip():
        raise Refused("description_missing")
    if len(entry.description) > DESCRIPTION_MAX:
        raise Refused("description_too_long", limit=DESCRIPTION_MAX, length=len(entry.description))


async def append(session: AsyncSession, ledger: FundLedger, entry: NewEntry, now: datetime) -> FundEntry:
    """Add ``entry`` at the head of the (locked) ``ledger``; return the stored entry."""
    assert ledger.id is not None
    bump = _BUMPS[_dialect(session)]
    year = entry.occurred_on.year
    counted = await execute_core(session, bump, {"ledger_id": ledger.id, "year": year})
    seq_in_year = int(counted.scalar_one())
    fields: dict[str, Any] = {
        "ledger_id": ledger.id, "seq": ledger.entry_count + 1, "number": entry_number(year, seq_in_year),
        "kind": entry.kind.value, "amount_fen": entry.amount_fen, "category_code": entry.category_code,
        "description": entry.description, "occurred_on": entry.occurred_on,
        "recorded_at": now.astimezone(UTC).replace(microsecond=0), "recorded_by": entry.recorded_by,
        "reverses_id": entry.reverses_id, "transfer_key": entry.transfer_key,
        "prev_hash": ledger.head_hash,
    }
    fields["hash"] = entry_hash(hashed_fields(fields))
    entry_id = int((await execute_core(session, _INSERT, fields)).scalar_one())
    await execute_core(session, _DAY_ADDS[_dialect(session)], {
        name: fields[name] for name in ("ledger_id", "occurred_on", "kind", "category_code", "amount_fen")})
    signed = entry.amount_fen if entry.kind is Kind.INCOME else -entry.amount_fen
    set_loaded(ledger, "entry_count", ledger.entry_count + 1)
    set_loaded(ledger, "head_hash", fields["hash"])
    set_loaded(ledger, "balance_fen", ledger.balance_fen + signed)
    await execute_core(session, update(_LEDGER).where(_LEDGER.c.id == ledger.id).values(
        entry_count=ledger.entry_count, head_hash=ledger.head_hash, balance_fen=ledger.balance_fen))
    return snapshot(FundEntry, {"id": entry_id, **fields})


async def entry_by_number(session: AsyncSession, ledger_id: int, number: str) -> FundEntry | None:
    query = select(FundEntry).where(col(FundEntry.ledger_id) == ledger_id, col(FundEntry.number) == number)
    return (await session.execute(query)).scalar_one_or_none()


async def reversal_of(session: AsyncSession, entry_id: int) -> FundEntry | None:
    query = select(FundEntry).where(col(FundEntry.reverses_id) == entry_id)
    return (await session.execute(query)).scalar_one_or_none()


def new_transfer_key() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- 记账, 冲销, 拨付


async def record(
    session: AsyncSession, branch_id: int, entry: NewEntry, *, now: datetime, today: date
) -> tuple[FundEntry, FundLedger]:
    """记账: append ``entry`` to the branch's ledger (opened on 1 January when new)."""
    ledger = await open_ledger(session, branch_id, opened_on=date(today.year, 1, 1))
    check_entry(ledger, entry, today)
    return await append(session, ledger, entry, now), ledger


@dataclass(frozen=True, slots=True)
class Reversal:
    original: FundEntry
    entries: list[FundEntry]  # the reversing entries (two for a 拨付)


async def reverse(
    session: AsyncSession, branch_id: int, number: str, *, description: str,
    recorded_by: int | None, now: datetime, today: date,
) -> Reversal:
    """冲销: a reversing entry for ``number`` (both sides for a 拨付), dated ``today``."""
    ledger = await find_ledger(session, branch_id)
    original = await entry_by_number(session, ledger.id or 0, number) if ledger else None
    if original is None or original.id is None:
        raise Refused("entry_unknown", number=number)
    if original.reverses_id is not None:
        raise Refused("entry_is_reversal", number=number)
    already = await reversal_of(session, original.id)
    if already is not None:
        raise Refused("entry_already_reversed", number=number, by=already.number)
    sides = [original]
    if original.transfer_key is not None:
        both = select(FundEntry).where(col(FundEntry.transfer_key) == original.transfer_key)
        sides = await _in_lock_order(session, list((await session.execute(both)).scalars()))
    done = []
    for side in sides:
        locked = await _lock_by_id(session, side.ledger_id)
        done.append(await append(session, locked, NewEntry(
            kind=Kind(side.kind), amount_fen=-side.amount_fen, category_code=side.category_code,
            description=description, occurred_on=today, recorded_by=recorded_by, reverses_id=side.id,
            transfer_key=None,
        ), now))
    return Reversal(original, done)


async def _in_lock_order(session: AsyncSession, sides: list[FundEntry]) -> list[FundEntry]:
    """The sides of a transfer in the order ``transfer`` locks their ledgers (by branch)."""
    ids = [side.ledger_id for side in sides]
    rows = await session.execute(
        select(col(FundLedger.id), col(FundLedger.branch_id)).where(col(FundLedger.id).in_(ids)))
    branches: dict[int, int] = {int(ledger_id): int(branch) for ledger_id, branch in rows.all()}
    return sorted(sides, key=lambda side: branches[side.ledger_id])


async def _lock_by_id(session: AsyncSession, ledger_id: int) -> FundLedger:
    query = (select(FundLedger).where(col(FundLedger.id) == ledger_id)
             .with_for_update().execution_options(populate_existing=True))
    return (await session.execute(query)).scalar_one()


@dataclass(frozen=True, slots=True)
class Transfer:
    paid: FundEntry  # the union's expense
    received: FundEntry  # the branch's income
    union_ledger: FundLedger
    branch_ledger: FundLedger


async def transfer(
    session: AsyncSession, *, union_branch: int, branch: int, amount_fen: int,
    categories: tuple[str, str], descriptions: tuple[str, str], recorded_by: int | None,
    now: datetime, today: date,
) -> Transfer:
    """拨付: the union's expense and the branch's income, both in the caller's transaction.

    ``categories`` and ``descriptions`` are (union side, branch side). Both ledgers are
    locked in branch order first, so concurrent transfers never deadlock.
    """
    if union_branch == branch:
        raise Refused("transfer_to_self")
    opened = date(today.year, 1, 1)
    ledgers = {b: await open_ledger(session, b, opened_on=opened) for b in sorted({union_branch, branch})}
    key = new_transfer_key()
    paid = await append(session, ledgers[union_branch], NewEntry(
        kind=Kind.EXPENSE, amount_fen=amount_fen, category_code=categories[0], description=descriptions[0],
        occurred_on=today, recorded_by=recorded_by, transfer_key=key), now)
    received = await append(session, ledgers[branch], NewEntry(
        kind=Kind.INCOME, amount_fen=amount_fen, category_code=categories[1], description=descriptions[1],
        occurred_on=today, recorded_by=recorded_by, transfer_key=key), now)
    return Transfer(paid, received, ledgers[union_branch], ledgers[branch])
