"""The append-only ledger: numbers, the chain, 冲销, 拨付 (atomic), 慰问 limits."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, select
from sqlmodel import SQLModel, col

from models.db import Database
from models.funds import ledger as ledger_module
from models.funds.chain import GENESIS, entry_hash, hashed_fields
from models.funds.ledger import find_ledger, reverse, transfer
from models.funds.refusals import Refused
from models.funds.relief import Payout, paid_this_year, pay, relief_counts
from models.funds.tables import FundEntry, FundLedger, FundRelief, Kind, parse_entry_number
from tests.factories import make_member
from tests.models.funds.support import CS, NOW, TODAY, UNION, book, branch_id


def _funds_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, SQLModel.metadata) if "fund_" in repr(d)]


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(_funds_diff) == []


async def entries(db: Database, branch: int) -> list[FundEntry]:
    async with db.read() as session:
        ledger = await find_ledger(session, branch)
        assert ledger is not None
        query = select(FundEntry).where(col(FundEntry.ledger_id) == ledger.id).order_by(col(FundEntry.seq))
        return list((await session.execute(query)).scalars())


async def head(db: Database, branch: int) -> FundLedger:
    async with db.read() as session:
        found = await find_ledger(session, branch)
        assert found is not None
        return found


async def test_entries_are_numbered_chained_and_balanced(db: Database) -> None:
    cs = await branch_id(db, CS)
    await book(db, cs, 500000, kind=Kind.INCOME, code="103", text="上级补助")
    await book(db, cs, 30000)
    third = await book(db, cs, 12345, code="30104")
    assert third.number == "J2026-0003"
    rows = await entries(db, cs)
    assert [r.number for r in rows] == ["J2026-0001", "J2026-0002", "J2026-0003"]
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    for row in rows:
        assert entry_hash(hashed_fields(row)) == row.hash
    ledger = await head(db, cs)
    assert (ledger.entry_count, ledger.head_hash, ledger.balance_fen) == (3, rows[-1].hash, 500000 - 42345)


async def test_numbers_are_per_ledger_and_per_year(db: Database) -> None:
    cs, union = await branch_id(db, CS), await branch_id(db, UNION)
    await book(db, cs, 100)
    assert (await book(db, union, 100)).number == "J2026-0001"
    async with db.write() as session:
        ledger = await find_ledger(session, cs)
        assert ledger is not None
        ledger.opened_on = date(2025, 1, 1)
    assert (await book(db, cs, 100, day=date(2025, 12, 30))).number == "J2025-0001"
    assert (await book(db, cs, 100)).number == "J2026-0002"
    assert parse_entry_number("j2026-2") == "J2026-0002"
    assert parse_entry_number("J2026-0") is None


@pytest.mark.parametrize(("day", "code"), [
    (date(2026, 12, 6), "date_future"), (date(2025, 12, 31), "date_before_opening"),
])
async def test_dates_in_the_future_or_before_opening_are_refused(db: Database, day: date, code: str) -> None:
    cs = await branch_id(db, CS)
    with pytest.raises(Refused) as caught:
        await book(db, cs, 100, day=day)
    assert caught.value.code == code
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(FundEntry))).scalar_one() == 0


async def test_concurrent_appends_never_fork_the_chain(db: Database) -> None:
    cs = await branch_id(db, CS)
    await book(db, cs, 100)  # the ledger exists: all writers race for its head
    await asyncio.gather(*(book(db, cs, 100 + i) for i in range(24)))
    rows = await entries(db, cs)
    assert [r.seq for r in rows] == list(range(1, 26))
    assert sorted(r.number for r in rows) == [f"J2026-{n:04d}" for n in range(1, 26)]
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert (await head(db, cs)).balance_fen == -(100 + sum(100 + i for i in range(24)))


async def test_concurrent_first_appends_create_one_ledger(db: Database) -> None:
    cs = await branch_id(db, CS)
    await asyncio.gather(*(book(db, cs, 100) for _ in range(8)))
    assert [r.seq for r in await entries(db, cs)] == list(range(1, 9))


async def test_reversal_adds_a_negative_entry_and_only_once(db: Database) -> None:
    cs = await branch_id(db, CS)
    original = await book(db, cs, 30000)
    async with db.write() as session:
        done = await reverse(session, cs, original.number, description="冲销 J2026-0001：金额写错",
                             recorded_by=None, now=NOW, today=TODAY)
    (reversal,) = done.entries
    assert (reversal.amount_fen, reversal.reverses_id, reversal.number) == (-30000, original.id, "J2026-0002")
    assert (await head(db, cs)).balance_fen == 0
    for number, code in (("J2026-0001", "entry_already_reversed"), ("J2026-0002", "entry_is_reversal"),
                         ("J2026-0099", "entry_unknown")):
        with pytest.raises(Refused) as caught:
            async with db.write() as session:
                await reverse(session, cs, number, description="x", recorded_by=None, now=NOW, today=TODAY)
        assert caught.value.code == code
    assert len(await entries(db, cs)) == 2


async def _transfer(db: Database, union: int, cs: int, amount: int = 200000) -> ledger_module.Transfer:
    async with db.write() as session:
        return await transfer(session, union_branch=union, branch=cs, amount_fen=amount,
                              categories=("306", "103"), descriptions=("拨付计算机学院", "校工会拨付"),
                              recorded_by=None, now=NOW, today=TODAY)


async def test_transfer_posts_both_sides_and_reverses_both(db: Database) -> None:
    union, cs = await branch_id(db, UNION), await branch_id(db, CS)
    done = await _transfer(db, union, cs)
    assert (done.paid.kind, done.received.kind) == ("expense", "income")
    assert done.paid.transfer_key == done.received.transfer_key
    assert ((await head(db, union)).balance_fen, (await head(db, cs)).balance_fen) == (-200000, 200000)
    async with db.write() as session:
        back = await reverse(session, cs, done.received.number, description="冲销：拨错了",
                             recorded_by=None, now=NOW, today=TODAY)
    assert len(back.entries) == 2
    assert ((await head(db, union)).balance_fen, (await head(db, cs)).balance_fen) == (0, 0)


async def test_a_transfer_interrupted_between_its_sides_leaves_neither(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    union, cs = await branch_id(db, UNION), await branch_id(db, CS)
    real = ledger_module.append
    calls = 0

    async def dies_on_the_second_side(*args: object, **kwargs: object) -> FundEntry:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("killed between the two sides")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_module, "append", dies_on_the_second_side)
    with pytest.raises(ConnectionError):
        await _transfer(db, union, cs)
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(FundEntry))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(FundLedger))).scalar_one() == 0


async def test_relief_limits_count_the_year_and_skip_reversed_payouts(db: Database) -> None:
    cs = await branch_id(db, CS)
    member = await make_member(db, "10001", "张三")
    assert member.id is not None

    def payout(amount: int) -> Payout:
        return Payout(member_id=member.id or 0, kind="生日", amount_fen=amount, category_code="30104",
                      reason="生日", description="生日慰问", limit_fen=30000)

    async def give(amount: int) -> tuple[FundEntry, FundLedger, int]:
        async with db.write() as session:
            return await pay(session, cs, payout(amount), recorded_by=None, now=NOW, today=TODAY)

    first, _ledger, total = await give(20000)
    assert total == 20000
    with pytest.raises(Refused) as caught:
        await give(20000)
    assert caught.value.code == "relief_over_limit"
    assert caught.value.values == {"kind": "生日", "limit": "300.00", "paid": "200.00", "amount": "200.00",
                                   "left": "100.00"}
    async with db.write() as session:
        await reverse(session, cs, first.number, description="冲销", recorded_by=None, now=NOW, today=TODAY)
    await give(30000)
    async with db.read() as session:
        assert await paid_this_year(session, member.id, "生日", 2026) == 30000
        assert await relief_counts(session, first.ledger_id, date(2026, 1, 1), date(2027, 1, 1)) == [
            ("生日", 1, 30000)]
        assert (await session.execute(select(func.count()).select_from(FundRelief))).scalar_one() == 2


