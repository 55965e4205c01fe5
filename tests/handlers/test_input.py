"""What a person meets when they type the way people type: questions answered briefly,
Chinese punctuation, missing arguments, guessed words, interrupted dialogs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.args import parse_day, parse_when
from bot.errors import UserError
from bot.pipeline import Pipeline
from handlers.basics import parse_staff_no
from models.db import Database
from models.dialog_state import DialogState
from models.events.tables import Event, Signup
from models.org import Account, Member, Role
from models.proposals.tables import Proposal
from tests.clock import SUITE_START, FrozenClock
from tests.factories import make_member, message
from tests.handlers.test_proposals_support import cast, make_pipeline, proposal, proposal_settings
from tests.handlers.test_proposals_support import say as say_on_qq

TZ = ZoneInfo("Asia/Shanghai")


async def say(pipeline: Pipeline, sender: str, words: str) -> str:
    reply = await pipeline.handle(message(words, sender=sender))
    assert reply is not None
    return reply.text


@pytest.fixture
async def officer(db: Database) -> Member:
    await make_member(db, "10002", "张三", accounts=[("console", "zhang")])
    return await make_member(db, "10001", "王干部", roles=[Role.OFFICER], accounts=[("console", "officer")])


async def only_event(db: Database) -> Event:
    async with db.read() as session:
        events = list(await session.scalars(select(Event)))
    assert len(events) == 1
    return events[0]


# ---------------------------------------------------------------- 4. questions take their answers


@pytest.mark.parametrize(("answer", "hour"), [("下午", 15), ("下午。", 15),
                                               ("上午", 3), ("15:00", 15), ("下午3点半", 15)])
async def test_am_or_pm_question_takes_the_natural_answer(
    pipeline: Pipeline, db: Database, officer: Member, answer: str, hour: int
) -> None:
    question = await say(pipeline, "officer", "发起活动 羽毛球赛 时间 明天 3点 地点 体育馆 名额 30")
    assert question == "「明天 3点」是上午还是下午？请写成 明天 下午3点 或 明天 15:00 这样的形式。"
    reply = await say(pipeline, "officer", answer)
    assert reply.startswith("已发起活动 A1 羽毛球赛。"), reply
    start = (await only_event(db)).starts_at.astimezone(TZ)
    assert (start.hour, start.minute) == (hour, 30 if "半" in answer else 0)


async def test_am_or_pm_question_inside_the_dialog(
    pipeline: Pipeline, db: Database, officer: Member
) -> None:
    await say(pipeline, "officer", "发起活动")
    await say(pipeline, "officer", "羽毛球赛")
    assert (await say(pipeline, "officer", "后天 4点")).startswith("「后天 4点」是上午还是下午？")
    assert (await say(pipeline, "officer", "下午")).startswith("请发送活动地点")
    await say(pipeline, "officer", "体育馆")
    await say(pipeline, "officer", "20")
    assert (await say(pipeline, "officer", "无")).startswith("已发起活动 A1 羽毛球赛。")
    assert (await only_event(db)).starts_at.astimezone(TZ).hour == 16


# ---------------------------------------------------------------- 5. punctuation and case


@pytest.mark.parametrize("words", ["我。", "我！", "我?", "＃我～", "我的信息。"])
async def test_trailing_punctuation_is_not_part_of_the_command(
    pipeline: Pipeline, officer: Member, words: str
) -> None:
    assert (await say(pipeline, "zhang", words)).startswith("张三（工号 10002）")


@pytest.mark.parametrize(
    "words", ["绑定，10003，李四", "绑定,10003,李四。", "绑定 10003，李四", "绑定：10003 李四"]
)
async def test_chinese_commas_separate_arguments(pipeline: Pipeline, db: Database, words: str) -> None:
    await make_member(db, "10003", "李四")
    assert (await say(pipeline, "new", words)).startswith("绑定成功！你好，李四")
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1


@pytest.mark.parametrize("words", ["HELP", "Help", "Menu", "MENU 绑定"])
async def test_english_aliases_in_any_case(pipeline: Pipeline, officer: Member, words: str) -> None:
    reply = await say(pipeline, "zhang", words)
    assert reply.startswith("绑定：" if "绑定" in words else "可以使用的命令")


async def test_an_english_word_is_not_cut_out_of_a_longer_one(
    pipeline: Pipeline, officer: Member
) -> None:
    assert (await say(pipeline, "zhang", "helpme")).startswith("没看懂「helpme」")


# ---------------------------------------------------------------- 6. telephone numbers

WITH_PHONE = "发起活动 文化衫领取 时间 下周六 10:00 地点 工会 名额 30 填写 尺码、联系电话"


@pytest.mark.parametrize(("words", "phone", "note"), [
    ("报名 A1 尺码 L 联系电话 138 0000 0002", "13800000002", None),
    ("报名 A1 尺码 L 联系电话 138-0000-0002 晚到", "138-0000-0002", "晚到"),
    ("报名 A1 联系电话 0571-8888 1234 尺码 L", "0571-88881234", None),
    ("报名 A1 尺码 L 联系电话 13800000002 备注 素食", "13800000002", "素食"),
])
async def test_telephone_numbers_in_groups_are_kept_whole(
    pipeline: Pipeline, db: Database, officer: Member, words: str, phone: str, note: str | None
) -> None:
    await say(pipeline, "officer", WITH_PHONE)
    assert (await say(pipeline, "zhang", words)).startswith("报名成功！A1 文化衫领取")
    async with db.read() as session:
        signup = await session.scalar(select(Signup))
    assert signup is not None
    assert (json.loads(signup.answers or "{}"), signup.note) == ({"尺码": "L", "联系电话": phone}, note)


@pytest.mark.parametrize(("words", "echo"), [
    ("报名 A1 尺码 L 联系电话 138 0000", "138 0000"),
    ("报名 A1 尺码 L 联系电话 138", "138"),
    ("报名 A1 尺码 L 联系电话 找我同事", "找我同事"),
])
async def test_an_unclear_number_is_asked_about_and_nothing_stored(
    pipeline: Pipeline, db: Database, officer: Member, words: str, echo: str
) -> None:
    await say(pipeline, "officer", WITH_PHONE)
    assert await say(pipeline, "zhang", words) == (
        f"「联系电话」写的「{echo}」看不出是不是完整的号码（号码后面的内容会当作备注）。"
        "请把号码连着写，例如：报名 A1 联系电话 13800000000"
    )
    async with db.read() as session:
        assert await session.scalar(select(Signup)) is None


# ---------------------------------------------------------------- 7. missing arguments


@pytest.mark.parametrize(("words", "expected"), [
    ("名单", "「名单」后面还要写上内容，用法：名单 <编号>，例如：名单 A1"),
    ("名单。", "「名单」后面还要写上内容，用法：名单 <编号>，例如：名单 A1"),
    ("取消活动", "「取消活动」后面还要写上内容，用法：取消活动 <编号> [原因]，例如：取消活动 A1 场地"
                 "临时检修"),
    ("撤回", f"「撤回」后面还要写上提案编号，例如：撤回 T{SUITE_START.astimezone(TZ).year}-001"),
    ("广播", "「广播」后面还要写上内容，用法：广播 <内容>，例如：广播 本周五下午三点在工会活动室"
             "召开分工会委员会议"),
])
async def test_a_missing_argument_gets_the_usage(
    pipeline: Pipeline, officer: Member, words: str, expected: str
) -> None:
    assert await say(pipeline, "officer", words) == expected


# ---------------------------------------------------------------- 8. guessed words


@pytest.mark.parametrize(("words", "expected"), [
    ("join A2", "没看懂「join A2」。你是不是想：\n· 报名 <编号> [+家属人数] [备注]"),
    ("join a7", "没看懂「join a7」。你是不是想：\n· 报名 <编号> [+家属人数] [备注] — 报名参加活动，"
                "可带家属、写备注；名额满了自动候补；再发一次可修改，例如：报名 A7 +1 素食"),
    ("提按 关于食堂", "没看懂「提按 关于食堂」。你是不是想：\n· 提案 标题：… 理由：… 建议：…"),
    ("投票", "没看懂「投票」。发送「帮助」查看能用的命令，例如：帮助 活动"),
])
async def test_unknown_words_get_the_nearest_commands(
    pipeline: Pipeline, officer: Member, words: str, expected: str
) -> None:
    assert (await say(pipeline, "zhang", words)).startswith(expected)


async def test_suggestions_leave_out_commands_the_sender_may_not_use(
    pipeline: Pipeline, officer: Member
) -> None:
    assert "名单 <编号>" in await say(pipeline, "officer", "名单名单")
    assert "名单 <编号>" not in await say(pipeline, "zhang", "名单名单")


async def test_unknown_words_in_a_group_stay_silent(pipeline: Pipeline, officer: Member) -> None:
    for words in ("join A2", "投票"):
        assert await pipeline.handle(message(words, sender="zhang", chat_type="group")) is None


# ---------------------------------------------------------------- 10. interrupted dialogs


async def test_an_interrupted_proposal_is_kept_and_taken_up_again(db: Database) -> None:
    await cast(db)
    pipeline = make_pipeline(db, proposal_settings(categories=[]))
    await say_on_qq(pipeline, "zs", "提案")
    await say_on_qq(pipeline, "zs", "关于增设校车班次的提案")
    reply = await say_on_qq(pipeline, "zs", "我")
    assert reply.startswith("张三（工号 1001）")
    assert reply.endswith(
        "（刚才「提案」还没填完，已经填的内容保留 24 小时：发送「提案」接着填，发送「取消」放弃。）"
    )
    assert (await say_on_qq(pipeline, "zs", "随便说说")).startswith("刚才「提案」还没填完")
    assert (await say_on_qq(pipeline, "zs", "提案")).splitlines() == [
        "好的，接着刚才的填（随时发送「取消」可以退出）。", "请发送提案理由：现在的情况和存在的问题。",
    ]
    await say_on_qq(pipeline, "zs", "校区之间通勤不便")
    assert (await say_on_qq(pipeline, "zs", "高峰期增开两班")).startswith("提案已提交")
    filed = await proposal(db, await _first_number(db))
    assert (filed.title, filed.reason) == ("关于增设校车班次的提案", "校区之间通勤不便")


async def test_a_dialog_replaced_by_a_new_one_says_the_draft_is_gone(
    pipeline: Pipeline, db: Database, officer: Member
) -> None:
    await say(pipeline, "officer", "发起活动")
    await say(pipeline, "officer", "羽毛球赛")
    reply = await say(pipeline, "officer", "发起活动 篮球赛 时间 明天 10:00")
    assert reply.splitlines()[1] == "请发送活动地点，例如：体育馆二楼羽毛球场"
    assert reply.endswith(
        "（刚才「发起活动」还没填完的内容已放弃：一次只能填写一件事。需要的话请重新发送「发起活动」。）"
    )
    async with db.read() as session:
        state = await session.scalar(select(DialogState))
    assert state is not None and "篮球赛" in state.data


async def _first_number(db: Database) -> str:
    async with db.read() as session:
        found = await session.scalar(select(Proposal.number))
    assert found is not None
    return found


# ---------------------------------------------------------------- 9. examples that fit


def test_date_examples_lie_ahead_of_the_clock() -> None:
    now = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(UserError) as bad:
        parse_when("45号", now=now, tz=TZ)
    assert bad.value.message == (
        "日期看不懂：「45号」。请写成 2027-06-22 14:00、6月22日 14:00、明天 14:00 或 下周六 下午2点"
        " 这样的形式。"
    )
    with pytest.raises(UserError) as no_day:
        parse_day("2027-02-30", now=now, tz=TZ)
    assert "例如 2027-06-22 或 6月22日" in no_day.value.message


def test_echoed_input_is_what_was_typed_and_a_cut_says_so() -> None:
    now = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(UserError) as late:
        parse_when("今晚 吃饭", now=now, tz=TZ)
    assert late.value.message.startswith("时间看不懂：「今晚 吃饭」")
    with pytest.raises(UserError) as long:
        parse_when("明天 " + "很晚" * 20, now=now, tz=TZ)
    assert long.value.message.startswith("时间看不懂：「明天 " + "很晚" * 13 + "…」。")


FIXED_NOW = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)  # examples three weeks ahead: 6月22日, 2027-06-22


async def test_event_examples_name_the_event_at_hand_and_a_date_ahead(
    pipeline: Pipeline, db: Database, officer: Member, clock: FrozenClock
) -> None:
    clock.now = FIXED_NOW
    for _ in range(2):
        await say(pipeline, "officer", "发起活动 羽毛球赛 时间 下周六 14:00 地点 体育馆 名额 30")
    await say(pipeline, "officer", "取消活动 A1 下雨")  # A2 is the one event still on
    roster = await say(pipeline, "officer", "名单")
    assert roster == "「名单」后面还要写上内容，用法：名单 <编号>，例如：名单 A2"
    assert (await say(pipeline, "officer", "取消活动")).endswith("例如：取消活动 A2 场地临时检修")
    assert await say(pipeline, "officer", "修改活动") == (
        "请写出要改的项目，例如：修改活动 A2 名额 40，或 修改活动 A2 时间 6月22日 14:00 地点 体育馆"
    )
    typed = await say(pipeline, "officer", "修改活动 a7")
    assert typed.startswith("请写出要改的项目，例如：修改活动 A7 名额 40")
    assert (await say(pipeline, "zhang", "活动 A9")).endswith("例如：活动 A2。")
    not_code = await say(pipeline, "zhang", "签到 下午")
    assert not_code.startswith("「下午」不是活动编号。活动编号是 A 加数字，例如：A2。")
    assert (await say(pipeline, "officer", "导出 A2 pdf")).endswith("例如：导出 A2 csv")
    assert (await say(pipeline, "officer", "活动统计 去年前")).endswith("例如：活动统计 2027")
    ends = await say(pipeline, "officer", "修改活动 A2 时间 6月12日 16:00 结束 15:00")
    assert ends.endswith("例如：时间 6月12日 14:00-16:00"), ends
    late = await say(pipeline, "officer", "修改活动 A2 截止 6月20日 18:00")
    assert late.endswith("截止要在开始之前，例如：截止 6月11日 18:00"), late
    assert "12月" not in ends + late


async def test_echoes_are_what_was_typed_and_cut_with_an_ellipsis(
    pipeline: Pipeline, db: Database, officer: Member
) -> None:
    await say(pipeline, "officer", "发起活动 羽毛球赛 时间 下周六 14:00 地点 体育馆 名额 30")
    words = "随便" * 20
    unknown = await say(pipeline, "officer", f"修改活动 A1 {words}")
    assert unknown.startswith(f"看不懂「{'随便' * 14}随…」。")
    odd = await say(pipeline, "officer", "修改活动 A1 对象 火星 学院")
    assert odd.startswith("没有叫「火星 学院」的分工会。"), odd
    many = await say(pipeline, "officer", "修改活动 A1 名额 " + "很多" * 20)
    assert many.startswith("名额「" + "很多" * 9 + "很…」不对"), many
    assert (await say(pipeline, "zhang", "报名 A1 +" + "9" * 20)).startswith("「+99999999…」不是家属人数。")


async def test_proposal_examples_use_the_departments_of_the_roster(db: Database) -> None:
    pipeline = make_pipeline(db, proposal_settings(departments=[]))
    await cast(db)
    await say_on_qq(pipeline, "zs", "提案 标题：关于食堂的提案 理由：太贵 建议：降价")
    number = await _first_number(db)
    await say_on_qq(pipeline, "ls", f"附议 {number}")
    await say_on_qq(pipeline, "ww", f"附议 {number}")
    usage = await say_on_qq(pipeline, "of", f"立案 {number} 协办 人事处")
    assert usage.startswith(f"请按这样的格式立案：立案 {number} 主办 ")
    assert "后勤管理处" in usage or "教务处" in usage  # departments of the cast's 承办人
    converted = await say_on_qq(pipeline, "of", f"转建议 {number}")
    assert "可由" in converted and "直接改进" in converted
    lead = usage.split(" 主办 ")[1].split(" ")[0]
    missing = await say_on_qq(pipeline, "of", "立案")
    assert missing == f"「立案」后面还要写上提案编号，例如：立案 {number} 主办 {lead}"


async def test_proposal_examples_without_any_department_say_how_to_name_them(db: Database) -> None:
    pipeline = make_pipeline(db, proposal_settings(departments=[]))
    await make_member(db, "1001", "张三", roles=[Role.REPRESENTATIVE], accounts=[("onebot", "zs")])
    await make_member(db, "1009", "赵六", roles=[Role.OFFICER], accounts=[("onebot", "of")])
    await say_on_qq(pipeline, "zs", "提案 标题：关于食堂的提案 理由：太贵 建议：降价")
    number = await _first_number(db)
    usage = await say_on_qq(pipeline, "of", f"立案 {number} 协办 人事处")
    assert usage.startswith(f"请按这样的格式立案：立案 {number} 主办 <部门> [协办 <部门>…] [期限 ")
    assert usage.endswith(
        "还没有承办部门：请在配置文件 [proposals] departments 中列出承办部门，或在名册中为承办人填写“部门”。"
    )
    assert "后勤" not in usage
    converted = await say_on_qq(pipeline, "of", f"转建议 {number}")
    assert converted.endswith("可由相关部门直接改进，转为意见建议")


def test_a_long_staff_number_is_echoed_cut_with_an_ellipsis() -> None:
    with pytest.raises(UserError) as bad:
        parse_staff_no("工号" * 30)
    assert bad.value.message.startswith("工号「" + "工号" * 19 + "工…」格式不对")


async def test_a_long_category_is_echoed_cut_with_an_ellipsis(db: Database) -> None:
    pipeline = make_pipeline(db, proposal_settings())
    await cast(db)
    words = "提案 标题：关于食堂的提案 理由：太贵 建议：降价 类别：" + "体育" * 15
    answer = await say_on_qq(pipeline, "zs", words)
    assert answer.startswith("没有「" + "体育" * 9 + "体…」这个类别"), answer
