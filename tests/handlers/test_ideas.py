"""金点子 end to end through the pipeline, on SQLite and PostgreSQL: submitting, the
refusals, viewing, the ranking and support."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.pipeline import Pipeline
from models.db import Database
from tests.handlers.ideas_support import (
    YEAR,
    cast,
    counts,
    idea,
    idea_settings,
    in_group,
    make_pipeline,
    say,
)

CANTEEN = "食堂增加夜宵窗口。加班的老师晚上十点以后也能吃上热饭"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return idea_settings(tmp_path)


async def test_submit_named_idea_numbers_title_and_pool(pipeline: Pipeline, db: Database) -> None:
    people = await cast(db)
    answer = await say(pipeline, "zs", f"点子 {CANTEEN}")
    assert answer == (f"收到你的金点子，编号 D1《食堂增加夜宵窗口》，收入 {YEAR} 年度点子库。"
                      "大家可以发送「支持 D1」支持它。")
    stored = await idea(db, "D1")
    assert (stored.member_id, stored.anonymous, stored.author_tag) == (people.zs.id, False, None)
    assert stored.branch_id == people.zs.branch_id and stored.round_id is None and stored.year == YEAR
    assert stored.content == "食堂增加夜宵窗口。加班的老师晚上十点以后也能吃上热饭"
    second = await say(pipeline, "ls", "点子 标题：校车晚班 建议校车在晚上九点增开一班，方便晚自习的老师")
    assert second.startswith("收到你的金点子，编号 D2《校车晚班》")
    assert (await idea(db, "D2")).content == "建议校车在晚上九点增开一班，方便晚自习的老师"


async def test_a_group_takes_named_ideas_and_refuses_anonymous_ones(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    assert (await in_group(pipeline, "zs", f"点子 {CANTEEN}")).startswith("收到你的金点子，编号 D1")
    before = await counts(db)
    answer = await in_group(pipeline, "ls", "匿名点子 教学楼厕所太少，课间排长队")
    assert answer.startswith("匿名点子请私聊机器人发送：在群里发，大家都能看到是谁发的。这条消息没有保存")
    assert await counts(db) == before
    assert "请把点子的内容写在后面" in await in_group(pipeline, "ls", "点子")


SHORT = "至少写 8 个字，把想法说清楚，例如：点子 食堂增加夜宵窗口，方便加班的老师"


@pytest.mark.parametrize(("text", "expected"), [
    ("点子 好主意", f"点子太短了（3 字），{SHORT}"),
    ("点子 " + "长" * 1001, "点子太长了（1001 字），最多 1000 字，请精简后再发。"),
    ("匿名点子 好", f"点子太短了（1 字），{SHORT}"),
    ("支持 D9", "没有找到点子 D9，请核对编号。发送「点子榜」可以查看点子和编号。"),
    ("支持 X9", "「X9」不是有效的点子编号。编号是 D 加数字，例如：支持 D31"),
    ("支持", "「支持」后面还要写上内容，用法：支持 <编号>，例如：支持 D31"),
    ("点子榜 abc", "「abc」不是页码，请写数字，例如：点子榜 2"),
    ("评选 D1 金点子", "「评选」需要干部身份才能使用。如有疑问请联系工会干部。"),
])
async def test_bad_input_gets_one_sentence_and_stores_nothing(
    pipeline: Pipeline, db: Database, text: str, expected: str
) -> None:
    await cast(db)
    before = await counts(db)
    assert await say(pipeline, "zs", text) == expected
    assert await counts(db) == before


async def test_exact_duplicate_of_ones_own_idea_is_refused(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", f"点子 {CANTEEN}")
    before = await counts(db)
    assert await say(pipeline, "zs", f"匿名点子 {CANTEEN}") == (
        "你已经提交过内容完全相同的点子（D1），不用重复提交。发送「点子 D1」可以查看它。")
    assert await counts(db) == before
    assert (await say(pipeline, "ls", f"点子 {CANTEEN}")).startswith("收到你的金点子，编号 D2")


async def test_empty_idea_in_private_chat_asks_for_the_text(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    question = await say(pipeline, "zs", "匿名点子")
    assert "请发送你的匿名金点子内容" in question
    answer = await say(pipeline, "zs", "教学楼厕所太少，课间总是排长队")
    assert answer.startswith("收到你的匿名金点子，编号 D1《教学楼厕所太少，课间总是排长队》")
    assert (await idea(db, "D1")).anonymous


async def test_support_rules(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path, max_supports=2))
    await cast(db)
    await say(pipeline, "zs", f"点子 {CANTEEN}")
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    await say(pipeline, "ww", "点子 图书馆周末延长开放到晚上十点")
    await say(pipeline, "ww", "点子 体育馆中午向教职工免费开放")
    assert await say(pipeline, "zs", "支持 D1") == "D1 是你自己提出的点子，不能支持自己的点子。"
    assert await say(pipeline, "zs", "支持 D2") == "D2 是你自己提出的点子，不能支持自己的点子。"
    assert await say(pipeline, "ls", "支持 D2") == (
        "已支持 D2《教学楼厕所太少，课间总是排长队》，目前共 1 人支持。本轮你已支持 1 条，最多 2 条。")
    assert await say(pipeline, "ls", "支持 D2") == "你已经支持过 D2 了，每人每条只能支持一次。"
    assert (await say(pipeline, "ls", "支持 D3")).startswith("已支持 D3")
    before = await counts(db)
    assert await say(pipeline, "ls", "支持 D4") == (
        "本轮你已经支持了 2 条点子，每人最多支持 2 条。想支持 D4，可以先对别的点子发送「取消支持 编号」。")
    assert await counts(db) == before
    assert await say(pipeline, "ls", "取消支持 D3") == (
        "已取消对 D3《图书馆周末延长开放到晚上十点》的支持，目前共 0 人支持。")
    assert await say(pipeline, "ls", "取消支持 D3") == "你还没有支持过 D3，不用取消。"
    assert (await say(pipeline, "ls", "支持 D4")).startswith("已支持 D4")
    assert (await idea(db, "D2")).support_count == 1 and (await idea(db, "D3")).support_count == 0


async def test_board_ranks_by_support_ties_earlier_first_and_pages(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path, page_size=2))
    await cast(db)
    for text in ("第一条点子内容写得足够长", "第二条点子内容写得足够长", "第三条点子内容写得足够长"):
        await say(pipeline, "zs", f"点子 {text}")
    await say(pipeline, "ls", "支持 D3")
    board = await say(pipeline, "ww", "点子榜")
    assert board.splitlines()[:3] == [
        f"金点子榜（{YEAR} 年，共 3 条，第 1/2 页）",
        "1. D3《第三条点子内容写得足够长》1 人支持",
        "2. D1《第一条点子内容写得足够长》0 人支持",
    ]
    assert "下一页：点子榜 2" in board
    second = await say(pipeline, "ww", "点子榜 2")
    assert second.splitlines()[1] == "3. D2《第二条点子内容写得足够长》0 人支持"
    assert await say(pipeline, "ww", "点子榜 5") == "点子榜只有 2 页，没有第 5 页。例如：点子榜 2"


async def test_idea_view_and_my_ideas(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", f"点子 {CANTEEN}")
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    await say(pipeline, "ls", "支持 D2")
    shown = await say(pipeline, "ls", "点子 D2")
    assert shown.splitlines() == [
        "点子 D2《教学楼厕所太少，课间总是排长队》", "教学楼厕所太少，课间总是排长队", "提出人：匿名",
        shown.splitlines()[3], "支持：1 人（含你）", "状态：待评选",
    ]
    assert "（你提出的）" in await say(pipeline, "zs", "点子 D2")
    named = await say(pipeline, "ls", "点子 D1")
    assert "提出人：张三（计算机学院分工会）" in named and "支持它请发送：支持 D1" in named
    mine = await say(pipeline, "zs", "我的点子")
    assert mine.splitlines() == [
        "你提交的金点子（共 2 条）：",
        "D2《教学楼厕所太少，课间总是排长队》（匿名）1 人支持，待评选",
        "D1《食堂增加夜宵窗口》0 人支持，待评选",
    ]
    assert (await say(pipeline, "ls", "我的点子")).startswith("你还没有提交过金点子。")


async def test_a_refused_answer_in_the_dialog_stores_nothing(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    assert "请发送你的金点子内容" in await say(pipeline, "zs", "点子")
    before = await counts(db)
    assert (await say(pipeline, "zs", "好主意")).startswith("点子太短了（3 字）")
    assert await counts(db) == before
