"""活动报名 under load, in process, on SQLite.

    .venv/bin/python bench/events.py [--members 2000] [--concurrency 16] [--repeat 20]

Prints, for one event that ``--members`` people sign up for (a quarter of them end up
on the waitlist):
  * baseline: one bare write transaction per message (INSERT one row), the floor the
    database sets on this machine, measured in the same run;
  * 帮助 我: a command that only reads, the floor the pipeline itself sets (dedup record,
    identity, dialog look-up, routing, the reply) on this machine;
  * 报名: sign-ups through the whole pipeline (dedup, identity, routing, the event's
    lock, place or waitlist, the reply), messages/s and latency percentiles;
  * 名单: the officer's roster of the full event through the pipeline, every line shown;
  * 导出: building the XLSX and the CSV file of the full roster (read + build).
Targets (issue #5): ≥ 1,000 sign-ups/s with p99 < 50 ms; 名单 of 2,000 < 100 ms;
export of 2,000 rows < 1 s.

Sixteen senders are enough to keep SQLite's single writer busy; latency is then
about senders ÷ rate (Little's law), so more senders only add queueing time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from load import percentiles, run
from sqlalchemy import insert, select, text

from bot.config import load_settings
from bot.messages import Incoming
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.events.export import export_roster
from models.events.queries import event_by_number
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberRole

CHANNEL = "onebot"


async def seed(db: Database, count: int) -> None:
    """``count`` members bound as ``qq0`` … and one officer bound as ``officer``."""
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        rows = [
            {"staff_no": f"{100000 + i}", "name": f"会员{i}", "branch_id": branch.id} for i in range(count)
        ]
        rows.append({"staff_no": "900000", "name": "王干部", "branch_id": branch.id})
        await session.execute(insert(Member), rows)
        ids = dict((await session.execute(select(Member.staff_no, Member.id))).tuples().all())
        await session.execute(insert(MemberRole), [
            {"member_id": member_id, "role": "member"} for member_id in ids.values()
        ] + [{"member_id": ids["900000"], "role": "officer"}])
        await session.execute(insert(Account), [
            {"channel": CHANNEL, "external_id": f"qq{i}", "member_id": ids[f"{100000 + i}"]}
            for i in range(count)
        ] + [{"channel": CHANNEL, "external_id": "officer", "member_id": ids["900000"]}])


async def timed(label: str, repeat: int, one: Callable[[], Awaitable[object]]) -> float:
    latencies = []
    for _ in range(repeat):
        started = time.perf_counter()
        await one()
        latencies.append(time.perf_counter() - started)
    p50, _p99 = percentiles(latencies)
    print(f"{label:<34} p50 {p50:7.1f} ms   max {max(latencies) * 1000:7.1f} ms   ({repeat} runs)")
    return p50


def message(sender: str, words: str, message_id: str) -> Incoming:
    return Incoming(channel=CHANNEL, chat_id=f"p-{sender}", chat_type="private",
                    sender_id=sender, text=words, message_id=message_id)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    n, c = args.members, args.concurrency
    capacity = max(1, n * 3 // 4)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        await seed(db, n)
        settings = load_settings(data={"events": {"roster_max_lines": 5000}})
        pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
        created = await pipeline.handle(message(
            "officer", f"发起活动 教职工运动会 时间 下周六 9:00 地点 田径场 名额 {capacity}", "create"
        ))
        assert created is not None and created.text.startswith("已发起活动 A1"), created

        async def bare(i: int) -> None:
            async with db.write() as session:
                await session.execute(
                    text("INSERT INTO audit_log (at, actor, action, target) "
                         "VALUES (CURRENT_TIMESTAMP, 'bench', 'bench', :t)"),
                    {"t": str(i)},
                )

        async def floor(i: int) -> None:
            reply = await pipeline.handle(message(f"qq{i}", "帮助 我", f"h{i}"))
            assert reply is not None and reply.text.startswith("我："), reply

        async def sign_up(i: int) -> None:
            reply = await pipeline.handle(message(f"qq{i}", "报名 A1", f"s{i}"))
            assert reply is not None and ("报名成功" in reply.text or "候补" in reply.text), reply

        rounds = iter(range(1_000_000))

        async def roster() -> None:
            reply = await pipeline.handle(message("officer", "名单 A1", f"r{next(rounds)}"))
            assert reply is not None and reply.text.count("\n") >= n, reply.text[:200]

        async def export(fmt: str) -> None:
            async with db.read() as session:
                event = await event_by_number(session, 1)
                assert event is not None
                built = await export_roster(session, event, tz=ZoneInfo("Asia/Shanghai"), fmt=fmt)
            assert built.rows == n

        print(f"SQLite, {n} members signing up for one event of {capacity} places, {c} concurrent")
        base = await run("baseline (bare write txn)", n, c, bare)
        pipeline_floor = await run("帮助 我 (pipeline floor)", n, c, floor)
        rate = await run("报名 (through the pipeline)", n, c, sign_up)
        roster_ms = await timed(f"名单 of {n} (all lines)", args.repeat, roster)
        xlsx_ms = await timed(f"导出 XLSX of {n} rows", max(3, args.repeat // 4), lambda: export("xlsx"))
        await timed(f"导出 CSV of {n} rows", max(3, args.repeat // 4), lambda: export("csv"))
        print(f"报名 / baseline = {rate / base:.2f}, 报名 / pipeline floor = {rate / pipeline_floor:.2f}")
        print(f"targets: 报名 ≥ 1000/s: {'ok' if rate >= 1000 else 'MISSED'}; "
              f"名单 < 100 ms: {'ok' if roster_ms < 100 else 'MISSED'}; "
              f"导出 < 1 s: {'ok' if xlsx_ms < 1000 else 'MISSED'} (p99 of 报名 is printed above)")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
