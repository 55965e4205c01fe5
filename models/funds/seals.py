"""Whether a published statement still holds: its checkpoint against the ledger today.

Each published statement carries a signed checkpoint (entry count and head hash). The
board tells members, in plain words, whether the entries it covered are still the ones
that were published, and whether it continues the earlier statements: the chain is
recomputed from the first entry up to the newest checkpoint (the same checks as
``unionbot funds verify``: positions without gaps, each entry linked to the previous
one, each hash what the entry's fields give), the recomputed head at every checkpoint
is compared with the signed one, and every signature is checked against the union's key.

Recomputing 100,000 entries takes a few seconds, so ``ChainCache`` keeps the result per
ledger: the first request waits for it (concurrent ones wait for the same walk), later
ones get it at once. Once it is ``max_age`` old the next request starts a full walk in
the background and is answered with the last result (the page says when it was
checked), so an edit made after publication shows within ``max_age``. When a statement
is published, its new checkpoint is checked by continuing the last walk from where it
stopped (only the entries recorded since), as long as that walk is younger than
``max_age``. A walk reads and hashes a few hundred entries at a time and yields to the
event loop in between, so other requests are not held up. While walking it also sums
the entries per day and kind for each checkpoint: a statement's months and entry pages
are read from those sums of the verified entries.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.db import Database
from models.funds.chain import GENESIS, HASHED, day_text, hash_values
from models.funds.checkpoints import registered_key, signature_ok
from models.funds.tables import FundCheckpoint, FundStatement

CHUNK = 250  # entries read and hashed between two yields to the event loop
_CHUNK_QUERY = text(f"SELECT {', '.join(HASHED)}, hash FROM fund_entry "
                    "WHERE ledger_id = :ledger AND seq > :after AND seq <= :upto ORDER BY seq LIMIT :limit")
_SEQ, _NUMBER, _PREV = HASHED.index("seq"), HASHED.index("number"), HASHED.index("prev_hash")
_DAY, _KIND, _AMOUNT = HASHED.index("occurred_on"), HASHED.index("kind"), HASHED.index("amount_fen")
_HASH = len(HASHED)
#: (day, kind) → (sum in 分, entries) of some entries of a ledger
Tally = dict[tuple[date, str], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Seal:
    """A checkpoint with the period of the statement it was taken for (None: taken alone)."""

    id: int
    statement_id: int | None
    entry_count: int
    head_hash: str
    signed_at: datetime
    period_key: str | None
    valid: bool  # signed by the union's registered key


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry where the recomputed chain departs from the stored one."""

    seq: int  # its position (for ``missing``: the first position absent)
    number: str | None  # the entry concerned (for ``missing``: the one found there instead, if any)
    code: str  # changed | broken_link | missing


@dataclass(frozen=True, slots=True)
class ChainState:
    """The ledger's chain recomputed up to its newest checkpoint."""

    walked: int  # entries checked before the first break (or all of them)
    heads: dict[int, str]  # recomputed hash after entry n, for every checkpoint's n
    broken: Break | None
    checked_at: datetime
    # (day, kind, the entry count of the first checkpoint that covers them) → [sum, entries]
    days: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)

    def tally(self, upto: int, start: date, end: date) -> Tally | None:
        """Sum and count per day and kind of entries ``1 … upto`` dated in ``[start, end)``, as
        recomputed; None when the walk did not get through them intact."""
        if self.walked < upto:
            return None
        first, last = start.isoformat(), end.isoformat()
        found: Tally = {}
        for (day, kind, cover), (amount, count) in self.days.items():
            if cover <= upto and first <= day < last:
                key = (date.fromisoformat(day), kind)
                before = found.get(key, (0, 0))
                found[key] = (before[0] + amount, before[1] + count)
        return found


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the board says about one statement's checkpoint.

    ``code``: ``first`` (the ledger's first statement, untouched), ``continues`` (untouched and
    extends ``previous``), ``changed`` / ``reordered`` / ``deleted`` (an entry ``number``
    published with ``since`` is no longer what was published), ``rewritten`` (the chain was
    recomputed after an edit: ``since``'s head no longer matches), ``signature`` (``since``'s
    checkpoint is not signed by the union's key), ``regressed`` (``since`` covers fewer
    entries than an earlier statement).
    """

    code: str
    entries: int
    checked_at: datetime
    previous: Seal | None = None
    since: Seal | None = None
    number: str | None = None
    walked: int = 0  # entries found intact from the first one on

    @property
    def intact(self) -> bool:
        return self.code in ("first", "continues")


async def seals_of(session: AsyncSession, ledger_id: int) -> list[Seal]:
    """The ledger's checkpoints in the order they were signed, each with its statement's period."""
    query = (select(FundCheckpoint, col(FundStatement.period_key))
             .outerjoin(FundStatement, col(FundStatement.id) == col(FundCheckpoint.statement_id))
             .where(col(FundCheckpoint.ledger_id) == ledger_id)
             .order_by(col(FundCheckpoint.signed_at), col(FundCheckpoint.id)))
    rows = (await session.execute(query)).all()
    key = await registered_key(session)
    return [Seal(checkpoint.id or 0, checkpoint.statement_id, checkpoint.entry_count, checkpoint.head_hash,
                 checkpoint.signed_at, period_key, _signed_by(checkpoint, key))
            for checkpoint, period_key in rows]


def _signed_by(checkpoint: FundCheckpoint, key: str | None) -> bool:
    return key is not None and checkpoint.public_key == key and signature_ok(checkpoint, key)


@dataclass(slots=True)
class _Walk:
    covers: list[int]  # the checkpoints' entry counts, ascending
    count: int = 0
    head: str = GENESIS
    heads: dict[int, str] = field(default_factory=dict)
    days: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    cover: int = 0  # index in ``covers`` of the first checkpoint covering the next entry


def _step(walk: _Walk, row: tuple[Any, ...]) -> Break | None:
    seq, number = row[_SEQ], row[_NUMBER]
    if seq != walk.count + 1:
        return Break(walk.count + 1, number, "missing")
    if row[_PREV] != walk.head:
        return Break(seq, number, "broken_link")
    if hash_values(row[:_HASH]) != row[_HASH]:
        return Break(seq, number, "changed")
    walk.count, walk.head = seq, row[_HASH]
    while walk.covers[walk.cover] < seq:
        walk.cover += 1
    total = walk.days.setdefault((day_text(row[_DAY]), row[_KIND], walk.covers[walk.cover]), [0, 0])
    total[0] += row[_AMOUNT]
    total[1] += 1
    return None


def _resumed(state: ChainState, covers: list[int]) -> _Walk:
    """A walk continuing after ``state``, which got intact to one of its checkpoints."""
    walk = _Walk(covers, state.walked, state.heads[state.walked], dict(state.heads),
                 {key: list(total) for key, total in state.days.items()})
    walk.cover = bisect.bisect_left(covers, state.walked + 1)
    return walk


async def walk_chain(session: AsyncSession, ledger_id: int, counts: set[int], *,
                     resume: ChainState | None = None,
                     now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ChainState:
    """Recompute the chain up to the largest of ``counts``, noting the head after each of them;
    from where ``resume`` (an intact walk up to one of ``counts``) stopped, when given."""
    upto = max(counts, default=0)
    if resume is not None:
        walk = _resumed(resume, sorted(counts))
    else:
        walk = _Walk(sorted(counts), heads={0: GENESIS} if 0 in counts else {})
    broken = None
    while walk.count < upto and broken is None:
        rows = (await session.execute(_CHUNK_QUERY, {
            "ledger": ledger_id, "after": walk.count, "upto": upto, "limit": CHUNK})).all()
        if not rows:
            broken = Break(walk.count + 1, None, "missing")
        for row in rows:
            broken = _step(walk, tuple(row))
            if broken is not None:
                break
            if walk.count in counts:
                walk.heads[walk.count] = walk.head
        await asyncio.sleep(0)  # let other requests run between chunks
    checked_at = resume.checked_at if resume is not None else now()  # as old as its oldest part
    return ChainState(walk.count, walk.heads, broken, checked_at, walk.days)


# ---------------------------------------------------------------- the verdict


def _first_covering(seals: list[Seal], seq: int) -> Seal:
    """The earliest checkpoint that published entry ``seq``."""
    return next(seal for seal in seals if seal.entry_count >= seq)


def _break_verdict(broken: Break, seals: list[Seal], mine: Seal, state: ChainState) -> Verdict:
    code = {"changed": "changed", "broken_link": "reordered", "missing": "deleted"}[broken.code]
    return Verdict(code, mine.entry_count, state.checked_at, since=_first_covering(seals, broken.seq),
                   number=broken.number, walked=state.walked)


def verdict(seals: list[Seal], seal_id: int, state: ChainState) -> Verdict:
    """The verdict on checkpoint ``seal_id`` given the recomputed chain ``state``."""
    index = next(i for i, seal in enumerate(seals) if seal.id == seal_id)
    mine, earlier = seals[index], seals[:index + 1]
    furthest = 0
    for seal in earlier:
        if not seal.valid:
            return Verdict("signature", mine.entry_count, state.checked_at, since=seal)
        if seal.entry_count < furthest:
            return Verdict("regressed", mine.entry_count, state.checked_at, since=seal)
        furthest = seal.entry_count
    if state.broken is not None and state.broken.seq <= mine.entry_count:
        return _break_verdict(state.broken, earlier, mine, state)
    for seal in earlier:
        if state.heads.get(seal.entry_count) != seal.head_hash:
            return Verdict("rewritten", mine.entry_count, state.checked_at, since=seal)
    if index == 0:
        return Verdict("first", mine.entry_count, state.checked_at)
    return Verdict("continues", mine.entry_count, state.checked_at, previous=seals[index - 1])


# ---------------------------------------------------------------- the cache


@dataclass(slots=True)
class _Cached:
    key: tuple[int, int]  # (newest checkpoint id, its entry count)
    seals: list[Seal]
    state: ChainState
    at: float  # monotonic seconds


class ChainCache:
    """Recomputed chains per ledger, kept ``max_age`` seconds before a background refresh."""

    def __init__(self, *, max_age: float = 600.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._monotonic = monotonic
        self._done: dict[int, _Cached] = {}
        self._running: dict[int, asyncio.Task[_Cached]] = {}
        self.walks = 0  # how many walks were started (for tests and benchmarks)

    def _extendable(self, before: _Cached | None, counts: set[int]) -> ChainState | None:
        """The last result, when a walk may continue from it: fresh, intact, and every checkpoint
        added since it covers at least as many entries as it checked."""
        if before is None or not before.seals or self._monotonic() - before.at > self.max_age:
            return None
        state, known = before.state, {seal.entry_count for seal in before.seals}
        if state.broken is not None or state.walked != max(known):
            return None
        return state if all(count >= state.walked for count in counts - known) else None

    async def _compute(self, db: Database, ledger_id: int, extend: bool) -> _Cached:
        before = self._done.get(ledger_id) if extend else None
        async with db.read() as session:
            seals = await seals_of(session, ledger_id)
            counts = {seal.entry_count for seal in seals}
            resume = self._extendable(before, counts)
            state = await walk_chain(session, ledger_id, counts, resume=resume)
        newest = seals[-1] if seals else None
        key = (newest.id, newest.entry_count) if newest else (0, 0)
        return _Cached(key, seals, state, before.at if resume is not None and before else self._monotonic())

    def _start(self, db: Database, ledger_id: int, *, extend: bool = False) -> asyncio.Task[_Cached]:
        task = self._running.get(ledger_id)
        if task is None:
            self.walks += 1
            task = asyncio.create_task(self._compute(db, ledger_id, extend))
            self._running[ledger_id] = task
            task.add_done_callback(lambda done: self._finished(ledger_id, done))
        return task

    def _finished(self, ledger_id: int, task: asyncio.Task[_Cached]) -> None:
        if self._running.get(ledger_id) is task:
            del self._running[ledger_id]
        if not task.cancelled() and task.exception() is None:
            self._done[ledger_id] = task.result()

    async def verdict(self, db: Database, ledger_id: int, statement_id: int, newest: tuple[int, int],
                      ) -> Verdict | None:
        found = await self.check(db, ledger_id, statement_id, newest)
        return found[0] if found is not None else None

    async def check(self, db: Database, ledger_id: int, statement_id: int, newest: tuple[int, int],
                    ) -> tuple[Verdict, ChainState] | None:
        """The verdict on the checkpoint of statement ``statement_id`` and the recomputed chain;
        ``newest`` is the ledger's newest checkpoint (id, entry count) as the caller read it.
        None when the statement has no checkpoint."""
        cached = self._done.get(ledger_id)
        if cached is None or cached.key != newest:  # a new checkpoint: continue the last walk
            cached = await asyncio.shield(self._start(db, ledger_id, extend=True))
        elif self._monotonic() - cached.at > self.max_age:
            self._start(db, ledger_id)  # answered from the last result; the next request gets the new one
        seal = next((seal for seal in cached.seals if seal.statement_id == statement_id), None)
        return (verdict(cached.seals, seal.id, cached.state), cached.state) if seal is not None else None

    async def close(self) -> None:
        """Stop walks still running (at shutdown, before the database closes)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def newest_seal(session: AsyncSession, ledger_id: int) -> tuple[int, int]:
    """(id, entry count) of the ledger's newest checkpoint; (0, 0) when there is none."""
    query = (select(col(FundCheckpoint.id), col(FundCheckpoint.entry_count))
             .where(col(FundCheckpoint.ledger_id) == ledger_id)
             .order_by(col(FundCheckpoint.signed_at).desc(), col(FundCheckpoint.id).desc()).limit(1))
    row = (await session.execute(query)).first()
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)
