"""金点子 rounds in the scheduler: the reminder three days before the close goes to the
round's groups, the closing notice to its officers — each once, also with two runners."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from models.db import Database
from models.ideas import rounds
from models.ideas.pseudonym import pseudonyms
from models.ideas.submit import Author, Limits, read_text, submit
from models.org import Account, Branch, Member, Role
from scheduler.idea_rounds import CLOSED_SOURCE, REMINDER_SOURCE
from scheduler.jobs import run_due
from scheduler.occasions import World
from scheduler.planner import plan
from tests.factories import make_member
from tests.scheduler.test_jobs import rows
from tests.scheduler.test_jobs_cli import outbox_keys, postgres_union, sqlite_union, start  # noqa: F401
from tests.scheduler.test_planner import add_chat, settings_with, utc

OPENED = utc("2027-04-20T02:00")
CLOSES_AT = utc("2027-05-10T16:00")  # the end of 10 May in Shanghai: the round's last day is 10 May
REMIND = utc("2027-05-07T01:00")  # 7 May 09:00 in Shanghai: three days before


def settings(tmp_path: Path) -> Settings:
    return settings_with(ideas={"key_file": str(tmp_path / "ideas.key")})


async def scene(db: Database, tmp_path: Path, *, union_wide: bool = False) -> dict[str, Member]:
    people = {
        "张三": await make_member(db, "1", "张三", roles=[Role.OFFICER], accounts=[("onebot", "801")]),
        "李四": await make_member(db, "2", "李四", accounts=[("onebot", "802")]),
        "孙丽": await make_member(db, "3", "孙丽", branch="示范大学工会", roles=[Role.OFFICER],
                                 accounts=[("onebot", "803")]),
        "王五": await make_member(db, "4", "王五", branch="外国语学院分工会", roles=[Role.OFFICER],
                                 accounts=[("onebot", "804")]),
    }
    await add_chat(db, "onebot", "g-cs", "计算机学院教职工群", "计算机学院分工会")
    await add_chat(db, "onebot", "g-fl", "外国语学院教职工群", "外国语学院分工会")
    keys = pseudonyms(tmp_path / "ideas.key")
    async with db.write() as session:
        owner = None if union_wide else people["张三"].branch_id
        found = await rounds.start_round(session, name="2027金点子", owner=owner, closes_at=CLOSES_AT,
                                         officer_id=people["张三"].id or 0, now=OPENED)
        for who, anonymous, text in ((people["李四"], True, "食堂增加夜宵窗口，方便加班"),
                                     (people["李四"], False, "校车晚上增开一班车")):
            await submit(session, author=Author(who.id or 0, who.branch_id, anonymous),
                         text=read_text(text, Limits()), round_id=found.id, year=2027, now=OPENED, keys=keys)
    return people


async def test_reminder_goes_to_the_rounds_groups_three_days_before(db: Database, tmp_path: Path) -> None:
    await scene(db, tmp_path)
    config = settings(tmp_path)
    async with db.read() as session:
        planned = await plan(World(session, config, OPENED), OPENED, utc("2027-05-20T00:00"))
    ours = [p for p in planned if p.occasion.source in (REMINDER_SOURCE, CLOSED_SOURCE)]
    assert [(p.occasion.source, p.occasion.due_at) for p in ours] == [
        (REMINDER_SOURCE, REMIND), (CLOSED_SOURCE, CLOSES_AT)]
    await run_due(db, config, REMIND)
    await run_due(db, config, REMIND)
    queued = [r for r in await rows(db) if r[0].startswith("idea-round")]
    assert len(queued) == 1
    key, target, text = queued[0]
    assert key.endswith(":remind:chat:1") and target == "onebot:group:g-cs"
    assert text == ("【金点子征集】「2027金点子」将于 2027-05-10 截止（还有 4 天），目前已收到 2 条点子。"
                    "有好想法请发送「点子 内容」，想匿名请私聊机器人发送「匿名点子 内容」；"
                    "发送「点子榜」可以给喜欢的点子投上支持。")


async def test_closing_tells_the_rounds_officers_once_without_names(db: Database, tmp_path: Path) -> None:
    await scene(db, tmp_path)
    config = settings(tmp_path)
    after = utc("2027-05-10T16:05")
    await asyncio.gather(run_due(db, config, after), run_due(db, config, after))
    await run_due(db, config, utc("2027-05-10T17:00"))
    closed = [r for r in await rows(db) if ":closed:" in r[0]]
    assert [(target, text) for _key, target, text in closed] == [(
        "onebot:user:801",
        "「2027金点子」金点子征集已截止：共收到 2 条（匿名 1 条），参与 1 人，支持 0 次。"
        "请发送「点子榜」查看排名，「评选 编号 金点子|采纳|存档」评选，「导出点子 2027金点子」导出名单。",
    )]
    assert "李四" not in closed[0][2]


async def test_a_union_round_ended_early_reminds_nobody_and_tells_the_union_officers(
    db: Database, tmp_path: Path
) -> None:
    await scene(db, tmp_path, union_wide=True)
    config = settings(tmp_path)
    ended_at = utc("2027-05-01T03:00")
    async with db.write() as session:
        await rounds.end_round(session, owner=None, now=ended_at)
    await run_due(db, config, utc("2027-05-01T03:01"))
    await run_due(db, config, REMIND)
    queued = [(key, target) for key, target, _text in await rows(db) if key.startswith("idea-round")]
    assert queued == [("idea-round:1:close-20270501T0300Z:closed:member:3", "onebot:user:803")]


async def _add_round(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as session:
            officer = await session.scalar(select(Member).where(Member.staff_no == "10001"))
            cs = await session.scalar(select(Branch).where(Branch.name == "计算机学院分工会"))
            assert officer is not None and cs is not None and officer.id is not None
            session.add(Account(channel="onebot", external_id="9001", member_id=officer.id))
            await rounds.start_round(session, name="2027金点子", owner=cs.id, closes_at=CLOSES_AT,
                                     officer_id=officer.id, now=OPENED)
    finally:
        await db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_processes_tell_the_officers_once(backend: str, request: pytest.FixtureRequest) -> None:
    workdir, url = request.getfixturevalue(f"{'sqlite' if backend == 'sqlite' else 'postgres'}_union")
    asyncio.run(_add_round(url))
    runs = [start(workdir, "scheduler", "run-due", "--at", "2027-05-11T00:10") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    queued = sorted(int(n) for out, _ in outputs for n in re.findall(r"结束通知.*新放入发件箱 (\d+) 条", out))
    assert queued == [0, 1], outputs
    keys = [key for key in asyncio.run(outbox_keys(url)) if key.startswith("idea-round")]
    assert len(keys) == 1 and keys[0].endswith(":closed:member:1")
