"""The scheduler at the size of a large university, on SQLite.

    .venv/bin/python bench/plan.py [--members 10000] [--events 1000] [--repeat 5]

Seeds 10,000 members in 20 branches (birthdays, children for a third of them, officers,
representatives, 承办人, a bound QQ account for nine in ten), 1,000 events over the
coming year with 20–40 sign-ups each (guests, waitlists, withdrawals, a few cancelled
events) and 400 proposals with reply deadlines, then measures:
  * baselines, in the same run: loading the roster snapshot alone, and one plain query
    of every sign-up;
  * ``scheduler plan --days 365``: every occasion of the year with its deliveries and
    the outbox check (``planner.plan``)                         target < 2 s
  * the due scan of one minute as ``scheduler.jobs`` does it every tick: the occasions of
    the grace window (``due_occasions``)                        target < 50 ms
    and, for reference, a whole tick once the window's occasions are done (``run_due``
    with the process's memo).
Each is repeated; best and median are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bot.config import Settings, load_settings
from models.db import Database
from models.events.tables import CANCELLED, CONFIRMED, OPEN, WAITLIST, WITHDRAWN, Event, Signup
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberChild, MemberRole
from models.proposals.tables import Proposal, ProposalAssignment, ProposalCounter, ProposalReply, Status
from scheduler.audience import load_roster
from scheduler.jobs import Memo, due_occasions, run_due
from scheduler.occasions import World
from scheduler.planner import plan

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 2, 30, tzinfo=UTC)  # the moment the plan is made (10:30 in Shanghai)
BRANCHES = 20
DEPARTMENTS = ["教务处", "人事处", "科研处", "财务处", "后勤管理处", "国有资产管理处", "学生工作处"]
PROPOSALS = 400


def settings_for_bench() -> Settings:
    return load_settings(data={
        "union": {"name": "示范大学工会"},
        "onebot": {"enabled": True, "api_url": "http://127.0.0.1:9"},
        "scheduler": {"birthday_greeting": True},
    })


async def seed_people(db: Database, count: int, rng: random.Random) -> list[int]:
    """Branches, members, roles, children and accounts; returns the member ids."""
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        await session.execute(insert(Branch), [
            {"name": f"第{i + 1}分工会", "parent_id": root.id} for i in range(BRANCHES)
        ])
        branch_ids = list(await session.scalars(select(Branch.id).order_by(Branch.id)))
        members = []
        for i in range(count):
            handler = i < 3 * len(DEPARTMENTS)
            members.append({
                "staff_no": f"{100000 + i}", "name": f"教工{i}", "gender": "女" if i % 2 else "男",
                "birth_date": date(1960 + i % 40, 1, 1) + timedelta(days=rng.randrange(365)),
                "branch_id": branch_ids[0] if i < 5 else branch_ids[1 + i % BRANCHES],
                "department": DEPARTMENTS[i % len(DEPARTMENTS)] if handler else None,
            })
        await session.execute(insert(Member), members)
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        roles = [{"member_id": member_id, "role": "member"} for member_id in ids]
        roles += [{"member_id": ids[i], "role": "handler"} for i in range(3 * len(DEPARTMENTS))]
        roles += [{"member_id": ids[i], "role": "officer"} for i in range(5)]  # 校工会
        roles += [{"member_id": ids[100 + b], "role": "officer"} for b in range(BRANCHES)]
        roles += [{"member_id": member_id, "role": "representative"} for member_id in ids[::20]]
        await session.execute(insert(MemberRole), roles)
        children = []
        for member_id in ids[::3]:
            for _ in range(rng.choice((1, 1, 2))):
                children.append({"member_id": member_id,
                                 "birth_date": date(2008, 1, 1) + timedelta(days=rng.randrange(6000))})
        await session.execute(insert(MemberChild), children)
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": f"qq{i}", "member_id": member_id}
            for i, member_id in enumerate(ids) if i % 10
        ])
    return ids


async def seed_events(db: Database, count: int, ids: list[int], rng: random.Random) -> int:
    """``count`` events over the year from ``NOW``; returns the number of sign-ups."""
    created = NOW - timedelta(days=30)
    events, signups = [], []
    for number in range(1, count + 1):
        day = NOW.astimezone(TZ).date() + timedelta(days=rng.randrange(1, 366))
        starts_at = datetime.combine(day, datetime.min.time(), TZ).replace(hour=rng.choice((9, 14, 15, 19)))
        capacity = rng.randrange(20, 41)
        people = rng.sample(ids, rng.randrange(20, 41))
        taken = confirmed = waiting = 0
        place = 0
        for seq, member_id in enumerate(people, start=1):
            guests = rng.choice((0, 0, 0, 0, 1, 2))
            if rng.random() < 0.05:
                status, place_seq = WITHDRAWN, None
            elif taken + 1 + guests <= capacity:
                place += 1
                status, place_seq = CONFIRMED, place
                taken, confirmed = taken + 1 + guests, confirmed + 1
            else:
                status, place_seq, waiting = WAITLIST, None, waiting + 1
            signups.append({"event_id": number, "member_id": member_id, "seq": seq, "place_seq": place_seq,
                            "status": status, "guests": guests, "signed_up_at": created,
                            "updated_at": created})
        events.append({
            "id": number, "number": number, "title": f"第{number}期教工活动", "place": "教工之家",
            "starts_at": starts_at.astimezone(UTC),
            "ends_at": (starts_at + timedelta(hours=2)).astimezone(UTC),
            "capacity": capacity, "max_guests": 2, "status": CANCELLED if number % 40 == 0 else OPEN,
            "places_taken": taken, "confirmed_count": confirmed, "waiting_count": waiting,
            "last_seq": len(people), "last_place": place, "created_at": created, "updated_at": created,
        })
    async with db.write() as session:
        await session.execute(insert(Event), events)
        await session.execute(insert(Signup), signups)
    return len(signups)


async def seed_proposals(db: Database, ids: list[int], rng: random.Random) -> None:
    """Proposals 立案 over the past and coming months, a quarter of them answered."""
    decided = NOW - timedelta(days=60)
    proposals, assignments, replies = [], [], []
    for seq in range(1, PROPOSALS + 1):
        replied = seq % 4 == 0
        lead = DEPARTMENTS[seq % len(DEPARTMENTS)]
        proposals.append({
            "id": seq, "number": f"T2027-{seq:03d}", "year": 2027, "seq": seq,
            "title": f"关于改进第{seq}项工作的建议", "reason": "理由", "suggestion": "建议",
            "proposer_id": ids[seq * 20 % len(ids)], "cosigner_count": 0,
            "status": (Status.REPLIED if replied else Status.ACCEPTED).value, "filed_at": decided,
            "decided_at": decided, "lead_department": lead,
            "deadline": NOW.date() + timedelta(days=rng.randrange(-30, 200)), "updated_at": decided,
        })
        assignments.append({"proposal_id": seq, "department": lead, "lead": True})
        helper = DEPARTMENTS[(seq + 3) % len(DEPARTMENTS)]
        if seq % 3 == 0:
            assignments.append({"proposal_id": seq, "department": helper, "lead": False})
        if replied:
            replies.append({"proposal_id": seq, "department": lead, "lead": True, "handling_round": 1,
                            "outcome": "adopted", "content": "已落实。", "author_id": ids[0],
                            "replied_at": decided})
    async with db.write() as session:
        await session.execute(insert(Proposal), proposals)
        await session.execute(insert(ProposalAssignment), assignments)
        await session.execute(insert(ProposalReply), replies)
        await session.execute(insert(ProposalCounter), [{"year": 2027, "seq": PROPOSALS}])


async def timed(label: str, repeat: int, one: Callable[[], Awaitable[str]]) -> float:
    """Run ``one`` ``repeat`` times; print best and median (ms) and what it returned; return the median."""
    runs, said = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        said = await one()
        runs.append(time.perf_counter() - started)
    best, median = min(runs) * 1000, statistics.median(runs) * 1000
    print(f"{label:<46} best {best:8.1f} ms   median {median:8.1f} ms   {said}", flush=True)
    return median


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    settings = settings_for_bench()
    grace = timedelta(hours=settings.scheduler.grace_hours)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(db)
        ids = await seed_people(db, args.members, rng)
        signups = await seed_events(db, args.events, ids, rng)
        await seed_proposals(db, ids, rng)
        print(f"SQLite, {args.members} members, {args.events} events with {signups} sign-ups, "
              f"{PROPOSALS} proposals; plan made at {NOW.astimezone(TZ):%Y-%m-%d %H:%M} (Asia/Shanghai)")

        async def roster() -> str:
            async with db.read() as session:
                found = await load_roster(session)
            return f"{len(found.people)} members"

        async def all_signups() -> str:
            async with db.read() as session:
                rows = (await session.execute(
                    select(Signup.event_id, Signup.member_id, Signup.guests).where(Signup.status == CONFIRMED)
                )).all()
            return f"{len(rows)} sign-ups"

        async def year_plan() -> str:
            async with db.read() as session:
                items = await plan(World(session, settings, NOW), NOW - grace, NOW + timedelta(days=365))
            by_source: dict[str, int] = {}
            for item in items:
                by_source[item.occasion.source] = by_source.get(item.occasion.source, 0) + 1
            deliveries = sum(len(item.deliveries) for item in items)
            return f"{len(items)} occasions, {deliveries} deliveries ({by_source})"

        busy = NOW + timedelta(days=30)  # somewhere in the year, with events in the window

        async def scan() -> str:
            return f"{len(await due_occasions(db, settings, busy))} occasions in the grace window"

        memo = Memo()
        queued = sum(o.queued for o in await run_due(db, settings, busy, memo=memo))
        minutes = iter(range(1, 1_000_000))

        async def tick() -> str:
            at = busy + timedelta(minutes=next(minutes))
            outcomes = await run_due(db, settings, at, memo=memo)
            return f"{sum(o.queued for o in outcomes)} newly queued (first tick queued {queued})"

        await timed("baseline: load the roster snapshot", args.repeat, roster)
        await timed("baseline: one query of all sign-ups", args.repeat, all_signups)
        plan_ms = await timed("scheduler plan --days 365", args.repeat, year_plan)
        scan_ms = await timed("due scan of one minute (due_occasions)", args.repeat * 4, scan)
        await timed("a tick with the window done (run_due + memo)", args.repeat * 4, tick)
        print(f"targets: plan < 2 s: {'ok' if plan_ms < 2000 else 'MISSED'}; "
              f"due scan < 50 ms: {'ok' if scan_ms < 50 else 'MISSED'}")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
