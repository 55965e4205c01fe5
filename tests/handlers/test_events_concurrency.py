"""Many people signing up at once, through the whole pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import func, insert, select

from bot.pipeline import Pipeline
from models.db import Database
from models.events.tables import Signup
from models.org import Account, Member, MemberRole, Role
from tests.factories import get_branch, make_member, message


async def crowd(db: Database, count: int) -> None:
    """``count`` members bound on the console as ``p0`` … in one transaction."""
    async with db.write() as session:
        branch = await get_branch(session, "计算机学院分工会")
        await session.execute(insert(Member), [
            {"staff_no": f"3{i:04d}", "name": f"教工{i}", "branch_id": branch.id} for i in range(count)
        ])
        ids = dict((await session.execute(select(Member.staff_no, Member.id))).tuples().all())
        await session.execute(insert(MemberRole), [
            {"member_id": ids[f"3{i:04d}"], "role": "member"} for i in range(count)
        ])
        await session.execute(insert(Account), [
            {"channel": "console", "external_id": f"p{i}", "member_id": ids[f"3{i:04d}"]}
            for i in range(count)
        ])


def number(reply_text: str) -> tuple[str, int]:
    if found := re.search(r"你是第 (\d+) 位", reply_text):
        return "confirmed", int(found.group(1))
    found = re.search(r"排第 (\d+) 位", reply_text)
    assert found, reply_text
    return "waitlist", int(found.group(1))


async def test_100_concurrent_sign_ups_for_30_places(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "王干部", roles=[Role.OFFICER], accounts=[("console", "officer")])
    created = await pipeline.handle(message(
        "发起活动 教职工趣味运动会 时间 下周六 9:00 地点 田径场 名额 30", sender="officer"
    ))
    assert created is not None and created.text.startswith("已发起活动 A1")
    await crowd(db, 100)

    replies = await asyncio.gather(*(
        pipeline.handle(message("报名 A1", sender=f"p{i}")) for i in range(100)
    ))
    results = [number(reply.text) for reply in replies if reply is not None]
    assert len(results) == 100
    assert sorted(n for s, n in results if s == "confirmed") == list(range(1, 31))
    assert sorted(n for s, n in results if s == "waitlist") == list(range(1, 71))

    async with db.read() as session:
        rows = (await session.execute(
            select(Signup.status, func.count(), func.count(func.distinct(Signup.member_id)))
            .group_by(Signup.status)
        )).all()
        seqs = list(await session.scalars(select(Signup.seq).order_by(Signup.seq)))
    assert sorted(tuple(r) for r in rows) == [("confirmed", 30, 30), ("waitlist", 70, 70)]
    assert seqs == list(range(1, 101))


async def test_the_same_person_twice_at_once_is_one_sign_up(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "王干部", roles=[Role.OFFICER], accounts=[("console", "officer")])
    create = "发起活动 观影 时间 下周五 19:00 地点 礼堂 名额 5 可带 2"
    await pipeline.handle(message(create, sender="officer"))
    await crowd(db, 10)
    replies = await asyncio.gather(*(
        pipeline.handle(message(f"报名 A1 +{k}", sender=f"p{i}")) for i in range(10) for k in (1, 2)
    ))
    texts = [reply.text for reply in replies if reply is not None]
    new = [t for t in texts if t.startswith("报名成功") or "你已进入候补" in t]
    later = [t for t in texts if t.startswith("已更新你在 A1") or "不够再多带" in t]
    assert (len(new), len(later)) == (10, 10)  # the later message of each pair updates
    async with db.read() as session:
        per_member = (await session.execute(
            select(Signup.member_id, func.count()).group_by(Signup.member_id)
        )).all()
        taken = await session.scalar(
            select(func.sum(1 + Signup.guests)).where(Signup.status == "confirmed")
        )
    assert len(per_member) == 10 and {count for _, count in per_member} == {1}
    assert taken is not None and taken <= 5
