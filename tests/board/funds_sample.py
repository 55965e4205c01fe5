"""经费 for the sample union (``tests.board.sample``): ledgers with published statements.

``fill_funds(db, sample, now=…, key_path=…)`` gives the first 分工会 two published quarterly
statements (the two quarters before ``now``'s) over entries with hostile descriptions
among them, a draft of the quarter after, and the union's own ledger one published
quarter. It returns the paths of the published statement pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from models.db import Database
from models.funds import statements as flow
from models.funds.categories import load_tree
from models.funds.checkpoints import load_or_create_key
from models.funds.figures import figures
from models.funds.ledger import NewEntry, append, lock_ledger, open_ledger
from models.funds.periods import Period, period_of
from models.funds.tables import Kind
from tests.board.sample import BRANCHES, IMG, LONG_WORD, SCRIPT, Sample

LINES = (  # kind, category, amount in 分, description
    (Kind.INCOME, "101", 1_250_000, "会费"),
    (Kind.INCOME, "102", 3_000_000, "拨缴经费"),
    (Kind.EXPENSE, "30102", 420_000, "教职工羽毛球赛"),
    (Kind.EXPENSE, "30104", 980_000, "节日慰问品"),
    (Kind.EXPENSE, "30201", 150_000, SCRIPT),
    (Kind.EXPENSE, "30301", 86_000, IMG),
    (Kind.EXPENSE, "30105", 33_300, LONG_WORD[:190]),
)


@dataclass(frozen=True, slots=True)
class FundsSample:
    pages: list[str]  # the published statements' pages
    draft: str  # the page of a statement not yet published (404)


def _quarters(now: datetime) -> tuple[Period, Period, Period]:
    current = period_of("quarter", now.date())
    return current.previous().previous(), current.previous(), current


async def _book(db: Database, branch: int, quarter: Period, now: datetime, scale: int) -> None:
    async with db.write() as session:
        ledger = await open_ledger(session, branch, opened_on=date(quarter.year - 1, 1, 1))
        for month in range(3):
            day = date(quarter.start.year, quarter.start.month + month, 10)
            for kind, code, amount, text in LINES:
                fen = amount * scale // 10 + month * 1000
                await append(session, ledger, NewEntry(kind=kind, amount_fen=fen, category_code=code,
                                                       description=text, occurred_on=day), now)


async def _publish(db: Database, branch: int, period: Period, key_path: Path, now: datetime) -> None:
    key = load_or_create_key(key_path)
    async with db.write() as session:
        ledger = await lock_ledger(session, branch)
        statement, _made = await flow.draft(session, ledger, period, by=None, now=now)
        figs = await figures(session, load_tree(), ledger, period)
        await flow.publish(session, statement, ledger, figs, key=key, key_path=key_path, by=None, now=now)


async def fill_funds(db: Database, sample: Sample, *, now: datetime, key_path: Path) -> FundsSample:
    branch = sample.branches[BRANCHES[0]]
    earlier, last, current = _quarters(now)
    await _book(db, branch, earlier, now, 10)
    await _publish(db, branch, earlier, key_path, now)
    await _book(db, branch, last, now, 12)
    await _publish(db, branch, last, key_path, now)
    async with db.write() as session:
        ledger = await lock_ledger(session, branch)
        await flow.draft(session, ledger, current, by=None, now=now)
    await _book(db, sample.root, last, now, 30)
    await _publish(db, sample.root, last, key_path, now)
    pages = [f"/board/funds/{earlier.key}?branch={branch}", f"/board/funds/{last.key}?branch={branch}",
             f"/board/funds/{last.key}"]
    return FundsSample(pages, f"/board/funds/{current.key}?branch={branch}")
