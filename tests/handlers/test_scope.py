"""Every officer command acts within the officer's reach: a 分工会 officer manages their own
branch's affairs, 校工会 officers the whole union's; a denial names whose it is and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.messages import Reply
from bot.pipeline import Pipeline
from models.audit import AuditLog
from models.db import Database
from models.events.links import DownloadLink
from models.events.tables import Event
from models.org import Chat, Role
from models.outbox import OutboxMessage
from tests.factories import get_branch, make_member, make_settings, message

CREATE = "发起活动 羽毛球赛 时间 下周六 14:00 地点 体育馆 名额 20"
DENIED_CS = ("A1（羽毛球赛）属于计算机学院分工会，你是机关分工会的干部，只能管理本分工会的事务。"
             "如需办理，请联系计算机学院分工会的干部或校工会。")


@pytest.fixture
def settings() -> Settings:
    return make_settings(onebot={"enabled": True, "api_url": "http://127.0.0.1:3000"},
                         server={"public_url": "https://union.example.edu.cn/"})


@pytest.fixture
async def union(db: Database, pipeline: Pipeline) -> Pipeline:
    """Officers of 计算机学院 (cs), 机关 (jg) and the whole union (u); A1 belongs to 计算机学院."""
    for staff_no, name, branch, account in (
        ("1", "计干部", "计算机学院分工会", "cs"), ("2", "机干部", "机关分工会", "jg"),
        ("3", "校干部", "示范大学工会", "u"),
    ):
        await make_member(db, staff_no, name, branch=branch, roles=[Role.OFFICER],
                          accounts=[("console", account), ("onebot", f"q-{account}")])
    async with db.write() as session:
        for chat_id, branch in (("g-cs", "计算机学院分工会"), ("g-jg", "机关分工会")):
            branch_id = (await get_branch(session, branch)).id
            session.add(Chat(channel="onebot", chat_id=chat_id, chat_type="group", name=chat_id,
                             branch_id=branch_id))
    assert (await say(pipeline, "cs", CREATE)).startswith("已发起活动 A1 ")
    return pipeline


async def say(pipeline: Pipeline, sender: str, words: str, **kw: object) -> str:
    reply = await pipeline.handle(message(words, sender=sender, **kw))  # type: ignore[arg-type]
    assert isinstance(reply, Reply)
    return reply.text


async def stored(db: Database) -> tuple[object, ...]:
    """Everything a denied command could have changed."""
    async with db.read() as session:
        events = [e.model_dump() for e in await session.scalars(select(Event).order_by(Event.id))]
        chats = [(c.chat_id, c.branch_id) for c in await session.scalars(select(Chat).order_by(Chat.id))]
        counted = [await session.scalar(select(func.count()).select_from(table))
                   for table in (AuditLog, OutboxMessage, DownloadLink)]
    return events, chats, counted


@pytest.mark.parametrize(("words", "allowed"), [
    ("修改活动 A1 名额 30", "已修改 A1 羽毛球赛：名额"),
    ("取消活动 A1 场地检修", "已取消活动 A1"),
    ("名单 A1", "A1 羽毛球赛"),
    ("导出 A1", "A1 羽毛球赛"),
])
async def test_an_event_is_managed_by_its_branch_and_the_union_only(
    union: Pipeline, db: Database, words: str, allowed: str
) -> None:
    before = await stored(db)
    assert await say(union, "jg", words) == DENIED_CS
    assert await stored(db) == before
    assert allowed in await say(union, "u", words)
    if not words.startswith("取消活动"):
        assert allowed in await say(union, "cs", words.replace("30", "31"))


async def test_an_officer_publishes_only_for_their_own_branch(union: Pipeline, db: Database) -> None:
    before = await stored(db)
    assert await say(union, "jg", CREATE + " 对象 计算机学院分工会") == (
        "报名对象「计算机学院分工会」属于计算机学院分工会，你是机关分工会的干部，只能管理本分工会的事务。"
        "如需办理，请联系计算机学院分工会的干部或校工会。")
    assert (await say(union, "cs", CREATE + " 对象 全校")).startswith(
        "报名对象「全校」属于全校（校工会），你是计算机学院分工会的干部")
    assert (await say(union, "cs", "修改活动 A1 对象 机关分工会")).startswith(
        "报名对象「机关分工会」属于机关分工会，你是计算机学院分工会的干部")
    assert await stored(db) == before
    assert (await say(union, "u", CREATE + " 对象 计算机学院分工会")).startswith("已发起活动 A2 ")
    assert (await say(union, "jg", CREATE)).startswith("已发起活动 A3 ")


async def test_a_chat_is_assigned_only_within_reach(union: Pipeline, db: Database) -> None:
    group = {"channel": "onebot", "chat_type": "group", "chat_id": "g-cs"}
    before = await stored(db)
    assert await say(union, "q-jg", "本群归属 机关分工会", **group) == (
        "本群属于计算机学院分工会，你是机关分工会的干部，只能管理本分工会的事务。"
        "如需办理，请联系计算机学院分工会的干部或校工会。")
    assert await stored(db) == before
    assert "本群已登记到机关分工会" in await say(union, "q-u", "本群归属 机关分工会", **group)
    assert (await say(union, "q-cs", "本群归属 计算机学院分工会", **group)).startswith(
        "本群属于机关分工会，你是计算机学院分工会的干部")


async def test_a_broadcast_reaches_only_the_officers_branch(union: Pipeline, db: Database) -> None:
    assert "1 个群" in await say(union, "q-jg", "广播 周五开会", channel="onebot")
    async with db.read() as session:
        targets = list(await session.scalars(
            select(OutboxMessage.target).where(OutboxMessage.key.like("broadcast:%"))  # type: ignore[attr-defined]
        ))
    assert targets == ["g-jg"]


async def test_members_are_shown_and_invited_to_what_they_may_join_only(
    union: Pipeline, db: Database
) -> None:
    await make_member(db, "4", "男会员", branch="计算机学院分工会", gender="男",
                      accounts=[("console", "man")])
    await make_member(db, "5", "机关会员", branch="机关分工会", accounts=[("console", "clerk")])
    assert (await say(union, "u", CREATE + " 对象 全校女职工")).startswith("已发起活动 A2 ")
    lines = (await say(union, "man", "活动")).splitlines()
    assert (lines[0], lines[2], len(lines)) == (
        "你可以报名的近期活动：", "发送「活动 编号」查看详情，例如：活动 A1", 3)
    assert lines[1].startswith("A1 羽毛球赛｜") and lines[1].endswith("14:00｜体育馆｜剩 20 个名额")
    assert "A1" not in await say(union, "clerk", "活动")
    assert "A2 羽毛球赛" in await say(union, "clerk", "活动")
    detail = await say(union, "man", "活动 A2")
    assert "这个活动只面向全校女职工，你不在报名范围内。" in detail and "报名请发送" not in detail
    assert "报名请发送「报名 A2」" in await say(union, "clerk", "活动 A2")
    assert "只面向全校女职工" in await say(union, "man", "报名 A2")
    officer_list = await say(union, "jg", "活动")  # 机干部 is a woman of 机关: A2 only
    assert "A1" not in officer_list
    assert officer_list.endswith("（干部发送「活动 全部」可同时查看你管理的所有活动）")
    everything = await say(union, "u", "活动 全部")
    assert "14:00｜体育馆｜计算机学院分工会｜剩 20 个名额" in everything
    assert "A1" not in await say(union, "jg", "活动 全部")
    assert await say(union, "clerk", "活动 全部") == (
        "「活动 全部」供工会干部查看所管理的活动。发送「活动」查看你可以报名的近期活动。")
