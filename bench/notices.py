"""公告 and 公示 at the scale of a large university, through the whole pipeline, on SQLite.

    .venv/bin/python bench/notices.py [--groups 1000] [--notices 5000] [--runs 20]

Seeds 1,000 QQ groups, a 校工会 officer and 5,000 notices (公告 and 公示 of several branches),
then measures, each through ``Pipeline.handle`` as a person sends it:
  * 公告 <内容>        (the officer; one copy queued per group)         target < 1 s
      baselines, same run: 广播 <内容> to the same 1,000 groups, and 1,000 messages queued
      one statement each in one transaction (how a broadcast was queued before ``enqueue_many``)
  * 公示               (a member's first page of the list)             target < 50 ms
  * 公示 2             (the second page)                               target < 50 ms
      baseline, same run: 我 (a read-only command of one row)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.config import load_settings
from bot.messages import Incoming, Reply
from bot.metrics import Metrics
from bot.outbox.queue import Target, enqueue
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.migrate import upgrade
from models.notices.tables import Notice, NoticeCounter
from models.org import Account, Branch, Chat, Member, MemberRole

BRANCHES = 20
NOW = datetime.now(UTC)


async def seed(db: Database, groups: int, notices: int) -> None:
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        await session.execute(insert(Branch), [
            {"name": f"第{i}分工会", "parent_id": root.id} for i in range(BRANCHES)])
        await session.execute(insert(Member), [
            {"staff_no": "1", "name": "校干部", "branch_id": root.id},
            {"staff_no": "2", "name": "会员", "branch_id": root.id + 1},
        ])
        await session.execute(insert(MemberRole), [
            {"member_id": 1, "role": "member"}, {"member_id": 1, "role": "officer"},
            {"member_id": 2, "role": "member"},
        ])
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": "qq1", "member_id": 1, "bound_at": NOW},
            {"channel": "onebot", "external_id": "qq2", "member_id": 2, "bound_at": NOW},
        ])
        await session.execute(insert(Chat), [
            {"channel": "onebot", "chat_id": str(100000 + i), "chat_type": "group", "name": f"群{i}",
             "branch_id": root.id + 1 + i % BRANCHES, "first_seen": NOW}
            for i in range(groups)
        ])
        await session.execute(insert(Notice), [_notice(seq, root.id or 1) for seq in range(1, notices + 1)])
        await session.execute(insert(NoticeCounter), [
            {"prefix": "S", "seq": notices // 2}, {"prefix": "G", "seq": notices - notices // 2}])


def _notice(seq: int, root: int) -> dict[str, object]:
    disclosure = seq % 2 == 0
    published = NOW - timedelta(hours=seq)
    number = seq // 2 if disclosure else (seq + 1) // 2
    return {
        "number": f"{'S' if disclosure else 'G'}{number}",
        "kind": "disclosure" if disclosure else "announcement", "seq": number,
        "branch_id": root + seq % (BRANCHES + 1), "author_id": 1,
        "title": f"第{seq}号公示" if disclosure else "",
        "body": "内容" * 50, "category": "院务" if disclosure else None, "state": "published",
        "publish_at": published, "published_at": published,
        "ends_at": published + timedelta(days=7) if disclosure else None, "estimated": False,
        "created_at": published,
    }


def _message(sender: str, text: str, message_id: str) -> Incoming:
    return Incoming(channel="onebot", chat_id=f"private:{sender}", chat_type="private", sender_id=sender,
                    text=text, message_id=message_id)


async def timed(label: str, runs: int, call: Callable[[int], Awaitable[object]], target_ms: float | None,
                baseline: float | None = None) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    target = f"   target < {target_ms:g} ms {'OK' if median < target_ms else 'MISSED'}" if target_ms else ""
    ratio = f"   {median / baseline:5.1f}× baseline" if baseline else ""
    print(f"{label:<40} median {median:8.1f} ms   p95 {p95:8.1f} ms{ratio}{target}")
    return median


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data={
            "database": {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"}, "scheduler": {"enabled": False},
            "onebot": {"enabled": True, "api_url": "http://127.0.0.1:9"},
        })
        db = Database(settings.database.url)
        await upgrade(db)
        await seed(db, args.groups, args.notices)
        print(f"seeded {args.groups} groups and {args.notices} notices")
        pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())

        async def send(sender: str, text: str, message_id: str) -> str:
            reply = await pipeline.handle(_message(sender, text, message_id))
            assert reply is not None, text
            return reply.text

        async def broadcast(i: int) -> None:
            reply = await send("qq1", f"广播 第{i}次全校通知", f"b{i}")
            assert reply.startswith(f"已安排发送到 {args.groups} 个群"), reply

        async def announce(i: int) -> None:
            assert "已安排发送到" in await send("qq1", f"公告 第{i}次全校公告", f"g{i}")

        async def one_by_one(i: int) -> None:
            async with db.write() as session:
                for g in range(args.groups):
                    await enqueue(session, settings=settings, key=f"one:{i}:{g}",
                                  target=Target("onebot", "group", str(100000 + g)), reply=Reply("通知"))

        runs = max(3, args.runs // 4)
        await timed(f"baseline: {args.groups} enqueue() one by one", runs, one_by_one, None)
        base = await timed(f"baseline: 广播 to {args.groups} groups", runs, broadcast, None)
        await timed(f"公告 to {args.groups} groups", runs, announce, 1000, base)
        me = await timed("baseline: 我", args.runs, lambda i: send("qq2", "我", f"m{i}"), None)
        await timed(f"公示 (page 1 of {args.notices // 2})", args.runs,
                    lambda i: send("qq2", "公示", f"l{i}"), 50, me)
        await timed("公示 2 (page 2)", args.runs, lambda i: send("qq2", "公示 2", f"p{i}"), 50, me)
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
