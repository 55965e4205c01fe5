"""What the fund tests share: branches, a fixed clock, recording in one call."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models.db import Database
from models.funds.ledger import NewEntry, record
from models.funds.tables import FundEntry, Kind
from tests.factories import get_branch

UNION = "示范大学工会"
CS = "计算机学院分工会"
NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
TODAY = date(2026, 12, 5)


async def branch_id(db: Database, name: str) -> int:
    async with db.write() as session:
        branch = await get_branch(session, name)
        assert branch.id is not None
        return branch.id


async def book(
    db: Database, branch: int, amount: int, *, kind: Kind = Kind.EXPENSE, code: str = "30102",
    day: date = TODAY, text: str = "羽毛球赛奖品",
) -> FundEntry:
    async with db.write() as session:
        entry, _ledger = await record(session, branch, NewEntry(
            kind=kind, amount_fen=amount, category_code=code, description=text, occurred_on=day,
        ), now=NOW, today=TODAY)
    return entry
