"""帮助, 绑定 and 我 as members and officers use them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.pipeline import Pipeline
from models.audit import AuditLog
from models.db import Database
from models.org import Account, Role
from tests.factories import make_member, message


async def accounts(db: Database) -> list[tuple[str, str, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Account.channel, Account.external_id, Account.member_id).order_by(Account.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def text(pipeline: Pipeline, words: str, **kw: object) -> str:
    reply = await pipeline.handle(message(words, **kw))  # type: ignore[arg-type]
    assert reply is not None
    return reply.text


# ---------------------------------------------------------------- 绑定


async def test_bind_links_the_account_and_writes_the_audit_log(
    pipeline: Pipeline, db: Database
) -> None:
    zhang = await make_member(db, "10001", "张三")
    answer = await text(pipeline, "绑定 10001 张三", sender="wx-openid-1", channel="wechat_mp")
    assert answer == "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。"
    assert await accounts(db) == [("wechat_mp", "wx-openid-1", zhang.id)]
    async with db.read() as session:
        log = await session.scalar(select(AuditLog))
    assert log is not None and log.action == "bind" and log.target == "member:10001"
    assert json.loads(log.after or "{}") == {"account": "wx-openid-1", "channel": "wechat_mp"}
    assert await text(pipeline, "我", sender="wx-openid-1", channel="wechat_mp") != ""


async def test_wrong_name_and_unknown_staff_no_get_the_same_answer(
    pipeline: Pipeline, db: Database
) -> None:
    await make_member(db, "10001", "张三")
    wrong_name = await text(pipeline, "绑定 10001 张四")
    unknown = await text(pipeline, "绑定 99999 张三")
    assert wrong_name == unknown
    assert "张三" not in wrong_name.replace("绑定 10001 张三", "")  # the example only
    assert await accounts(db) == []


async def test_a_member_already_bound_on_the_channel_is_refused(
    pipeline: Pipeline, db: Database
) -> None:
    zhang = await make_member(db, "10001", "张三", accounts=[("console", "first")])
    answer = await text(pipeline, "绑定 10001 张三", sender="second")
    assert answer.startswith("工号 10001 在本平台已经绑定了另一个账号")
    assert await accounts(db) == [("console", "first", zhang.id)]


async def test_binding_again_is_harmless(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("console", "me")])
    answer = await text(pipeline, "绑定 10001 张三", sender="me")
    assert answer.startswith("你已经绑定为张三")


async def test_an_account_bound_to_someone_else_is_refused(pipeline: Pipeline, db: Database) -> None:
    zhang = await make_member(db, "10001", "张三", accounts=[("console", "me")])
    await make_member(db, "10002", "李四")
    answer = await text(pipeline, "绑定 10002 李四", sender="me")
    assert "已经绑定了别的工号" in answer
    assert await accounts(db) == [("console", "me", zhang.id)]


async def test_inactive_member_cannot_bind(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10009", "王五", active=False)
    assert "对不上" in await text(pipeline, "绑定 10009 王五")
    assert await accounts(db) == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("绑定 10001", "请同时写上工号和姓名"),
        ("绑定", "请同时写上工号和姓名"),
        ("绑定 10001# 张三", "格式不对"),
        ("绑定 " + "9" * 40 + " 张三", "格式不对"),
        ("绑定 10001 " + "长" * 70, "不能超过 64 个字"),
    ],
)
async def test_malformed_bind_in_a_group(
    pipeline: Pipeline, db: Database, words: str, expected: str
) -> None:
    await make_member(db, "10001", "张三")
    assert expected in await text(pipeline, words, chat_type="group")
    assert await accounts(db) == []


async def test_officer_binds_another_members_account(pipeline: Pipeline, db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER],
                                accounts=[("onebot", "111")])
    li = await make_member(db, "10002", "李四", accounts=[("onebot", "old-qq")])
    answer = await text(pipeline, "绑定 10002 李四 222333", sender="111", channel="onebot")
    assert answer == "已为李四（计算机学院分工会）绑定账号 222333。"
    assert sorted(await accounts(db)) == sorted(
        [("onebot", "111", officer.id), ("onebot", "222333", li.id)]
    )
    async with db.read() as session:
        bound_by = await session.scalar(
            select(Account.bound_by).where(Account.external_id == "222333")
        )
        log = await session.scalar(select(AuditLog).where(AuditLog.action == "bind"))
    assert bound_by == officer.id
    assert log is not None and json.loads(log.before or "{}")["member_account"] == "old-qq"


async def test_officer_binds_by_mention(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三", roles=[Role.OFFICER], accounts=[("onebot", "111")])
    li = await make_member(db, "10002", "李四")
    answer = await text(pipeline, "绑定 10002 李四", sender="111", channel="onebot",
                        chat_type="group", mentions=("444",))
    assert answer.startswith("已为李四")
    assert ("onebot", "444", li.id) in await accounts(db)


async def test_member_cannot_bind_someone_else(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "111")])
    await make_member(db, "10002", "李四")
    answer = await text(pipeline, "绑定 10002 李四 222", sender="111", channel="onebot")
    assert answer.startswith("只有工会干部可以为别人绑定账号")
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1


# ---------------------------------------------------------------- 我 and 帮助


async def test_me_in_private_shows_own_contact_details(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三", roles=[Role.REPRESENTATIVE, Role.OFFICER],
                      phone="13912345678", accounts=[("console", "me")])
    answer = await text(pipeline, "我", sender="me")
    assert answer.splitlines()[:3] == [
        "张三（工号 10001）", "分工会：计算机学院分工会", "身份：代表、干部",
    ]
    assert "手机：13912345678" in answer and "出生日期：1985-03-02" in answer


async def test_me_in_a_group_never_shows_phone_or_birthday(
    pipeline: Pipeline, db: Database
) -> None:
    await make_member(db, "10001", "张三", phone="13912345678", accounts=[("console", "me")])
    answer = await text(pipeline, "我", sender="me", chat_type="group")
    assert "13912345678" not in answer and "1985" not in answer
    assert answer.startswith("张三（工号 10001）")
    assert "身份：会员" in answer


async def test_help_for_one_command(pipeline: Pipeline, db: Database) -> None:
    answer = await text(pipeline, "帮助 绑定")
    assert answer.splitlines() == [
        "绑定：把本平台账号绑定到你的工号", "用法：绑定 <工号> <姓名>", "例如：绑定 10001 张三",
        "也可以说：绑定工号",
    ]
    assert "没有「开会」这个命令" in await text(pipeline, "帮助 开会")
    assert "请先绑定" in await text(pipeline, "帮助 我")


async def test_help_fits_one_message_and_explains_a_topic_on_request(
    pipeline: Pipeline, db: Database
) -> None:
    officer = await make_member(db, "20001", "王干部", roles=[Role.OFFICER], accounts=[("console", "w")])
    assert officer.id is not None
    every = await text(pipeline, "帮助", sender="w")
    assert len(every.encode()) < 2048  # one WeChat passive reply holds it
    for line in ("【基本】帮助、绑定、我", "【经费公示】经费、记账、冲销、拨付、慰问、经费公示"):
        assert line in every.splitlines()
    assert every.endswith("例如：帮助 教代会提案")
    topic = (await text(pipeline, "帮助 金点子", sender="w")).splitlines()
    assert topic[0] == "【金点子】"
    assert topic[-1] == "发送「帮助 命令」查看某个命令的详细用法，例如：帮助 点子"
    assert "· 支持 <编号> — 支持一条金点子（每条一次，不能支持自己的）" in topic
    assert (await text(pipeline, "帮助 报名", sender="w")).startswith("报名：")


async def test_a_bound_member_sending_bind_is_told_at_once(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("console", "me")])
    assert await text(pipeline, "绑定", sender="me") == (
        "你已经绑定为张三，无需重复绑定。发送「我」可以查看自己的信息。"
    )


async def test_member_naming_an_account_is_told_only_officers_may(
    pipeline: Pipeline, db: Database
) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "111")])
    await make_member(db, "10002", "李四")
    answer = await text(pipeline, "绑定 10002 李四 222", sender="111", channel="onebot")
    assert answer.startswith("只有工会干部可以为别人绑定账号")


async def test_a_name_with_a_space_is_a_name_not_an_account(pipeline: Pipeline, db: Database) -> None:
    officer = await make_member(db, "10001", "张三", roles=[Role.OFFICER], accounts=[("console", "o1")])
    answer = await text(pipeline, "绑定 10001 张 三", sender="o1")
    assert "对不上" in answer  # the officer's name has no space: "三" is taken as an account
    john = await make_member(db, "10009", "John Smith")
    assert (await text(pipeline, "绑定 10009 John Smith", sender="js")).startswith("绑定成功")
    assert ("console", "js", john.id) in await accounts(db)
    assert [m for _, ext, m in await accounts(db) if ext == "三"] == []
    assert officer.id is not None
