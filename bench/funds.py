"""经费 at scale: one ledger of 100,000 entries, through the whole pipeline, on SQLite.

    .venv/bin/python bench/funds.py [--entries 100000] [--runs 30]

Seeds a branch ledger with 100,000 chained entries spread over this year, then measures,
against a baseline measured in the same run (reading every entry of the ledger):
  * 经费             (a member: balance and this year's totals)  target p50 < 100 ms
  * 经费公示 <年>     (an officer: the yearly statement draft)     target p50 < 100 ms
  * funds verify     (recompute the whole chain)                  target < 5 s
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from bot.config import load_settings
from bot.messages import Incoming
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.base import table_of
from models.db import Database
from models.funds.categories import load_tree
from models.funds.chain import GENESIS, entry_hash, hashed_fields
from models.funds.tables import FundDayTotal, FundEntry, FundLedger, entry_number
from models.funds.verify import verify_all
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberRole

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
YEAR = TODAY.year
CODES = [c.code for c in load_tree().by_code.values() if load_tree().is_leaf(c.code)]


def entries(ledger_id: int, count: int) -> tuple[list[dict[str, object]], str, int]:
    """``count`` chained entries over this year, their head hash and the balance."""
    start, days = date(YEAR, 1, 1), max((TODAY - date(YEAR, 1, 1)).days, 1)
    recorded = datetime(YEAR, 1, 1, tzinfo=UTC)
    rows, previous, balance = [], GENESIS, 0
    tree = load_tree()
    for seq in range(1, count + 1):
        code = CODES[seq % len(CODES)]
        kind = tree.by_code[code].kind
        row: dict[str, object] = {
            "ledger_id": ledger_id, "seq": seq, "number": entry_number(YEAR, seq), "kind": kind,
            "amount_fen": 100 + seq % 50000, "category_code": code, "description": f"第{seq}笔",
            "occurred_on": start + timedelta(days=seq * days // (count + 1)), "recorded_at": recorded,
            "recorded_by": None, "reverses_id": None, "transfer_key": None, "prev_hash": previous,
        }
        row["hash"] = previous = entry_hash(hashed_fields(row))
        balance += int(row["amount_fen"]) * (1 if kind == "income" else -1)  # type: ignore[call-overload]
        rows.append(row)
    return rows, previous, balance


def day_totals(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The per-day totals the ledger keeps for these entries."""
    totals: dict[tuple[object, ...], list[int]] = {}
    for row in rows:
        total = totals.setdefault((row["occurred_on"], row["kind"], row["category_code"]), [0, 0])
        total[0] += int(row["amount_fen"])  # type: ignore[call-overload]
        total[1] += 1
    return [{"ledger_id": rows[0]["ledger_id"], "day": day, "kind": kind, "category_code": code,
             "amount_fen": amount, "entries": count} for (day, kind, code), (amount, count) in totals.items()]


async def seed(db: Database, count: int) -> None:
    now = datetime.now(UTC)
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": "1", "name": "会员", "branch_id": branch.id},
            {"staff_no": "2", "name": "干部", "branch_id": branch.id}])
        await session.execute(insert(MemberRole), [
            {"member_id": 1, "role": "member"}, {"member_id": 2, "role": "member"},
            {"member_id": 2, "role": "officer"}])
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": "m", "member_id": 1, "bound_at": now},
            {"channel": "onebot", "external_id": "o", "member_id": 2, "bound_at": now}])
        ledger = FundLedger(branch_id=branch.id or 0, opened_on=date(YEAR, 1, 1))
        session.add(ledger)
        await session.flush()
        rows, head, balance = entries(ledger.id or 0, count)
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(table_of(FundEntry)), rows[chunk:chunk + 5000])
        await session.execute(insert(table_of(FundDayTotal)), day_totals(rows))
        await session.execute(update(table_of(FundLedger)).values(
            entry_count=count, head_hash=head, balance_fen=balance))


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await work()
        times.append((time.perf_counter() - began) * 1000)
    return times


def show(label: str, times: list[float], target: float | None, baseline: float) -> None:
    p50 = statistics.median(times)
    verdict = "" if target is None else ("  ok" if p50 < target else "  MISSED")
    goal = f"   target < {target:g} ms" if target is not None else ""
    print(f"{label:<28} p50 {p50:8.1f} ms   ({p50 / baseline:5.2f} × baseline){goal}{verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        began = time.perf_counter()
        await seed(db, args.entries)
        print(f"seeded {args.entries} chained entries in {time.perf_counter() - began:.1f} s")
        settings = load_settings(data={"union": {"name": "示范大学工会"}, "scheduler": {"enabled": False},
                                       "security": {"replay_window_seconds": 0},
                                       "funds": {"key_file": f"{tmp}/funds.key", "publish": "yearly"}})
        pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
        counter = iter(range(10**9))

        async def say(who: str, text: str) -> None:
            reply = await pipeline.handle(Incoming(
                channel="onebot", chat_id=f"private:{who}", chat_type="private", sender_id=who, text=text,
                message_id=f"b{next(counter)}", mentions_bot=False))
            assert reply is not None and "出了点问题" not in reply.text, reply

        async def read_all() -> None:
            async with db.read() as session:
                rows = (await session.execute(select(*table_of(FundEntry).c))).all()
                assert len(rows) == args.entries

        async def verify() -> None:
            async with db.read() as session:
                (report,) = await verify_all(session, None)
                assert report.problem is None and report.entries == args.entries

        baseline = statistics.median(await timed(read_all, 5))
        print(f"{'baseline: read every entry':<28} p50 {baseline:8.1f} ms")
        show("经费 (member)", await timed(lambda: say("m", "经费"), args.runs), 100, baseline)
        show(f"经费公示 {YEAR} (officer)", await timed(lambda: say("o", f"经费公示 {YEAR}"), args.runs), 100,
             baseline)
        show("funds verify", await timed(verify, 3), 5000, baseline)
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
