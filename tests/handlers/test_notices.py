"""广播 and 本群归属 as officers use them."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.audit import AuditLog
from models.db import Database
from models.org import Branch, Chat, Role
from models.outbox import OutboxMessage
from tests.factories import get_branch, make_member, make_settings, message

SETTINGS = make_settings(
    onebot={"enabled": True, "api_url": "http://127.0.0.1:9"},
    wecom={"enabled": True, "corp_id": "ww1", "token": "t", "encoding_aes_key": "k" * 43,
           "robots": {"计算机学院分工会通知群": "key-1", "全校工会群": "key-2"}},
    qq_official={"enabled": True, "app_id": "1", "secret": "s"},
)


def make_pipeline(db: Database) -> Pipeline:
    return Pipeline(db=db, settings=SETTINGS, registry=build_registry(), metrics=Metrics())


async def add_chat(db: Database, channel: str, chat_id: str, name: str, branch: str | None) -> None:
    async with db.write() as session:
        branch_id = (await get_branch(session, branch)).id if branch else None
        session.add(Chat(channel=channel, chat_id=chat_id, chat_type="group", name=name,
                         branch_id=branch_id))


async def outbox(db: Database) -> list[tuple[str, str, str, str]]:
    async with db.read() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.channel, r.target_kind, r.target, json.loads(r.payload)["text"]) for r in rows]


async def setup_union(db: Database) -> None:
    await make_member(db, "1", "校干部", branch="示范大学工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "9001")])
    await make_member(db, "2", "院干部", branch="计算机学院分工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "9002")])
    await make_member(db, "3", "会员", branch="计算机学院分工会", accounts=[("onebot", "9003")])
    await make_member(db, "4", "外院", branch="外国语学院分工会")
    await add_chat(db, "onebot", "111", "计算机学院教职工群", "计算机学院分工会")
    await add_chat(db, "onebot", "222", "外院教职工群", "外国语学院分工会")
    await add_chat(db, "onebot", "333", "未登记的群", None)
    await add_chat(db, "qq_official", "GRP-OPENID", "计算机学院QQ官方群", "计算机学院分工会")


async def test_a_branch_officer_reaches_the_branch_chats_and_hears_what_failed(db: Database) -> None:
    await setup_union(db)
    pipeline = make_pipeline(db)
    reply = await pipeline.handle(message("广播 周五下午工会活动室开会", sender="9002", channel="onebot"))
    assert reply is not None
    assert reply.text == (
        "已安排发送到 2 个群（QQ（OneBot） 1 个，企业微信 1 个），稍后陆续送达。\n"
        "以下 1 个群无法送达：\n"
        "· 计算机学院QQ官方群：QQ 开放平台机器人只能被动回复，不能主动发消息"
    )
    assert await outbox(db) == [
        ("onebot", "group", "111", "周五下午工会活动室开会"),
        ("wecom", "robot", "计算机学院分工会通知群", "周五下午工会活动室开会"),
    ]
    async with db.read() as session:
        log = await session.scalar(select(AuditLog).where(AuditLog.action == "broadcast"))
    assert log is not None and json.loads(log.after or "{}")["queued"] == 2


async def test_the_union_officers_reach_every_chat(db: Database) -> None:
    await setup_union(db)
    reply = await make_pipeline(db).handle(message("广播 端午节放假通知", sender="9001", channel="onebot"))
    assert reply is not None and reply.text.startswith("已安排发送到 5 个群")
    assert sorted(t for _, _, t, _ in await outbox(db)) == [
        "111", "222", "333", "全校工会群", "计算机学院分工会通知群"]


async def test_a_redelivered_broadcast_is_queued_once(db: Database) -> None:
    await setup_union(db)
    pipeline = make_pipeline(db)
    first = await pipeline.handle(message("广播 通知", sender="9002", channel="onebot", message_id="x1"))
    again = await pipeline.handle(message("广播 通知", sender="9002", channel="onebot", message_id="x1"))
    assert first == again
    assert len(await outbox(db)) == 2


async def test_members_may_not_broadcast_and_empty_or_long_text_is_refused(db: Database) -> None:
    await setup_union(db)
    pipeline = make_pipeline(db)
    denied = await pipeline.handle(message("广播 大家好", sender="9003", channel="onebot"))
    assert denied is not None and "干部" in denied.text
    empty = await pipeline.handle(message("广播", sender="9002", channel="onebot"))
    assert empty is not None and "例如：广播 " in empty.text
    long = await pipeline.handle(message("广播 " + "字" * 2001, sender="9002", channel="onebot"))
    assert long is not None and "最多 2000 个字" in long.text
    assert await outbox(db) == []


async def test_no_chats_yet_explains_how_to_add_one(db: Database) -> None:
    await make_member(db, "2", "院干部", roles=[Role.OFFICER], accounts=[("onebot", "9002")])
    settings = make_settings(onebot={"enabled": True, "api_url": "http://127.0.0.1:9"})
    pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
    reply = await pipeline.handle(message("广播 你好", sender="9002", channel="onebot"))
    assert reply is not None and "本群归属" in reply.text and "[wecom.robots]" in reply.text


async def test_assigning_a_group_chat_to_a_branch(db: Database) -> None:
    await setup_union(db)
    pipeline = make_pipeline(db)
    group = {"channel": "onebot", "chat_type": "group", "chat_id": "777"}
    ok = await pipeline.handle(message("本群归属 计算机学院分工会", sender="9002", **group))  # type: ignore[arg-type]
    assert ok is not None and ok.text == "好的，本群已登记到计算机学院分工会，今后该分工会的广播会发到这里。"
    not_mine = await pipeline.handle(message("本群归属 外国语学院分工会", sender="9002", **group))  # type: ignore[arg-type]
    assert not_mine is not None and not_mine.text.startswith(
        "外国语学院分工会不在你的管理范围内，你是计算机学院分工会的干部，只能管理本分工会的事务。")
    unknown = await pipeline.handle(message("本群归属 火星分工会", sender="9002", **group))  # type: ignore[arg-type]
    assert unknown is not None and "没有找到名为「火星分工会」的分工会" in unknown.text
    private = await pipeline.handle(message("本群归属 计算机学院分工会", sender="9002", channel="onebot"))
    assert private is not None and "只能在群里" in private.text
    async with db.read() as session:
        chat = await session.scalar(select(Chat).where(Chat.chat_id == "777"))
        branch = await session.scalar(select(Branch).where(Branch.name == "计算机学院分工会"))
    assert chat is not None and branch is not None and chat.branch_id == branch.id
