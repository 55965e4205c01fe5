"""金点子 rounds, 评选, statistics, export and 转提案, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.appkeys import DB, SETTINGS
from bot.config import Settings
from bot.downloads import _build
from bot.pipeline import Pipeline
from models.db import Database
from models.events.links import DownloadLink
from models.ideas.tables import IdeaRound
from tests.handlers.ideas_support import (
    YEAR,
    cast,
    counts,
    idea,
    idea_settings,
    make_pipeline,
    outbox,
    say,
)

NEXT_MONTH = f"{YEAR + 1}-01-31"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return idea_settings(tmp_path)


async def test_branch_round_takes_its_members_ideas_union_round_the_rest(
    pipeline: Pipeline, db: Database
) -> None:
    people = await cast(db)
    assert await say(pipeline, "cso", f"点子征集 开始 计算机学院金点子 截止 {NEXT_MONTH}") == (
        f"已发起「计算机学院金点子」金点子征集（计算机学院分工会），即日起至 {NEXT_MONTH}（含当天）"
        "大家可以发送「点子 内容」提交，截止前三天会提醒各群。")
    assert (await say(pipeline, "of", f"点子征集 开始 全校金点子 截止 {NEXT_MONTH}")).startswith(
        "已发起「全校金点子」金点子征集（全校）")
    assert (await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")).endswith(
        "参加「计算机学院金点子」征集。大家可以发送「支持 D1」支持它。")
    assert "参加「全校金点子」征集" in await say(pipeline, "ww", "点子 图书馆周末延长开放时间")
    assert (await say(pipeline, "zs", "点子征集")).startswith("「计算机学院金点子」金点子征集正在进行")
    assert (await say(pipeline, "ls", "点子征集 结束")).startswith("「点子征集 结束」需要干部身份")
    assert (await say(pipeline, "cso", f"点子征集 开始 又一轮 截止 {NEXT_MONTH}")).startswith(
        "「计算机学院金点子」的金点子征集正在进行")
    assert (await say(pipeline, "cso", "点子征集 结束")).startswith("「计算机学院金点子」的金点子征集已结束")
    # the CS round is over: its idea can no longer be supported; new CS ideas join the union's round
    assert (await say(pipeline, "ls", "支持 D1")).startswith("「计算机学院金点子」征集已于")
    assert "参加「全校金点子」征集" in await say(pipeline, "ls", "点子 教学楼增加饮水机，课间排队太久")
    assert people.zs.id is not None


async def test_rounds_only_refuses_ideas_outside_a_round(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path, rounds_only=True))
    await cast(db)
    before = await counts(db)
    assert await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师") == (
        "现在不在金点子征集期内，暂时不能提交点子。征集开始后可以发送「点子征集」查看截止日期。")
    assert await counts(db) == before
    await say(pipeline, "of", f"点子征集 开始 全校金点子 截止 {NEXT_MONTH}")
    await say(pipeline, "of", "点子征集 结束")
    assert (await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")).startswith(
        "「全校金点子」的金点子征集已于")


async def test_judging_tells_submitter_and_department_privately(pipeline: Pipeline, db: Database) -> None:
    people = await cast(db)
    await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    await say(pipeline, "nb", "点子 校医院周末开设门诊，方便教职工看病", channel="qq_official")
    answer = await say(pipeline, "of", "评选 D1 采纳 交 后勤管理处 很实用，请尽快落实")
    assert answer.splitlines() == [
        "点子 D1《食堂增加夜宵窗口，方便加班老师》已评选为「采纳」，交后勤管理处办理。",
        "已私信通知张三。", "已私信通知周九。",
    ]
    queued = await outbox(db)
    told = [text for key, (target, text) in queued.items() if key.startswith("idea:D1:judged")]
    assert told == ["你提交的金点子 D1《食堂增加夜宵窗口，方便加班老师》已评选为「采纳」，交后勤管理处办理。"
                    "评语：很实用，请尽快落实感谢你的好建议！"]
    assert any(key.startswith("idea:D1:assigned") and target.endswith("hq")
               for key, (target, _t) in queued.items())
    anonymous = await say(pipeline, "of", "评选 D2 金点子")
    assert anonymous.splitlines()[1] == "已私信告知提出人（匿名，姓名不显示）。"
    assert "张三" not in anonymous
    [(target, text)] = [v for k, v in (await outbox(db)).items() if k.startswith("idea:D2:judged")]
    assert target.endswith("zs") and text.startswith("你匿名提交的金点子 D2")
    unreached = await say(pipeline, "of", "评选 D3 存档")
    assert "以下 1 人没有绑定能接收通知的账号，请另行告知：郑十一。" in unreached
    assert (await idea(db, "D1")).status == "adopted"
    assert (await say(pipeline, "ls", "支持 D1")) == "D1 已经评选过了（采纳），不能再支持或取消支持。"
    assert people.hq.id is not None


async def test_judging_respects_the_officers_reach(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")
    before = await counts(db)
    refused = await say(pipeline, "flo", "评选 D1 金点子")
    assert "计算机学院分工会" in refused and (await idea(db, "D1")).status == "open"
    assert await counts(db) == before
    judged = await say(pipeline, "cso", "评选 D1 金点子")
    assert judged.startswith("点子 D1《食堂增加夜宵窗口，方便加班老师》已评选")
    assert (await say(pipeline, "cso", "评选 D1 优秀")).startswith("请写明评选结果")
    assert (await say(pipeline, "cso", "评选 D1 采纳 交 保卫处")).startswith("没有「保卫处」这个部门。")


async def test_statistics_count_people_once_and_by_branch(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    await say(pipeline, "ww", "匿名点子 图书馆周末延长开放时间到晚上")
    for who in ("ls", "ww", "of"):
        await say(pipeline, who, "支持 D2")
    await say(pipeline, "ls", "支持 D1")
    await say(pipeline, "of", "评选 D2 金点子")
    await say(pipeline, "of", "评选 D1 采纳")
    figures = await say(pipeline, "of", "点子统计")
    assert figures.splitlines() == [
        f"金点子统计（{YEAR}年）",
        "征集 3 条（匿名 2 条），参与 2 人，支持 4 次，评为金点子 1 个，采纳 1 条。",
        "按分工会：",
        "· 外国语学院分工会：征集 1 条（匿名 1），参与 1 人，支持 0 次，金点子 0 个，采纳 0 条",
        "· 计算机学院分工会：征集 2 条（匿名 1），参与 1 人，支持 4 次，金点子 1 个，采纳 1 条",
    ]
    branch = await say(pipeline, "cso", f"点子统计 {YEAR}年")
    assert "征集 2 条（匿名 1 条），参与 1 人，支持 4 次" in branch and "外国语" not in branch
    assert (await say(pipeline, "of", "点子统计 没有这一轮")).startswith("没有名为「没有这一轮」的金点子征集")


async def test_export_of_a_round_opens_and_hides_anonymous_submitters(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await cast(db)
    await say(pipeline, "of", f"点子征集 开始 全校金点子 截止 {NEXT_MONTH}")
    await say(pipeline, "zs", "点子 =1+1 食堂增加夜宵窗口")
    await say(pipeline, "ls", "匿名点子 教学楼厕所太少，课间总是排长队")
    await say(pipeline, "zs", "支持 D2")
    answer = await say(pipeline, "of", "导出点子 全校金点子")
    assert answer.startswith("全校金点子的金点子已生成 Excel 表")
    async with db.read() as session:
        link = await session.scalar(select(DownloadLink))
        assert link is not None and link.kind == "idea_round"
        round_id = await session.scalar(select(IdeaRound.id))
        assert link.subject_id == round_id

    class Request:
        def __init__(self) -> None:
            self.app = {DB: db, SETTINGS: settings}

    built = await _build(Request(), link)  # type: ignore[arg-type]
    assert built is not None and built.rows == 2 and built.filename == "全校金点子-金点子.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(built.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    toilets, canteen = "教学楼厕所太少，课间总是排长队", "=1+1 食堂增加夜宵窗口"
    assert rows[1][:8] == [1, "D2", toilets, toilets, "匿名", None, 1, "待评选"]
    assert rows[2][1:7] == ["D1", canteen, canteen, "张三", "计算机学院分工会", 0]
    assert sheet.cell(3, 3).data_type == "s"
    assert "李四" not in repr(rows)
    assert (await say(pipeline, "of", "导出点子")).startswith("「导出点子」后面还要写上内容")
    assert timedelta(0) < link.expires_at - link.created_at <= timedelta(minutes=60)
    await say(pipeline, "ww", "点子 图书馆周末延长开放时间到晚上")
    await say(pipeline, "flo", f"导出点子 {YEAR}")
    async with db.read() as session:
        branch_link = await session.scalar(select(DownloadLink).where(DownloadLink.kind == "idea_year"))
    assert branch_link is not None
    only_fl = await _build(Request(), branch_link)  # type: ignore[arg-type]
    assert only_fl is not None and only_fl.rows == 1


async def test_representative_turns_an_idea_into_a_proposal_draft(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", "匿名点子 标题：关于增设夜宵窗口 食堂晚上十点后增加夜宵窗口")
    assert (await say(pipeline, "zs", "转提案 D1")).startswith("「转提案」需要代表身份")
    question = await say(pipeline, "rep", "转提案 D1")
    assert "理由" in question
    filed = await say(pipeline, "rep", "加班教师吃饭难")
    if "类别" in filed:
        filed = await say(pipeline, "rep", "无")
    assert filed.startswith(f"提案已提交，编号 T{YEAR}-001《关于增设夜宵窗口》")
    detail = await say(pipeline, "rep", f"提案 T{YEAR}-001")
    assert "食堂晚上十点后增加夜宵窗口（本提案由金点子 D1 转来）" in detail
