"""异议: private, real-name, numbered, delivered to the officers only; 答复异议; the end of a 公示期."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.audit import AuditLog
from models.db import Database
from models.inbound import InboundRecord
from models.notices.tables import NoticeObjection
from models.outbox import OutboxMessage
from scheduler.jobs import run_due
from tests.handlers.notices_helpers import make_union, replica, utc

RESULT = "公示 2026年度工会积极分子评选结果 期满 5个工作日 拟评选张三等10人"
SECRET = "张三的论文是别人代写的"


async def stored_anywhere(db: Database, text: str) -> list[str]:
    """The tables in which ``text`` appears."""
    found = []
    async with db.read() as session:
        checks = {
            "notice_objection": select(func.count()).select_from(NoticeObjection)
            .where(col(NoticeObjection.text).contains(text)),
            "audit_log": select(func.count()).select_from(AuditLog)
            .where(col(AuditLog.after).contains(text)),
            "inbound_record": select(func.count()).select_from(InboundRecord)
            .where(col(InboundRecord.reply).contains(text)),
            "outbox": select(func.count()).select_from(OutboxMessage)
            .where(col(OutboxMessage.payload).contains(text)),
        }
        for table, query in checks.items():
            if await session.scalar(query):
                found.append(table)
    return found


async def test_an_objection_in_a_group_is_pointed_to_private_chat_and_leaves_no_text(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    reply = await union.say(f"异议 S1 {SECRET}", "9003", group=True)
    assert reply.endswith(
        "异议请私聊机器人提出，发送「异议 公示编号 您的意见」。为保护异议人，群里的异议不会被记录。")
    assert await stored_anywhere(db, SECRET) == []
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(NoticeObjection)) == 0


async def test_an_objection_reaches_the_officers_privately_and_is_answered(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    reply = await union.say(f"异议 S1 {SECRET}", "9003")
    assert reply.splitlines() == [
        "已收到你对公示 S1 的异议，编号 Y1。已转给工会干部，答复会私信发给你。",
        "你的姓名和异议内容只有工会干部看得到。",
    ]
    [(key, target, text)] = (await union.outbox())[1:]
    assert (key, target) == ("notice:S1:objection:Y1:member:2", "9002")
    assert text.splitlines()[:3] == [
        "【异议 Y1】公示 S1「2026年度工会积极分子评选结果」",
        "异议人：王会员（工号 3，计算机学院分工会）",
        f"内容：{SECRET}",
    ]
    private_view = await union.say("公示 S1", "9002")
    assert f"· Y1　王会员：{SECRET}（未答复）" in private_view
    group_view = await union.say("公示 S1", "9002", group=True)
    assert "王会员" not in group_view and SECRET not in group_view
    assert "王会员" not in await union.say("公示", "9002", group=True)
    assert (await union.say("答复异议 Y1 经核实论文为本人完成", "9002", group=True)).endswith(
        "「答复异议」只能私聊使用，请私聊机器人发送。")
    assert (await union.say("答复异议 Y1 经核实论文为本人完成", "9004")).startswith(
        "公示 S1属于计算机学院分工会")
    answered = await union.say("答复异议 Y1 经核实论文为本人完成", "9002")
    assert answered == "已记录对异议 Y1 的答复。已私信通知异议人王会员。"
    key, target, text = (await union.outbox())[-1]
    assert (key, target) == ("notice:S1:objection:Y1:answer", "9003")
    assert text == (
        "你对公示 S1「2026年度工会积极分子评选结果」提出的异议（Y1）有了答复：\n经核实论文为本人完成")
    assert await union.say("答复异议 Y1 再说一次", "9002") == "异议 Y1 已经答复过了。"
    groups = [text for _, target, text in await union.outbox() if target in ("111", "222", "333")]
    assert groups and not any("王会员" in text for text in groups)
    async with db.read() as session:
        log = await session.scalar(select(AuditLog).where(AuditLog.action == "notice_objection"))
    assert log is not None and "王会员" in (log.after or "")


async def test_objections_only_while_open_and_only_to_a_disclosure(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    await union.say("公告 开会", "9002")
    assert await union.say("异议 G1 不同意", "9003") == (
        "「G1」不是公示编号。公示编号是 S 加数字，例如：公示 S5")
    assert await union.say("异议 S1", "9003") == (
        "请写上公示编号和您的意见，例如：异议 S8 张三的获奖材料中有一项成果不属于本人")
    assert (await union.say("异议 S1 不同意", "9005")).startswith("没有找到公示 S1")  # another branch's
    union.clock[0] = utc("2026-12-11T10:00")  # 18:00 on the last day: closed
    late = await union.say(f"异议 S1 {SECRET}", "9003")
    assert late == "公示 S1 已期满（12月11日（周五）18:00截止），不再受理异议。如有意见，请直接联系工会干部。"
    unbound = await union.say(f"异议 S1 {SECRET}", "stranger")
    assert unbound.startswith("请先绑定工号")
    assert await stored_anywhere(db, SECRET) == []


async def test_at_expiry_the_officers_hear_the_count_and_the_unanswered_once(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    await union.say("公示 经费收支 期满 12月8日 明细", "9002")
    await union.say("撤回公示 S2", "9002")
    await union.say("异议 S1 第一条意见", "9003")
    await union.say("异议 S1 第二条意见", "9003")
    await union.say("答复异议 Y1 已核实", "9002")
    before = len(await union.outbox())
    assert await run_due(db, union.settings, utc("2026-12-11T09:59")) == []
    other = await replica(db)
    try:
        due = utc("2026-12-11T10:00")
        results = await asyncio.gather(run_due(db, union.settings, due), run_due(other, union.settings, due))
    finally:
        await other.dispose()
    assert [(o.occasion.key, o.queued) for result in results for o in result] == [("notice:S1:expired", 1)]
    key, target, text = (await union.outbox())[-1]
    assert len(await union.outbox()) == before + 1
    assert (key, target) == ("notice:S1:expired:member:2", "9002")
    assert text.splitlines() == [
        "公示 S1「2026年度工会积极分子评选结果」已于 12月11日（周五）18:00 期满。",
        "共收到异议 2 条，其中 1 条未答复：Y2。答复请发送「答复异议 编号 内容」。",
        "如需公布结果，可以发送：公告 S1 结果内容",
    ]
    assert (await union.notice("S1")).expired_at == due
    assert await run_due(db, union.settings, utc("2026-12-11T10:05")) == []
