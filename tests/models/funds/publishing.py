"""Publishing statements and tampering with a ledger, for the tests of what the board shows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlmodel import col

from models.db import Database
from models.funds import statements as flow
from models.funds.categories import CategoryTree, load_tree
from models.funds.chain import GENESIS, entry_hash, hashed_fields
from models.funds.checkpoints import load_or_create_key
from models.funds.figures import figures
from models.funds.ledger import lock_ledger
from models.funds.periods import parse_period
from models.funds.tables import FundEntry, FundStatement, Kind
from tests.models.funds.support import book


async def publish(db: Database, branch: int, period_key: str, key_path: Path, *,
                  now: datetime = datetime(2026, 12, 5, 4, 0, tzinfo=UTC),
                  tree: CategoryTree | None = None) -> FundStatement:
    """Draft and publish ``period_key``'s statement of ``branch`` with a signed checkpoint."""
    period = parse_period(period_key)
    key = load_or_create_key(key_path)
    async with db.write() as session:
        ledger = await lock_ledger(session, branch)
        statement, _made = await flow.draft(session, ledger, period, by=None, now=now)
        figs = await figures(session, tree or load_tree(), ledger, period)
        await flow.publish(session, statement, ledger, figs, key=key, key_path=key_path, by=None, now=now)
        return statement


async def draft(db: Database, branch: int, period_key: str) -> FundStatement:
    async with db.write() as session:
        ledger = await lock_ledger(session, branch)
        statement, _made = await flow.draft(session, ledger, parse_period(period_key), by=None,
                                            now=datetime(2026, 12, 5, 4, 0, tzinfo=UTC))
        return statement


async def book_quarter(db: Database, branch: int, month: int, *, income: int = 50_000,
                       expense: int = 12_000) -> None:
    """One 会费 income and one 文体活动 expense on the 10th of ``month`` of 2026."""
    day = date(2026, month, 10)
    await book(db, branch, income, kind=Kind.INCOME, code="101", day=day, text=f"{month}月会费")
    await book(db, branch, expense, day=day, text=f"{month}月羽毛球赛")


async def sql(db: Database, *statements: str) -> None:
    async with db.write_engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


async def rewrite_chain(db: Database, ledger_id: int) -> None:
    """Recompute every hash of the ledger after an edit, as a forger would (no key to re-sign)."""
    async with db.write() as session:
        entries = (await session.execute(select(FundEntry).where(col(FundEntry.ledger_id) == ledger_id)
                                         .order_by(col(FundEntry.seq)))).scalars().all()
        previous = GENESIS
        for entry in entries:
            entry.prev_hash = previous
            entry.hash = previous = entry_hash(hashed_fields(entry))
        await session.flush()
        await session.execute(text("UPDATE fund_ledger SET head_hash = :h WHERE id = :i"),
                              {"h": previous, "i": ledger_id})
