"""Tamper evidence: raw SQL edits, insertions, deletions and reorders are caught and named;
checkpoints are signed, replica-safe in their key, and must extend one another."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from models.db import Database
from models.funds.chain import GENESIS, entry_hash, hashed_fields
from models.funds.checkpoints import KeyProblem, load_or_create_key, public_hex, register, sign
from models.funds.ledger import find_ledger, lock_ledger
from models.funds.tables import FundCheckpoint, FundEntry, FundLedger
from models.funds.verify import LedgerReport, verify_all
from tests.models.funds.support import CS, NOW, book, branch_id


async def _ledger_of_five(db: Database) -> int:
    cs = await branch_id(db, CS)
    for amount in (100, 200, 300, 400, 500):
        await book(db, cs, amount)
    return cs


async def _verify(db: Database) -> LedgerReport:
    async with db.read() as session:
        (report,) = await verify_all(session, None)
    return report


async def _sql(db: Database, *statements: str) -> None:
    async with db.write_engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def _checkpoint(db: Database, branch: int, key_path: Path) -> FundCheckpoint:
    key = load_or_create_key(key_path)
    async with db.write() as session:
        ledger = await lock_ledger(session, branch)
        return await sign(session, ledger, key=key, key_path=key_path, statement_id=None, now=NOW)


async def test_an_intact_ledger_verifies(db: Database, tmp_path: Path) -> None:
    cs = await _ledger_of_five(db)
    await _checkpoint(db, cs, tmp_path / "k")
    await book(db, cs, 600)
    await _checkpoint(db, cs, tmp_path / "k")
    report = await _verify(db)
    assert (report.problem, report.entries, report.checkpoints) == (None, 6, 2)


@pytest.mark.parametrize(("tamper", "code", "number"), [
    (["UPDATE fund_entry SET amount_fen = 1 WHERE number = 'J2026-0003'"], "changed", "J2026-0003"),
    (["UPDATE fund_entry SET description = '改过' WHERE number = 'J2026-0002'"], "changed", "J2026-0002"),
    (["DELETE FROM fund_entry WHERE number = 'J2026-0003'"], "missing", "J2026-0004"),
    (["UPDATE fund_entry SET seq = -seq WHERE seq IN (2, 3)",
      "UPDATE fund_entry SET seq = 3 WHERE seq = -2", "UPDATE fund_entry SET seq = 2 WHERE seq = -3"],
     "broken_link", "J2026-0003"),
    (["DELETE FROM fund_entry WHERE number = 'J2026-0005'"], "head", None),
    (["UPDATE fund_day_total SET amount_fen = amount_fen - 1"], "day_totals", None),
])
async def test_raw_sql_tampering_is_named(
    db: Database, tamper: list[str], code: str, number: str | None
) -> None:
    await _ledger_of_five(db)
    await _sql(db, *tamper)
    problem = (await _verify(db)).problem
    assert problem is not None
    assert (problem.code, problem.number) == (code, number)


async def test_an_insertion_in_the_middle_breaks_the_next_link(db: Database) -> None:
    """Even a well-formed forged entry (its own hash right) breaks the link of the next one."""
    await _ledger_of_five(db)
    async with db.read() as session:
        rows = (await session.execute(text(
            "SELECT ledger_id, hash FROM fund_entry WHERE seq = 2"))).one()
    forged = {"ledger_id": rows[0], "seq": 3, "number": "J2026-0099", "kind": "expense", "amount_fen": 1,
              "category_code": "30102", "description": "插入", "occurred_on": NOW.date(),
              "recorded_at": NOW, "recorded_by": None, "reverses_id": None, "transfer_key": None,
              "prev_hash": rows[1]}
    forged["hash"] = entry_hash(hashed_fields(forged))
    await _sql(db, "UPDATE fund_entry SET seq = -seq WHERE seq >= 3",
               "UPDATE fund_entry SET seq = 1 - seq WHERE seq < 0")
    async with db.write_engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO fund_entry (ledger_id, seq, number, kind, amount_fen, category_code, description,"
            " occurred_on, recorded_at, prev_hash, hash) VALUES (:ledger_id, :seq, :number, :kind,"
            " :amount_fen, :category_code, :description, :occurred_on, :recorded_at, :prev_hash, :hash)"),
            {k: v for k, v in forged.items() if k not in ("recorded_by", "reverses_id", "transfer_key")}
            | {"recorded_at": NOW.replace(tzinfo=None) if db.is_sqlite else NOW})
    problem = (await _verify(db)).problem
    assert problem is not None
    assert (problem.code, problem.number) == ("broken_link", "J2026-0003")


async def test_a_rewritten_chain_is_caught_by_the_checkpoint(db: Database, tmp_path: Path) -> None:
    """Someone edits an amount and recomputes every later hash and the head: only the
    signed checkpoint still remembers the old head."""
    cs = await _ledger_of_five(db)
    await _checkpoint(db, cs, tmp_path / "k")
    async with db.write() as session:
        ledger = await lock_ledger(session, cs)
        rows = (await session.execute(select(FundEntry).order_by(col(FundEntry.seq)))).scalars().all()
        previous, balance = GENESIS, 0
        for row in rows:
            fields = hashed_fields(row) | {"prev_hash": previous}
            if row.number == "J2026-0002":
                fields["amount_fen"] = 1
            previous = entry_hash(fields)
            balance -= fields["amount_fen"]
            await session.execute(
                text("UPDATE fund_entry SET amount_fen = :a, prev_hash = :p, hash = :h WHERE id = :id"),
                {"a": fields["amount_fen"], "p": fields["prev_hash"], "h": previous, "id": row.id})
        await session.execute(text("UPDATE fund_ledger SET head_hash = :h, balance_fen = :b WHERE id = :id"),
                              {"h": previous, "b": balance, "id": ledger.id})
        await session.execute(text("UPDATE fund_day_total SET amount_fen = amount_fen - 199"))
    problem = (await _verify(db)).problem
    assert problem is not None
    assert (problem.code, problem.number) == ("checkpoint_mismatch", "J2026-0005")


async def test_a_later_checkpoint_must_extend_the_earlier(db: Database, tmp_path: Path) -> None:
    cs = await _ledger_of_five(db)
    await _checkpoint(db, cs, tmp_path / "k")
    key = load_or_create_key(tmp_path / "k")
    async with db.write() as session:
        ledger = await lock_ledger(session, cs)
        async with db.read() as reader:
            third = (await reader.execute(text("SELECT hash FROM fund_entry WHERE seq = 3"))).scalar_one()
        older = FundLedger(id=ledger.id, branch_id=cs, opened_on=ledger.opened_on, entry_count=3,
                           head_hash=third)
        await sign(session, older, key=key, key_path=tmp_path / "k", statement_id=None,
                   now=NOW.replace(hour=NOW.hour + 1))
    problem = (await _verify(db)).problem
    assert problem is not None
    assert (problem.code, problem.values["earlier"]) == ("checkpoint_regress", 5)


async def test_a_forged_checkpoint_signature_is_caught(db: Database, tmp_path: Path) -> None:
    cs = await _ledger_of_five(db)
    await _checkpoint(db, cs, tmp_path / "k")
    await _sql(db, "UPDATE fund_checkpoint SET entry_count = 4")
    problem = (await _verify(db)).problem
    assert problem is not None and problem.code == "checkpoint_signature"


async def test_the_key_is_made_once_and_a_second_key_is_refused(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "funds.key"
    keys = await asyncio.gather(*(asyncio.to_thread(load_or_create_key, path) for _ in range(8)))
    assert len({public_hex(k) for k in keys}) == 1
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["funds.key"]
    async with db.write() as session:
        await register(session, keys[0], path)
    other = load_or_create_key(tmp_path / "other.key")
    with pytest.raises(KeyProblem) as caught:
        async with db.write() as session:
            await register(session, other, tmp_path / "other.key")
    assert caught.value.code == "key_mismatch"


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("not a key")
    with pytest.raises(KeyProblem) as caught:
        load_or_create_key(path)
    assert caught.value.values == {"path": str(path)}


async def test_find_ledger_is_none_without_entries(db: Database) -> None:
    async with db.read() as session:
        assert await find_ledger(session, 1) is None
