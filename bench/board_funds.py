"""公开栏 经费公示 at scale: a statement page over a ledger of 100,000 entries.

    .venv/bin/python bench/board_funds.py [--entries 100000] [--runs 200] [--cold-runs 5] [--pg DSN]

On SQLite (a temporary file), or with ``--pg`` in a temporary schema of that PostgreSQL database.

Seeds one branch ledger with 100,000 chained entries over 2025, publishing a statement
after each quarter (so four checkpoints) and then the yearly one (2025: every entry in
its period, twelve months, 2,000 pages of entries). Served over HTTP by the real board
sub-application; measured against a bare aiohttp page in the same run:

  * after publishing  a board that had checked Q3 opens the year's page just published:
                 the walk continues over the 25,000 entries recorded since

  * cold         a fresh server (templates already compiled): the chain recomputed
                 (100,000 entries) and the page built
  * verified     the chain's result cached, the page built again (database + templates)
  * cached       the page served from the board's page cache        target p99 < 50 ms
  * entries p2000  the last page of entries, built again (the deepest OFFSET)

and the longest the event loop was held while a cold page was being built (a ticker
records the CPU time spent between its 1 ms sleeps).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import insert, update

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.config import load_settings
from handlers import board
from models.base import table_of
from models.db import Database
from models.funds import statements as flow
from models.funds.categories import load_tree
from models.funds.chain import GENESIS, entry_hash, hashed_fields
from models.funds.checkpoints import load_or_create_key
from models.funds.figures import figures
from models.funds.ledger import lock_ledger
from models.funds.periods import parse_period
from models.funds.public import ledger_of
from models.funds.seals import seals_of, walk_chain
from models.funds.tables import FundDayTotal, FundEntry, FundLedger, entry_number
from models.migrate import upgrade
from models.org import Branch

YEAR = 2025
TREE = load_tree()
CODES = [c.code for c in TREE.by_code.values() if TREE.is_leaf(c.code)]
NOW = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


class Chain:
    """Entries appended in order, with their hashes and the per-day totals."""

    def __init__(self, ledger_id: int) -> None:
        self.ledger_id, self.count, self.head, self.balance = ledger_id, 0, GENESIS, 0

    def rows(self, how_many: int, start: date, end: date) -> list[dict[str, object]]:
        days, rows = (end - start).days, []
        for i in range(how_many):
            day = start + timedelta(days=i * days // how_many)
            self.count += 1
            code = CODES[self.count % len(CODES)]
            kind = TREE.by_code[code].kind
            row: dict[str, object] = {
                "ledger_id": self.ledger_id, "seq": self.count, "number": entry_number(YEAR, self.count),
                "kind": kind, "amount_fen": 100 + self.count % 50000, "category_code": code,
                "description": f"第{self.count}笔", "occurred_on": day,
                "recorded_at": datetime(YEAR, 1, 1, tzinfo=UTC), "recorded_by": None, "reverses_id": None,
                "transfer_key": None, "prev_hash": self.head,
            }
            row["hash"] = self.head = entry_hash(hashed_fields(row))
            self.balance += int(row["amount_fen"]) * (1 if kind == "income" else -1)  # type: ignore[call-overload]
            rows.append(row)
        return rows


def day_totals(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    totals: dict[tuple[object, ...], list[int]] = {}
    for row in rows:
        total = totals.setdefault((row["occurred_on"], row["kind"], row["category_code"]), [0, 0])
        total[0] += int(row["amount_fen"])  # type: ignore[call-overload]
        total[1] += 1
    return [{"ledger_id": rows[0]["ledger_id"], "day": day, "kind": kind, "category_code": code,
             "amount_fen": amount, "entries": count} for (day, kind, code), (amount, count) in totals.items()]


async def append_quarter(db: Database, chain: Chain, quarter: int, how_many: int) -> None:
    period = parse_period(f"{YEAR}Q{quarter}")
    rows = chain.rows(how_many, period.start, period.end)
    async with db.write() as session:
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(table_of(FundEntry)), rows[chunk:chunk + 5000])
        await session.execute(insert(table_of(FundDayTotal)), day_totals(rows))
        await session.execute(update(table_of(FundLedger)).values(
            entry_count=chain.count, head_hash=chain.head, balance_fen=chain.balance))


async def publish(db: Database, branch_id: int, period_key: str, key_path: Path, at: datetime) -> None:
    key = load_or_create_key(key_path)
    async with db.write() as session:
        ledger = await lock_ledger(session, branch_id)
        statement, _made = await flow.draft(session, ledger, parse_period(period_key), by=None, now=at)
        figs = await figures(session, TREE, ledger, parse_period(period_key))
        await flow.publish(session, statement, ledger, figs, key=key, key_path=key_path, by=None, now=at)


async def seed(db: Database, count: int, key_path: Path) -> int:
    """The ledger with Q1 to Q3 published and Q4's entries recorded (``publish_rest`` publishes
    Q4 and the year)."""
    async with db.write() as session:
        union = Branch(name="示范大学工会")
        session.add(union)
        await session.flush()
        branch = Branch(name="计算机学院分工会", parent_id=union.id)
        session.add(branch)
        await session.flush()
        ledger = FundLedger(branch_id=branch.id or 0, opened_on=date(YEAR, 1, 1))
        session.add(ledger)
        await session.flush()
        branch_id, chain = branch.id or 0, Chain(ledger.id or 0)
    for quarter in (1, 2, 3, 4):
        await append_quarter(db, chain, quarter, count // 4)
        if quarter < 4:
            await publish(db, branch_id, f"{YEAR}Q{quarter}", key_path, NOW + timedelta(minutes=quarter))
    return branch_id


async def publish_rest(db: Database, branch_id: int, key_path: Path) -> None:
    await publish(db, branch_id, f"{YEAR}Q4", key_path, NOW + timedelta(minutes=4))
    await publish(db, branch_id, str(YEAR), key_path, NOW + timedelta(minutes=10))


async def after_publishing(db: Database, tmp: str, branch_id: int, count: int) -> float:
    """A board that has checked Q3's page; Q4 and the year are published; the year's page:
    the new checkpoints checked by continuing the last walk over Q4's entries only."""
    async with TestServer(make_app(db, tmp)) as server, aiohttp.ClientSession() as http:
        await timed(http, str(server.make_url(f"/board/funds/{YEAR}Q3?branch={branch_id}")), 1)
        await publish_rest(db, branch_id, Path(tmp) / "funds.key")
        (took,) = await timed(http, str(server.make_url(f"/board/funds/{YEAR}?branch={branch_id}")), 1)
    print(f"{'first page after publishing':<34} {took:8.2f} ms   (the walk continued over the "
          f"{count // 4} entries recorded since Q3)")
    return took


def make_app(db: Database, tmp: str) -> web.Application:
    app = web.Application()
    app[SETTINGS] = load_settings(data={"union": {"name": "示范大学工会"}, "board": {"access": "public"},
                                        "funds": {"key_file": f"{tmp}/funds.key"}})
    app[DB] = db
    app[CLOCK] = time.time
    board.install(app)
    return app


def bare_app() -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><p>ok</p>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    return app


async def timed(http: aiohttp.ClientSession, url: str, runs: int, *, fresh: bool = False) -> list[float]:
    """Request ``url`` ``runs`` times; ``fresh``: with a query the page cache has not seen."""
    times, counter = [], itertools.count()
    for _ in range(runs):
        if fresh:
            url = f"{url.split('&r=')[0]}&r={next(counter)}"
        began = time.perf_counter()
        async with http.get(url) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        times.append((time.perf_counter() - began) * 1000)
    return times


def show(label: str, times: list[float], baseline: float, target: float | None = None) -> None:
    ordered = sorted(times)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    goal = "" if target is None else f"   target p99 < {target:g} ms {'ok' if p99 < target else 'MISSED'}"
    print(f"{label:<34} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  ({p50 / baseline:6.1f} × baseline){goal}")


async def loop_lag(work: asyncio.Future[object]) -> float:
    """The most CPU time the event loop's thread spent between two 1 ms sleeps while ``work``
    ran: how long other requests would have waited on an idle machine. (CPU time, not wall
    time, so that a busy machine descheduling the process does not count as a stall.)"""
    worst = 0.0
    while not work.done():
        began = time.thread_time()
        await asyncio.sleep(0.001)
        worst = max(worst, time.thread_time() - began)
    return worst * 1000


async def cold(db: Database, tmp: str, url_path: str) -> tuple[float, float]:
    """A fresh board (nothing cached): the page's time and the longest loop stall meanwhile."""
    async with TestServer(make_app(db, tmp)) as server, aiohttp.ClientSession() as http:
        began = time.perf_counter()
        task = asyncio.ensure_future(timed(http, str(server.make_url(url_path)), 1))
        lag = await loop_lag(task)
        await task
        return (time.perf_counter() - began) * 1000, lag


async def walk_alone(db: Database, branch_id: int) -> tuple[float, float]:
    """The chain's walk by itself: its time and the longest the event loop was held meanwhile."""
    async with db.read() as session:
        ledger = await ledger_of(session, branch_id)
        assert ledger is not None and ledger.id is not None
        counts = {seal.entry_count for seal in await seals_of(session, ledger.id)}
        began = time.perf_counter()
        task = asyncio.ensure_future(walk_chain(session, ledger.id, counts))
        lag = await loop_lag(task)
        assert (await task).broken is None
        return (time.perf_counter() - began) * 1000, lag


async def measure(db: Database, tmp: str, branch_id: int, args: argparse.Namespace) -> None:
    page = f"/board/funds/{YEAR}?branch={branch_id}"
    async with TestServer(bare_app()) as bare, aiohttp.ClientSession() as http:
        baseline = statistics.median(await timed(http, str(bare.make_url("/")), args.runs))
    print(f"{'baseline: bare aiohttp page':<34} p50 {baseline:8.2f} ms")
    await after_publishing(db, tmp, branch_id, args.entries)  # also compiles the templates
    colds = [await cold(db, tmp, page) for _ in range(args.cold_runs)]
    show("cold (chain recomputed)", [c[0] for c in colds], baseline)
    print(f"{'  longest event-loop stall':<34} {max(c[1] for c in colds):8.2f} ms")
    walks = [await walk_alone(db, branch_id) for _ in range(args.cold_runs)]
    print(f"{'walk of the chain alone':<34} p50 {statistics.median(w[0] for w in walks):8.2f} ms   "
          f"longest event-loop stall {max(w[1] for w in walks):.2f} ms")
    app = make_app(db, tmp)
    async with TestServer(app) as server, aiohttp.ClientSession() as http:
        url = str(server.make_url(page))
        await timed(http, url, 1)
        show("verified, page built again", await timed(http, url, args.runs, fresh=True), baseline)
        show("cached", await timed(http, url, args.runs), baseline, 50)
        deep = str(server.make_url(f"{page}&page={args.entries // 50}"))
        show(f"entries page {args.entries // 50}, built again",
             await timed(http, deep, max(args.runs // 4, 5), fresh=True), baseline)


@contextlib.asynccontextmanager
async def database(tmp: str, pg: str | None) -> AsyncIterator[Database]:
    """A migrated SQLite file in ``tmp``, or a fresh schema of the PostgreSQL database ``pg``."""
    if pg is None:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        yield db
        await db.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(pg)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    db = Database(pg.replace("postgresql://", "postgresql+asyncpg://", 1),
                  connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(db)
        yield db
    finally:
        await db.dispose()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--pg", metavar="DSN", help="e.g. postgresql://postgres@127.0.0.1:5432/test "
                        "(a temporary schema there) instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with database(tmp, args.pg) as db:
            began = time.perf_counter()
            branch_id = await seed(db, args.entries, Path(tmp) / "funds.key")
            print(f"{db.dialect}: seeded {args.entries} chained entries, Q1 to Q3 published, in "
                  f"{time.perf_counter() - began:.1f} s")
            await measure(db, tmp, branch_id, args)


if __name__ == "__main__":
    asyncio.run(main())
