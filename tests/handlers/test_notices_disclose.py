"""公示: the 公示期 in working days on the statutory calendar, kinds, status, 撤回公示."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.config import load_settings
from models.db import Database
from tests.handlers.notices_helpers import SETTINGS, make_union, utc

RESULT = "公示 2026年度工会积极分子评选结果 期满 5个工作日 经各分工会推荐，拟评选张三等10人"


async def test_five_working_days_end_on_friday_with_the_exact_time(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)  # Saturday 5 December 2026
    reply = await union.say(RESULT, "9002")
    assert reply.splitlines()[0] == "已发布公示 S1（评优结果），公示期至 12月11日（周五）18:00（5个工作日）。"
    assert reply.splitlines()[1].startswith("已安排发送到 1 个群")
    [(_, target, text)] = await union.outbox()
    assert target == "111"
    assert text.splitlines() == [
        "【公示 S1】2026年度工会积极分子评选结果",
        "计算机学院分工会　类别：评优结果",
        "经各分工会推荐,拟评选张三等10人",  # the pipeline reads text NFKC-normalised
        "公示期：12月5日（周六）至 12月11日（周五）18:00。",
        "如有异议，请在公示期内私聊工会助手发送「异议 S1 您的意见」（实名，只有工会干部看得到）。",
    ]
    notice = await union.notice("S1")
    assert (notice.category, notice.ends_at, notice.estimated) == ("评优结果", utc("2026-12-11T10:00"), False)


async def test_working_days_skip_national_day_and_count_the_make_up_saturday(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    union.clock[0] = utc("2026-09-30T02:00")  # Wednesday; 10月1日–7日 off, Saturday 10月10日 a working day
    reply = await union.say("公示 经费收支情况 期满 5个工作日 第三季度收支明细如下", "9002")
    assert reply.splitlines()[0] == "已发布公示 S1（经费），公示期至 10月13日（周二）18:00（5个工作日）。"


async def test_a_year_without_a_known_arrangement_counts_monday_to_friday_and_says_so(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    union.clock[0] = utc("2035-03-05T02:00")  # a Monday
    lines = (await union.say("公示 院务公开 期满 3个工作日 本学期院务安排", "9002")).splitlines()
    assert lines[0] == "已发布公示 S1（院务），公示期至 3月8日（周四）18:00（3个工作日）。"
    assert lines[1] == "2035年的放假安排尚未收录，这段时间的工作日按周一至周五计算，请核对。"
    assert (await union.notice("S1")).estimated is True
    assert "（发布时放假安排尚未收录，公示期按周一至周五计算。）" in await union.say("公示 S1", "9003")


async def test_a_date_a_default_and_refusals_that_store_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(data={**SETTINGS.model_dump(), "notices": {"objection_days": 7}})
    union = await make_union(db, monkeypatch, settings)
    assert (await union.say("公示 评优条件 期满 12-01 条件如下", "9002")).startswith(
        "公示期至 12月1日（周二）18:00 不在发布日之后")
    assert (await union.say("公示 评优条件 期满 300个工作日 条件如下", "9002")).startswith(
        "「300」超出了范围")
    assert (await union.say("公示 评优条件 期满 2027-06-01 条件如下", "9002")).startswith(
        "公示期至 6月1日（周二）18:00 太长了，最长 90 天")
    unreadable = await union.say("公示 评优条件 期满 下个月 条件如下", "9002")
    assert unreadable.startswith("期满时间看不懂：「下个月」")
    assert await union.outbox() == []
    dated = await union.say("公示 先进个人评选条件 期满 12月11日 条件如下", "9002")
    assert dated.startswith("已发布公示 S1（评优条件），公示期至 12月11日（周五）18:00。")
    default = await union.say("公示 院务安排 下学期院务安排如下", "9002")
    assert default.startswith("已发布公示 S2（院务），公示期至 12月15日（周二）18:00（7个工作日）。")


async def test_status_shows_everywhere_and_withdrawing_tells_the_groups(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    await union.say("公示 经费收支 期满 12月8日 明细", "9002")
    listed = (await union.say("公示", "9003")).splitlines()
    assert listed[1:3] == [
        "· S2｜经费｜经费收支｜公示中，至 12月8日（周二）18:00",
        "· S1｜评优结果｜2026年度工会积极分子评选结果｜公示中，至 12月11日（周五）18:00",
    ]
    union.clock[0] = utc("2026-12-09T01:00")
    assert "· S2｜经费｜经费收支｜已期满" in await union.say("公示", "9003")
    shown = (await union.say("公示 S2", "9003")).splitlines()
    assert shown[:3] == [
        "【公示 S2】经费收支", "状态：已期满　类别：经费", "公示期：12月5日（周六）至 12月8日（周二）18:00"]
    reply = await union.say("撤回公示 S1", "9002")
    assert reply.startswith("公示 S1 已撤回。还没发出的 1 条已取消发送。")
    assert "· S1｜评优结果｜2026年度工会积极分子评选结果｜已撤回" in await union.say("公示", "9003")
    assert (await union.say("公示 S1", "9003")).splitlines()[1] == "状态：已撤回　类别：评优结果"


async def test_a_sent_disclosure_withdrawn_is_announced_to_the_groups(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say(RESULT, "9002")
    async with db.write() as session:
        await session.execute(text("UPDATE outbox SET status = 'sent'"))
    reply = await union.say("撤回公示 S1", "9002")
    assert "已经收到的群会收到撤回说明：已安排发送到 1 个群" in reply
    assert (await union.outbox())[-1][2] == (
        "【撤回】公示 S1「2026年度工会积极分子评选结果」已撤回，请以工会后续通知为准。")


async def test_the_kind_is_asked_in_private_and_other_in_a_group(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    asked = await union.say("公示 关于食堂承包商 期满 3个工作日 拟续签", "9002")
    assert asked.splitlines()[-1] == "这是哪一类公示？请回复：1 评优条件、2 评优结果、3 经费、4 院务、5 其他"
    assert (await union.say("6", "9002")).startswith("「6」不是公示类别")
    answered = await union.say("院务", "9002")
    assert answered.startswith("已发布公示 S1（院务），公示期至 12月9日（周三）18:00")
    grouped = await union.say("公示 关于食堂承包商 期满 3个工作日 拟续签", "9002", group=True)
    assert "已发布公示 S2（其他）" in grouped


async def test_the_private_dialog_asks_for_each_part(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    union = await make_union(db, monkeypatch)
    started = await union.say("发布公示", "9002")
    assert started.splitlines()[-1] == "请发送公示的标题，例如：2026年度工会积极分子评选结果"
    assert (await union.say("2026年度优秀会员评选结果", "9002")).startswith("这是哪一类公示？")
    assert (await union.say("2", "9002")).startswith("公示到哪天为止？")
    assert await union.say("默认", "9002") == "请发送公示的内容。"
    done = await union.say("拟评选王芳等5人为优秀会员", "9002")
    assert done.startswith("已发布公示 S1（评优结果），公示期至 12月11日（周五）18:00（5个工作日）。")


async def test_a_result_refers_to_the_conditions_and_is_scheduled(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    union = await make_union(db, monkeypatch)
    await union.say("公告 2026年度先进个人评选条件：……", "9002")
    reply = await union.say(
        "公示 先进个人评选结果 条件 G1 期满 5个工作日 拟评选张三 发布 12月7日 9:00", "9002")
    assert reply.splitlines()[0] == (
        "公示 S1（评优结果）已保存，将于 2026年12月7日（周一）09:00 发布到各群，"
        "公示期至 12月14日（周一）18:00（5个工作日）。")
    assert "评优条件见公告 G1。" in await union.say("公示 S1", "9002")
    assert "S1" not in await union.say("公示", "9003")  # members see it once published
    outcome = await union.say("公告 S1 经公示无异议，张三当选先进个人", "9002")
    assert outcome.startswith("已发布公告 G2。")
    assert (await union.outbox())[-1][2].splitlines()[:3] == [
        "【公告 G2】计算机学院分工会", "关于公示 S1「先进个人评选结果」的结果：",
        "经公示无异议,张三当选先进个人"]
