"""In-process dispatch through the whole pipeline, on SQLite.

    .venv/bin/python bench/pipeline.py [--messages 4000] [--concurrency 16]

Prints messages/s and latency percentiles for
  * baseline: one bare write transaction per message (INSERT one row), the floor
    the database sets on this machine;
  * 记录: the smallest writing command (one audit row), sent by bound members;
  * 绑定: binding an account: four lookups, the account row and its audit entry;
  * 帮助: a read-only command (still writes its dedup record).
Target (issue #2): a command that writes one row ≥ 2,000 messages/s with p99 < 20 ms.

Sixteen senders are enough to keep SQLite's single writer busy; latency is then
about senders ÷ rate (Little's law), so more senders only add queueing time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile

from load import run
from sqlalchemy import insert, text

from bot.config import load_settings
from bot.context import Context
from bot.messages import Incoming
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.registry import Command
from handlers import build_registry
from models.db import Database
from models.migrate import upgrade
from models.org import Branch, Member, MemberRole


async def seed(db: Database, count: int) -> None:
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": f"{100000 + i}", "name": f"会员{i}", "branch_id": branch.id}
            for i in range(count)
        ])
        await session.execute(insert(MemberRole), [
            {"member_id": i + 1, "role": "member"} for i in range(count)
        ])


async def write_one_row(ctx: Context, args: str) -> str:
    """The smallest writing command: one audit row."""
    await ctx.audit("bench", "bench", after=args)
    return "已记录"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    n, c = args.messages, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        await seed(db, n)
        settings = load_settings(data={})
        registry = build_registry()
        registry.add(Command(name="记录", handler=write_one_row, summary="写一行审计记录",
                             usage="记录 <内容>", example="记录 测试"))
        pipeline = Pipeline(db=db, settings=settings, registry=registry, metrics=Metrics())

        async def bare(i: int) -> None:
            async with db.write() as session:
                await session.execute(
                    text("INSERT INTO audit_log (at, actor, action, target) "
                         "VALUES (CURRENT_TIMESTAMP, 'bench', 'bench', :t)"),
                    {"t": str(i)},
                )

        def msg(i: int, words: str, prefix: str) -> Incoming:
            return Incoming(channel="onebot", chat_id=f"p{i}", chat_type="private",
                            sender_id=f"qq{i}", text=words, message_id=f"{prefix}{i}")

        async def bind(i: int) -> None:
            reply = await pipeline.handle(msg(i, f"绑定 {100000 + i} 会员{i}", "b"))
            assert reply is not None and reply.text.startswith("绑定成功"), reply

        async def one_row(i: int) -> None:
            reply = await pipeline.handle(msg(i, f"记录 {i}", "r"))
            assert reply is not None and reply.text == "已记录", reply

        async def help_(i: int) -> None:
            reply = await pipeline.handle(msg(i, "帮助", "h"))
            assert reply is not None and "可以使用的命令" in reply.text, reply

        print(f"SQLite, {n} messages, {c} concurrent senders")
        base = await run("baseline (bare write txn)", n, c, bare)
        write = await run("绑定 (reads 4, writes 2 rows)", n, c, bind)
        one = await run("记录 (bound member, 1 row)", n, c, one_row)
        await run("帮助 (read-only)", n, c, help_)
        print(f"记录 / baseline = {one / base:.2f}, 绑定 / baseline = {write / base:.2f}")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
