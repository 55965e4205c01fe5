"""``unionbot funds verify``: recompute every ledger's chain and check every checkpoint.

For each ledger, entries are read in chain order (by ``seq``, in pages) and each is
checked: its position follows the previous one (a deletion leaves a gap), its
``prev_hash`` is the previous entry's hash (an insertion or a reorder breaks the link)
and its hash is what its fields give (an edit changes it). The ledger's head must be
the recomputed one (an entry deleted or added at the end), and every checkpoint must
carry a valid signature of the union's key and name a head the recomputed chain
passes through; later checkpoints must not go back (each extends the earlier ones).
The first problem found per ledger is reported, naming the entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import table_of
from models.funds.chain import GENESIS, HASHED, day_text, hash_values
from models.funds.checkpoints import signature_ok
from models.funds.tables import FundCheckpoint, FundEntry, FundLedger, Kind

_ENTRY = table_of(FundEntry)
# read as plain driver values (no per-row type processing): the chain hashes them as they are
_PAGE = text(f"SELECT {', '.join(HASHED)}, hash FROM fund_entry WHERE ledger_id = :ledger AND seq > :after "
             "ORDER BY seq LIMIT :page")
PAGE = 5000
_SEQ, _NUMBER, _KIND, _AMOUNT = (HASHED.index(n) for n in ("seq", "number", "kind", "amount_fen"))
_PREV, _HASH = HASHED.index("prev_hash"), len(HASHED)
_DAY, _CATEGORY = HASHED.index("occurred_on"), HASHED.index("category_code")


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing in a ledger that no longer matches."""

    ledger_id: int
    code: str  # changed, broken_link, missing, head, checkpoint_*
    number: str | None = None  # the entry concerned
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class LedgerReport:
    ledger_id: int
    branch_id: int
    entries: int = 0
    checkpoints: int = 0
    problem: Problem | None = None


async def _pages(session: AsyncSession, ledger_id: int) -> AsyncIterator[list[Any]]:
    after = 0
    while True:
        rows = (await session.execute(_PAGE, {"ledger": ledger_id, "after": after, "page": PAGE})).all()
        if not rows:
            return
        yield [tuple(row) for row in rows]
        after = rows[-1][_SEQ]


@dataclass(slots=True)
class _Walk:
    """The recomputed chain so far."""

    count: int = 0
    head: str = GENESIS
    balance: int = 0
    days: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # per-day totals
    heads_at: dict[int, str] = field(default_factory=dict)  # seq → hash, at checkpoints


def _check_row(ledger_id: int, row: tuple[Any, ...], walk: _Walk) -> Problem | None:
    seq, number = row[_SEQ], row[_NUMBER]
    if seq != walk.count + 1:
        return Problem(ledger_id, "missing", number, {"expected": walk.count + 1, "found": seq})
    if row[_PREV] != walk.head:
        return Problem(ledger_id, "broken_link", number)
    if hash_values(row[:_HASH]) != row[_HASH]:
        return Problem(ledger_id, "changed", number)
    walk.count, walk.head = seq, row[_HASH]
    walk.balance += row[_AMOUNT] if row[_KIND] == Kind.INCOME.value else -row[_AMOUNT]
    total = walk.days.setdefault((day_text(row[_DAY]), row[_KIND], row[_CATEGORY]), [0, 0])
    total[0] += row[_AMOUNT]
    total[1] += 1
    return None


_DAYS = text("SELECT day, kind, category_code, amount_fen, entries FROM fund_day_total "
             "WHERE ledger_id = :ledger")


async def _check_days(session: AsyncSession, ledger_id: int, walk: _Walk) -> Problem | None:
    """The per-day totals (what statements read) must be the sums of the entries."""
    stored = {(day_text(d), k, c): [int(a), int(n)]
              for d, k, c, a, n in (await session.execute(_DAYS, {"ledger": ledger_id})).all()}
    for key in sorted(set(stored) | set(walk.days)):
        if stored.get(key) != walk.days.get(key):
            return Problem(ledger_id, "day_totals", None, {"day": key[0]})
    return None


async def verify_ledger(
    session: AsyncSession, ledger: FundLedger, public_key: str | None
) -> LedgerReport:
    """Check one ledger; ``public_key`` (hex) is the union's key the checkpoints must carry."""
    assert ledger.id is not None
    report = LedgerReport(ledger.id, ledger.branch_id)
    checkpoints = list((await session.execute(
        select(FundCheckpoint).where(col(FundCheckpoint.ledger_id) == ledger.id)
        .order_by(col(FundCheckpoint.signed_at), col(FundCheckpoint.id))
    )).scalars())
    report.checkpoints = len(checkpoints)
    wanted = {c.entry_count for c in checkpoints}
    walk = _Walk(heads_at={0: GENESIS} if 0 in wanted else {})
    async for page in _pages(session, ledger.id):
        for row in page:
            report.problem = _check_row(ledger.id, row, walk)
            if report.problem is not None:
                return report
            if row[_SEQ] in wanted:
                walk.heads_at[row[_SEQ]] = row[_HASH]
    report.entries = walk.count
    if (ledger.entry_count, ledger.head_hash, ledger.balance_fen) != (walk.count, walk.head, walk.balance):
        report.problem = Problem(ledger.id, "head", None, {"stored": ledger.entry_count, "found": walk.count})
        return report
    report.problem = await _check_days(session, ledger.id, walk)
    if report.problem is not None:
        return report
    report.problem = await _check_checkpoints(session, ledger.id, checkpoints, walk, public_key)
    return report


async def _check_checkpoints(
    session: AsyncSession, ledger_id: int, checkpoints: list[FundCheckpoint], walk: _Walk,
    public_key: str | None,
) -> Problem | None:
    furthest = 0
    for checkpoint in checkpoints:
        values = {"count": checkpoint.entry_count, "at": checkpoint.signed_at}
        if public_key is not None and checkpoint.public_key != public_key:
            return Problem(ledger_id, "checkpoint_key", None, values)
        if not signature_ok(checkpoint, checkpoint.public_key):
            return Problem(ledger_id, "checkpoint_signature", None, values)
        if checkpoint.entry_count < furthest:
            return Problem(ledger_id, "checkpoint_regress", None, values | {"earlier": furthest})
        if walk.heads_at.get(checkpoint.entry_count) != checkpoint.head_hash:
            last = await _number_at(session, ledger_id, checkpoint.entry_count)
            return Problem(ledger_id, "checkpoint_mismatch", last, values)
        furthest = checkpoint.entry_count
    return None


async def _number_at(session: AsyncSession, ledger_id: int, seq: int) -> str | None:
    query = select(_ENTRY.c.number).where(_ENTRY.c.ledger_id == ledger_id, _ENTRY.c.seq == seq)
    return (await session.execute(query)).scalar_one_or_none()


async def verify_all(session: AsyncSession, public_key: str | None) -> list[LedgerReport]:
    """Every ledger's report, in ledger order."""
    ledgers = (await session.execute(select(FundLedger).order_by(col(FundLedger.id)))).scalars().all()
    return [await verify_ledger(session, ledger, public_key) for ledger in ledgers]
