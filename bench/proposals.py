"""教代会提案 at the scale of a large university, through the whole pipeline, on SQLite.

    .venv/bin/python bench/proposals.py [--proposals 10000] [--cosigns 30000] [--filings 3000]

Seeds a year with 10,000 proposals in every status and 30,000 co-signatures, then
measures, each through ``Pipeline.handle`` as an officer or member sends it:
  * 提案统计         (officer, the whole year, per department)     target < 200 ms
  * 提案列表          (a member's first page, a deep page, a status) target < 50 ms
  * 提案 <编号>       (one proposal with its timeline), for reference
  * filing           (提案 标题：… 理由：… 建议：…, 32 concurrent representatives)
                                                                   target ≥ 500 filings/s
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

from sqlalchemy import insert

from bot.config import load_settings
from bot.messages import Incoming
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberRole
from models.proposals.tables import (
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    Status,
    format_number,
)

DEPARTMENTS = ["教务处", "人事处", "科研处", "财务处", "后勤管理处", "国有资产管理处", "学生工作处"]
STATUS_MIX = [Status.CLOSED] * 4 + [Status.REPLIED, Status.ACCEPTED, Status.ACCEPTED, Status.REJECTED,
                                    Status.CONVERTED, Status.WITHDRAWN, Status.REVIEW, Status.COSIGNING]
REPRESENTATIVES = 300
YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year  # the year 提案统计 shows by default


async def seed(db: Database, proposals: int, cosigns: int, filers: int) -> None:
    now = datetime(YEAR, 3, 1, tzinfo=UTC)
    people = REPRESENTATIVES + filers + 2
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": f"{100000 + i}", "name": f"代表{i}", "branch_id": branch.id,
             "department": DEPARTMENTS[i % len(DEPARTMENTS)]}
            for i in range(people)
        ])
        roles = [{"member_id": i + 1, "role": "member"} for i in range(people)]
        roles += [{"member_id": i + 1, "role": "representative"} for i in range(REPRESENTATIVES + filers)]
        roles += [{"member_id": people - 1, "role": "officer"}]
        await session.execute(insert(MemberRole), roles)
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": f"qq{i + 1}", "member_id": i + 1, "bound_at": now}
            for i in range(people)
        ])
        counts = [0] * (proposals + 1)
        signatures = []
        for i in range(cosigns):
            proposal_id = i % proposals + 1
            member_id = (proposal_id + 1 + i // proposals) % REPRESENTATIVES + 1  # never the proposer
            signatures.append({"proposal_id": proposal_id, "member_id": member_id, "at": now})
            counts[proposal_id] += 1
        rows, assignments = [], []
        for seq in range(1, proposals + 1):
            status = STATUS_MIX[seq % len(STATUS_MIX)]
            admitted = status in (Status.ACCEPTED, Status.REPLIED, Status.CLOSED)
            lead = DEPARTMENTS[seq % len(DEPARTMENTS)] if admitted else None
            rows.append({
                "number": format_number(YEAR, seq), "year": YEAR, "seq": seq, "round_id": None,
                "title": f"关于改进第{seq}项工作的提案", "reason": "现状和问题" * 20,
                "suggestion": "具体建议" * 20,
                "category": None, "proposer_id": seq % REPRESENTATIVES + 1, "status": status.value,
                "cosigner_count": counts[seq], "filed_at": now, "handling_round": 1, "updated_at": now,
                "lead_department": lead,
                "deadline": date(YEAR, 4, 1) + timedelta(days=seq % 300) if admitted else None,
                "replied_at": now if status in (Status.REPLIED, Status.CLOSED) else None,
                "rating": ("satisfied", "fair", "unsatisfied")[seq % 3] if status is Status.CLOSED else None,
                "decided_at": now if status not in (Status.COSIGNING, Status.REVIEW) else None,
            })
            if lead:
                assignments.append({"proposal_id": seq, "department": lead, "lead": True})
        await session.execute(insert(Proposal), rows)
        await session.execute(insert(ProposalAssignment), assignments)
        await session.execute(insert(ProposalCosign), signatures)
        await session.execute(insert(ProposalCounter).values(year=YEAR, seq=proposals))


def _message(sender: int, text: str, message_id: str) -> Incoming:
    return Incoming(channel="onebot", chat_id=f"p{sender}", chat_type="private",
                    sender_id=f"qq{sender}", text=text, message_id=message_id)


async def timed(
    label: str, repeats: int, one: Callable[[int], Awaitable[str]], target_ms: float | None
) -> None:
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        await one(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    verdict = "" if target_ms is None else ("  ok" if p95 < target_ms else "  SLOW")
    target = "" if target_ms is None else f"   target < {target_ms:.0f} ms"
    print(f"{label:<34} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms{target}{verdict}")


async def throughput(pipeline: Pipeline, filings: int, concurrency: int) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(filings):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            sender = REPRESENTATIVES + i + 1
            reply = await pipeline.handle(_message(
                sender, f"提案 标题：关于第{i}件事的提案 理由：理由{i} 建议：建议{i}", f"f{i}"
            ))
            assert reply is not None and reply.text.startswith("提案已提交"), reply

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = filings / (time.perf_counter() - started)
    verdict = "ok" if rate >= 500 else "SLOW"
    label = f"filing ({concurrency} concurrent)"
    print(f"{label:<34} {rate:7.0f} filings/s   target ≥ 500  {verdict}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--cosigns", type=int, default=30_000)
    parser.add_argument("--filings", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        started = time.perf_counter()
        await seed(db, args.proposals, args.cosigns, args.filings)
        print(f"seeded {args.proposals} proposals and {args.cosigns} co-signatures "
              f"in {time.perf_counter() - started:.1f} s")
        settings = load_settings(data={"proposals": {"open_all_year": True}})
        pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
        officer = REPRESENTATIVES + args.filings + 1
        shown = max(1, args.proposals // 12)  # proposals 4, 16, 28, … are 已答复: members may see them
        member = officer + 1

        async def ask(sender: int, text: str, i: int, expect: str) -> str:
            reply = await pipeline.handle(_message(sender, text, f"{text}-{i}"))
            assert reply is not None and expect in reply.text, reply
            return reply.text

        await timed(f"提案统计 (officer, {args.proposals} proposals)", 30,
                    lambda i: ask(officer, "提案统计", i, "提案工作统计"), 200)
        await timed("提案列表 (member, page 1)", 100,
                    lambda i: ask(member, "提案列表", i, "提案列表"), 50)
        await timed("提案列表 已立案 (member, a deep page)", 100,
                    lambda i: ask(member, "提案列表 已立案 300", i, "提案列表"), 50)
        await timed("提案列表 待审查 (representative)", 100,
                    lambda i: ask(1, "提案列表 待审查", i, "提案列表"), 50)
        await timed("提案 <编号> (one proposal)", 100,
                    lambda i: ask(member, f"提案 {format_number(YEAR, 4 + 12 * (i % shown))}", i, "进程："),
                    None)
        await throughput(pipeline, args.filings, args.concurrency)
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
