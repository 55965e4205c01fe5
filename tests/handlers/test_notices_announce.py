"""公告: published at once or at a set time (exactly once), listed, shown and withdrawn."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.audit import AuditLog
from models.db import Database
from models.outbox import OutboxMessage
from scheduler.jobs import run_due
from scheduler.occasions import World
from scheduler.planner import missed, plan
from tests.handlers.notices_helpers import NOW, make_union, replica, utc


async def test_a_branch_officer_publishes_to_the_branch_groups(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    reply = await union.say("公告 本周五下午三点在工会活动室召开分工会委员会议", "9002")
    assert reply.splitlines() == [
        "已发布公告 G1。已安排发送到 1 个群（QQ（OneBot） 1 个），稍后陆续送达。",
        "以下 1 个群无法送达，请另行转发：",
        "· 计算机学院QQ官方群：QQ 开放平台机器人只能被动回复，不能主动发消息",
    ]
    [(key, target, text)] = await union.outbox()
    assert target == "111" and key.startswith("broadcast:") and key.endswith(":chat:1")
    assert text.splitlines() == [
        "【公告 G1】计算机学院分工会", "本周五下午三点在工会活动室召开分工会委员会议",
        "（12月5日（周六）发布）",
    ]
    notice = await union.notice("G1")
    assert (notice.state, notice.published_at, notice.author_id) == ("published", NOW, 2)
    async with db.read() as session:
        log = await session.scalar(select(AuditLog).where(AuditLog.action == "notice_publish"))
    assert log is not None and log.target == "notice:G1" and log.actor == "院干部"


async def test_the_union_officers_reach_every_group(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    union = await make_union(db, monkeypatch)
    reply = await union.say("公告 元旦放假通知", "9001")
    assert reply.startswith("已发布公告 G1。已安排发送到 3 个群")
    assert sorted(target for _, target, _ in await union.outbox()) == ["111", "222", "333"]


async def test_members_read_the_list_latest_first_and_cannot_publish(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    for i in range(12):
        await union.say(f"公告 第{i + 1}号通知", "9001" if i % 2 else "9002")
    await union.say("公告 外院自己的通知", "9004")
    first = (await union.say("公告", "9003")).splitlines()
    assert first[0] == "公告（共 12 条，第 1/2 页，最新的在前）："
    assert first[1] == "· G12｜12月5日（周六）｜第12号通知"
    assert first[10] == "· G3｜12月5日（周六）｜第3号通知"
    assert first[-2:] == ["下一页：公告 2", "发送「公告 编号」查看全文，例如：公告 G12"]
    second = (await union.say("公告 2", "9003")).splitlines()
    assert second[1:3] == ["· G2｜12月5日（周六）｜第2号通知", "· G1｜12月5日（周六）｜第1号通知"]
    assert "外院" not in "\n".join(first + second)
    shown = await union.say("公告 g12", "9003")
    assert shown.splitlines() == ["【公告 G12】已发布（2026年12月5日（周六）10:00）", "第12号通知"]
    assert await union.say("公告 G13", "9003") == "没有找到公告 G13。发送「公告」查看最近的公告及编号。"
    refused = await union.say("公告 明天开会", "9003")
    assert refused.startswith("只有工会干部可以发布公告。")
    assert len(await union.outbox()) == 6 + 6 * 3 + 1  # the refusal queued nothing


async def test_a_scheduled_notice_waits_and_is_published_once_by_two_runners(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    reply = await union.say("公告 周一全校教职工大会 发布 12月7日 9:00", "9001")
    assert reply == ("公告 G1 已保存，将于 2026年12月7日（周一）09:00 发布到各群。"
                     "发布前可以发送「撤回公告 G1」撤回。")
    assert await union.outbox() == []
    listed = await union.say("公告", "9001")
    assert "· G1｜12月7日（周一）｜周一全校教职工大会（待发布，12月7日（周一）09:00发布）" in listed
    assert "没有" in await union.say("公告", "9003")  # members see it once it is out
    async with db.read() as session:
        planned = await plan(World(session, union.settings, NOW), NOW, NOW + timedelta(days=3))
    [item] = planned
    assert (item.occasion.title, item.occasion.due_at) == ("发布公告 G1", utc("2026-12-07T01:00"))
    assert sorted(d.label for d in item.reachable) == [
        "外院教职工群（QQ（OneBot））", "未登记的群（QQ（OneBot））", "计算机学院教职工群（QQ（OneBot））"]
    assert await run_due(db, union.settings, utc("2026-12-07T00:59")) == []
    other = await replica(db)
    try:
        due = utc("2026-12-07T01:00")
        results = await asyncio.gather(run_due(db, union.settings, due), run_due(other, union.settings, due))
    finally:
        await other.dispose()
    assert sorted(outcome.queued for result in results for outcome in result) == [3]
    queued = await union.outbox()
    assert sorted(target for _, target, _ in queued) == ["111", "222", "333"]
    assert queued[0][2].startswith("【公告 G1】示范大学工会\n周一全校教职工大会")
    assert (await union.notice("G1")).state == "published"
    assert await run_due(db, union.settings, utc("2026-12-07T01:05")) == []
    assert len(await union.outbox()) == 3


async def test_a_withdrawn_scheduled_notice_is_never_published(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say("公告 周一开会 发布 12月7日 9:00", "9002")
    refused = await union.say("撤回公告 G1", "9004")
    assert refused.startswith("公告 G1属于计算机学院分工会，你是外国语学院分工会的干部")
    assert await union.say("撤回公告 G1", "9002") == "公告 G1 已撤回，不会再发布。"
    assert await union.say("撤回公告 G1", "9002") == "公告 G1 已经撤回过了。"
    assert await run_due(db, union.settings, utc("2026-12-07T01:00")) == []
    assert await union.outbox() == []
    assert "G1｜12月7日（周一）｜周一开会（已撤回）" in await union.say("公告", "9002")


async def test_withdrawing_a_published_notice_recalls_what_waits_and_tells_who_has_it(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say("公告 元旦放假通知", "9001")
    async with db.write() as session:  # one group has had it already
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.target == "222"))
        assert row is not None
        row.status = "sent"
    reply = await union.say("撤回公告 G1", "9001")
    assert reply.splitlines()[0] == "公告 G1 已撤回。还没发出的 2 条已取消发送。"
    assert "已经收到的群会收到撤回说明：已安排发送到 3 个群" in reply
    async with db.read() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows[:3]] == ["recalled", "sent", "recalled"]
    assert {json.loads(r.payload)["text"] for r in rows[3:]} == {
        "【撤回】公告 G1已撤回，请以工会后续通知为准。"}


async def test_a_notice_due_during_a_long_downtime_is_published_at_the_next_run_not_missed(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say("公告 周一全校教职工大会 发布 12月7日 9:00", "9001")
    later = utc("2026-12-09T01:00")  # two days late, far beyond the grace window
    async with db.read() as session:
        assert await missed(World(session, union.settings, later), 7) == []
    [outcome] = await run_due(db, union.settings, later)
    assert (outcome.occasion.key, outcome.queued) == ("notice:G1:publish", 3)
    assert (await union.notice("G1")).published_at == later


async def test_a_withdrawal_racing_the_scheduler_says_what_really_happened(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say("公告 周一全校教职工大会 发布 12月7日 9:00", "9001")
    due = utc("2026-12-07T01:00")
    union.clock[0] = due
    other = await replica(db)
    try:
        _, reply = await asyncio.gather(run_due(other, union.settings, due), union.say("撤回公告 G1", "9001"))
    finally:
        await other.dispose()
    if reply == "公告 G1 已撤回，不会再发布。":
        assert await union.outbox() == []
    else:
        assert reply.startswith("公告 G1 已撤回。还没发出的 3 条已取消发送。")
        async with db.read() as session:
            statuses = set(await session.scalars(select(OutboxMessage.status)))
        assert statuses == {"recalled"}
    assert (await union.notice("G1")).state == "withdrawn"
