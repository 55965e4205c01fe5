"""金点子 under load, in process, on SQLite.

    .venv/bin/python bench/ideas.py [--ideas 5000] [--supports 100000] [--members 3000]
                                    [--concurrency 16] [--repeat 30]

Seeds a year of ``--ideas`` ideas (one in four anonymous) and ``--supports`` supports by
``--members`` members, then prints:
  * 点子榜: the ranking's first page and a deep page through the whole pipeline
    (dedup record, identity, routing, the count and one ranked page), p50 and max;
  * 点子 <编号>: one idea with its support state;
  * baseline: one bare write transaction per message (INSERT one row), the floor the
    database sets on this machine, measured in the same run;
  * 支持: ``--members`` members supporting one new idea at once through the pipeline
    (the support row, the counter, the reply), messages/s and latency percentiles.
Targets (issue #16): 点子榜 under 50 ms; 支持 throughput reported against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from events import message, timed
from load import run
from sqlalchemy import insert, select, text

from bot.config import load_settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.ideas.pseudonym import pseudonyms
from models.ideas.tables import Idea, IdeaCounter, IdeaSupport
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberRole

CHANNEL = "onebot"


async def seed_members(db: Database, count: int) -> list[int]:
    async with db.write() as session:
        branch = Branch(name="示范大学工会")
        session.add(branch)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": f"{100000 + i}", "name": f"会员{i}", "branch_id": branch.id} for i in range(count)
        ])
        ids = dict((await session.execute(select(Member.staff_no, Member.id))).tuples().all())
        await session.execute(insert(MemberRole), [{"member_id": i, "role": "member"} for i in ids.values()])
        await session.execute(insert(Account), [
            {"channel": CHANNEL, "external_id": f"qq{i}", "member_id": ids[f"{100000 + i}"]}
            for i in range(count)
        ])
        return [ids[f"{100000 + i}"] for i in range(count)]


async def seed_ideas(db: Database, members: list[int], ideas: int, supports: int, key: Path) -> None:
    keys, now, rng = pseudonyms(key), datetime.now(UTC), random.Random(16)
    year = datetime.now().year
    pairs = rng.sample(range(ideas * len(members)), supports)
    counts = [0] * ideas
    for pair in pairs:
        counts[pair // len(members)] += 1
    rows = []
    for seq in range(1, ideas + 1):
        author, anonymous = members[seq % len(members)], seq % 4 == 0
        rows.append({
            "number": f"D{seq}", "seq": seq, "year": year, "round_id": None, "branch_id": 1,
            "anonymous": anonymous, "member_id": None if anonymous else author,
            "author_tag": keys.author(author) if anonymous else None,
            "dup_tag": keys.duplicate(author, f"点子{seq}"), "title": f"第{seq}条点子",
            "content": f"第{seq}条点子的内容", "status": "open", "support_count": counts[seq - 1],
            "submitted_at": now,
        })
    async with db.write() as session:
        await session.execute(insert(Idea), rows)
        await session.execute(insert(IdeaCounter), [{"name": "idea", "seq": ideas}])
        await session.execute(insert(IdeaSupport), [
            {"idea_id": pair // len(members) + 1, "member_id": members[pair % len(members)], "round_id": None,
             "year": year, "at": now} for pair in pairs
        ])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ideas", type=int, default=5000)
    parser.add_argument("--supports", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    n, c = args.members, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        members = await seed_members(db, n)
        await seed_ideas(db, members, args.ideas, args.supports, Path(tmp) / "ideas.key")
        settings = load_settings(data={"ideas": {"key_file": f"{tmp}/ideas.key"}})
        pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
        target = f"D{args.ideas + 1}"
        created = await pipeline.handle(message("qq0", "点子 体育馆中午向教职工免费开放", "new"))
        assert created is not None and created.text.startswith(f"收到你的金点子，编号 {target}"), created
        views = iter(range(1_000_000))

        async def board(page: int) -> None:
            reply = await pipeline.handle(message("qq1", f"点子榜 {page}", f"b{next(views)}"))
            assert reply is not None and reply.text.startswith("金点子榜"), reply

        async def detail() -> None:
            reply = await pipeline.handle(message("qq1", "点子 D77", f"d{next(views)}"))
            assert reply is not None and reply.text.startswith("点子 D77"), reply

        async def bare(i: int) -> None:
            async with db.write() as session:
                await session.execute(text("INSERT INTO audit_log (at, actor, action, target) "
                                           "VALUES (CURRENT_TIMESTAMP, 'bench', 'bench', :t)"), {"t": str(i)})

        async def support(i: int) -> None:
            reply = await pipeline.handle(message(f"qq{i + 1}", f"支持 {target}", f"s{i}"))
            assert reply is not None and reply.text.startswith(f"已支持 {target}"), reply

        print(f"SQLite, {args.ideas} ideas, {args.supports} supports by {n} members, {c} concurrent")
        first = await timed("点子榜 (page 1)", args.repeat, lambda: board(1))
        deep = await timed("点子榜 (page 400)", args.repeat, lambda: board(400))
        await timed("点子 D77", args.repeat, detail)
        base = await run("baseline (bare write txn)", n - 1, c, bare)
        rate = await run("支持 (through the pipeline)", n - 1, c, support)
        print(f"支持 / baseline = {rate / base:.2f}")
        print(f"target: 点子榜 < 50 ms: {'ok' if max(first, deep) < 50 else 'MISSED'}")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
