"""Bad input and steps out of order: one clear sentence each, and nothing stored changes.

One scene is built per database; every refusal is tried against it, and after each one
the proposal tables, counters, audit log, outbox and dialog state must be as before.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.pipeline import Pipeline
from models.audit import AuditLog
from models.db import Database
from models.proposals.tables import ProposalEvent
from tests.clock import FrozenClock
from tests.handlers.test_proposals_support import (
    YEAR,
    People,
    cast,
    make_pipeline,
    no,
    proposal,
    proposal_clock,
    proposal_settings,
    say,
    snapshot,
)

P1, P2, P3, P4 = no(1), no(2), no(3), no(4)
LONG = "长" * 51
AHEAD = proposal_clock().today() + timedelta(days=21)  # the example date refusals give
LATER = AHEAD + timedelta(days=14)  # a second, later close in the examples of 提案征集


@pytest.fixture
def settings() -> Settings:
    return proposal_settings()


@pytest.fixture
def clock() -> FrozenClock:
    return proposal_clock()


async def build_scene(pipeline: Pipeline) -> None:
    """P1 replied (lead 后勤管理处, helper 人事处), P2 co-signing, P3 in review, P4 closed."""
    await say(pipeline, "zs", "提案 标题：关于延长食堂晚餐供应时间的提案 理由：加班教师吃饭难 建议：延长到19:"
                              "30")
    await say(pipeline, "ls", f"附议 {P1}")
    await say(pipeline, "ww", f"附议 {P1}")
    await say(pipeline, "of", f"立案 {P1} 主办 后勤管理处 协办 人事处")
    await say(pipeline, "hq", f"答复 {P1} 采纳 自12月起延长")
    await say(pipeline, "zs", "提案 标题：关于增设校车班次的提案 理由：通勤不便 建议：增开两班")
    await say(pipeline, "ls", "提案 标题：关于教师体检的提案 理由：项目太少 建议：增加项目")
    await say(pipeline, "zs", f"附议 {P3}")
    await say(pipeline, "ww", f"附议 {P3}")
    await say(pipeline, "ww", "提案 标题：关于图书馆开放时间的提案 理由：闭馆太早 建议：延长到22点")
    await say(pipeline, "zs", f"附议 {P4}")
    await say(pipeline, "ls", f"附议 {P4}")
    await say(pipeline, "of", f"立案 {P4} 主办 教务处")
    await say(pipeline, "jw", f"答复 {P4} 采纳 已延长")
    await say(pipeline, "ww", f"评价 {P4} 满意")


CASES: list[tuple[Any, ...]] = [  # (sender, message, the answer[, message options])
    ("zs", f"附议 {P2}", f"{P2} 是你自己提出的提案，提案人不能附议自己的提案。请其他代表发送「附议 {P2}」。"),
    ("zs", f"附议 {P3}", f"你已经附议过 {P3} 了，每位代表只能附议一次。"),
    ("ls", f"附议 {P1}", f"{P1} 现在是「已答复」，已经不能附议了：附议只能在提案委员会审查之前进行。"),
    ("mb", f"附议 {P2}", "「附议」需要代表身份才能使用。如有疑问请联系工会干部。"),
    ("zs", "附议", f"「附议」后面还要写上提案编号，例如：附议 {P3}"),
    ("zs", "附议 T26-7", f"「T26-7」不是有效的提案编号。编号由 T、年份和序号组成，例如：附议 {P3}"),
    ("zs", "附议 ' OR 1=1 --", f"「'」不是有效的提案编号。编号由 T、年份和序号组成，例如：附议 {P3}"),
    ("zs", f"附议 T{YEAR}-0",
     f"「T{YEAR}-0」不是有效的提案编号。编号由 T、年份和序号组成，例如：附议 {P3}"),
    ("zs", f"附议 T{YEAR}-9999999",
     f"「T{YEAR}-9999999」不是有效的提案编号。编号由 T、年份和序号组成，例如：附议 {P3}"),
    ("zs", f"附议 T{YEAR}-099",
     f"没有找到提案 T{YEAR}-099，请核对编号。发送「提案列表」可以查看提案和编号。"),
    ("mb", "提案 T26-007", f"「T26-007」不是有效的提案编号。编号由 T、年份和序号组成，例如：提案 {P4}"),
    ("mb", "提案 标题：关于食堂的提案 理由：太贵 建议：降价",
     "只有教代会代表可以提交提案。如有意见建议，可以请本单位的代表提出提案。"),
    ("zs", "提案 标题：关于食堂的提案 理由：太贵",
     "提案还缺少建议。标题、理由、建议都要写，例如：提案 标题："
     "关于延长食堂晚餐供应时间的提案 理由：加班教师吃饭难 建议：晚餐延长到19:30", {'chat_type': 'group'}),
    ("zs", f"提案 标题：{LONG} 理由：太贵 建议：降价",
     "标题太长了（51 字），最多 50 字，请精简后再发。"),
    ("zs", "提案 标题：关于食堂的提案 理由：" + "贵" * 1501 + " 建议：降价",
     "理由太长了（1501 字），最多 1500 字，请精简后再发。"),
    ("zs", "提案 标题：关于食堂的提案 理由： 建议：降价", "理由不能为空，请写上具体内容。"),
    ("zs", "提案 标题：关于食堂的提案 理由：太贵 建议：降价 类别：体育",
     "没有「体育」这个类别，可选的类别有：教学科研、后勤保障、其他，例如 类别：教学科研"),
    ("zs", "提案 标题：甲 案由：乙 理由：太贵 建议：降价",
     "「标题」写了两次，每一项只能写一次，例如 标题：… 理由：… 建议：…。"),
    ("zs", "提案 标题：甲 理由：太贵 理由：很贵 建议：降价",
     "「理由」写了两次，每一项只能写一次，例如 标题：… 案由：… 理由：…。"),
    ("zs", f"撤回 {P1}",
     f"{P1} 现在是「已答复」，提案委员会已经作出决定，不能再撤回了：撤回只能在审查之前进行。"),
    ("ls", f"撤回 {P2}", f"只有提案人本人可以撤回 {P2}。"),
    ("of", f"立案 {P2} 主办 教务处",
     f"{P2} 还在征集附议（已有 0 人，需要 2 人），附议人数够了才能立案。如果要以附议不足结案，可以发送："
     f"不立案 {P2} 附议人数不足"),
    ("of2", f"立案 {P1} 主办 教务处",
     f"{P1} 现在是「已答复」，已经审查过了（可能是别的干部刚刚处理的），不能再立案、不立案或转建议。"
     f"发送「提案 {P1}」查看详情。"),
    ("of", f"不立案 {P1} 不符合条件",
     f"{P1} 现在是「已答复」，已经审查过了（可能是别的干部刚刚处理的），不能再立案、不立案或转建议。"
     f"发送「提案 {P1}」查看详情。"),
    ("of", f"转建议 {P4} 理由：重复",
     f"{P4} 现在是「已办结」，已经审查过了（可能是别的干部刚刚处理的），不能再立案、不立案或转建议。"
     f"发送「提案 {P4}」查看详情。"),
    ("of", f"立案 {P3} 主办 财务处",
     "「财务处」不在承办部门名单中。可选的部门有：教务处、人事处、后勤管理处，例如："
     f"立案 {P3} 主办 教务处"),
    ("of", f"立案 {P3} 主办 教务处 协办 宣传部",
     "「宣传部」不在承办部门名单中。可选的部门有：教务处、人事处、后勤管理处，例如："
     f"立案 {P3} 主办 教务处"),
    ("of", f"立案 {P3} 主办 教务处 人事处",
     "主办部门只能写一个（现在写了 教务处、人事处），其余的请写在「协办」后面，例如："
     f"立案 {P3} 主办 教务处 协办 人事处"),
    ("of", f"立案 {P3} 主办 教务处 协办 教务处", "教务处已经是主办部门，不用再写在协办里。"),
    ("of", f"立案 {P3} 协办 教务处",
     f"请按这样的格式立案：立案 {P3} 主办 教务处 协办 人事处 期限 {AHEAD:%Y-%m-%d}"
     "（协办、期限可以不写，不写期限时为立案后 30 天）。"),
    ("of", f"立案 {P3} 主办 教务处 期限 2020-01-01",
     "「2020-01-01」已经过去了。请写一个以后的日期，例如 明天 或 下周六。"),
    ("of", f"立案 {P3} 主办 教务处 期限 下辈子",
     f"日期看不懂：「下辈子」。请写成 {AHEAD:%Y-%m-%d}、{AHEAD.month}月{AHEAD.day}日、明天 或 下周六"
     " 这样的形式。"),
    ("of", f"不立案 {P3}", f"请写上理由，例如：不立案 {P3} 属于个人诉求，不符合立案条件"),
    ("of", f"转建议 {P3} 理由：", f"请写上理由，例如：转建议 {P3} 可由教务处直接改进，转为意见建议"),
    ("mb", f"立案 {P3} 主办 教务处", "「立案」需要干部身份才能使用。如有疑问请联系工会干部。"),
    ("hq", f"答复 {P3} 采纳 马上办", f"{P3} 现在是「待审查」，还没有立案，立案后承办部门才能答复。"),
    ("jw", f"答复 {P1} 采纳 马上办",
     f"{P1} 没有交给教务处办理（主办部门是后勤管理处），只有主办、协办部门的承办人可以答复。"),
    ("hq", f"答复 {P1} 不能采纳",
     f"「不能采纳」后面要写明不能采纳的原因，例如：答复 {P1} 不能采纳 涉及上级政策，学校无权调整"),
    ("hq", f"答复 {P1} 暂缓",
     f"「暂缓」后面要写明暂缓的原因和计划什么时候办，例如：答复 {P1} 暂缓 受今年预算限制，列入明年计划"),
    ("hq", f"答复 {P1} 同意 马上办",
     "请按这样的格式答复："
     f"答复 {P1} 采纳 自{AHEAD.month}月{AHEAD.day}日起晚餐供应延长至19:30"
     "（答复类型为 采纳、暂缓 或 不能采纳，后面写具体内容）。"),
    ("jw", f"答复 {P4} 采纳 再改一下", f"{P4} 已经办结，不能再答复或修改答复了。"),
    ("nd", f"答复 {P1} 采纳 马上办",
     "你的名册信息里没有填写部门，无法确定你代表哪个部门答复。请联系工会干部在名册“部门”一栏补上。"),
    ("zs", f"答复 {P1} 采纳 马上办", "「答复」需要承办人身份才能使用。如有疑问请联系工会干部。"),
    ("ls", f"评价 {P1} 满意", f"只有提案人可以评价 {P1} 的答复。"),
    ("hq", f"评价 {P1} 满意", f"只有提案人可以评价 {P1} 的答复。"),
    ("ww", f"评价 {P4} 不满意", f"你已经评价过 {P4} 了（满意），评价提交后不能更改。"),
    ("ls", f"评价 {P3} 满意", f"{P3} 现在是「待审查」，还没有答复，承办部门答复后才能评价。"),
    ("zs", f"评价 {P1} 还行",
     f"请按这样的格式评价：评价 {P1} 满意（也可以是 基本满意 或 不满意，后面可以写意见）。"),
    ("mb", f"提案 {P2}", f"{P2} 还没有立案，暂时只有提案人、附议人、代表和工会干部可以查看。"),
    ("mb", "提案列表 待审查",
     "「待审查」的提案只有代表和工会干部可以查看。发送「提案列表」可以查看已立案的提案，"
     "发送「我的提案」查看自己的提案。"),
    ("of", "提案列表 某某",
     "没有「某某」这种状态。"
     "可以写 已立案、办理中、逾期、已答复、已办结、待审查、征集附议、不立案、转建议、已撤回 或 全部，例如："
     "提案列表 已立案"),
    ("of", "提案列表 已立案 待审查",
     "请这样写：提案列表 [状态] [页码]，例如：提案列表 已立案 2。"
     "状态可以是 已立案、办理中、逾期、已答复、已办结、待审查、征集附议、不立案、转建议、已撤回 或 全部。"),
    ("of", "提案统计 十届", f"没有找到名为「十届」的提案征集。也可以按年度统计，例如：提案统计 {YEAR}"),
    ("of", "提案统计 1999", f"请写年度或提案征集的名称，例如：提案统计 {YEAR} 或 提案统计 六届三次教代会"),
    ("of", "提案征集 开始 六届三次 截止 2020-01-01",
     "「2020-01-01」已经过去了。请写一个以后的日期，例如 明天 或 下周六。"),
    ("of", "提案征集 开始 六届三次",
     f"请这样写：提案征集 开始 六届三次教代会 截止 {AHEAD:%Y-%m-%d}（发起征集）、"
     f"提案征集 截止 {LATER:%Y-%m-%d}（修改截止日期）或 提案征集 结束（立即结束）。"),
    ("of", "提案征集 结束",
     f"现在没有正在进行的提案征集。发起请发送：提案征集 开始 六届三次教代会 截止 {AHEAD:%Y-%m-%d}"),
    ("of", f"提案征集 截止 {YEAR + 1}-01-01",
     f"还没有发起过提案征集。发起请发送：提案征集 开始 六届三次教代会 截止 {AHEAD:%Y-%m-%d}"),
    ("mb", f"提案征集 开始 六届三次 截止 {YEAR + 1}-01-01",
     "「提案征集 开始」需要干部身份才能使用。如有疑问请联系工会干部。"),

]


async def test_every_refusal_is_one_sentence_and_changes_nothing(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await cast(db)
    await build_scene(pipeline)
    assert [(await proposal(db, n)).status for n in (P1, P2, P3, P4)] == [
        "replied", "cosigning", "review", "closed"
    ]
    before = await snapshot(db)
    failures = []
    for who, text, expected, *options in CASES:
        answer = await say(pipeline, who, text, **(options[0] if options else {}))
        if answer != expected:
            failures.append(f"{who}: {text}\n   got: {answer}\n  want: {expected}")
        if await snapshot(db) != before:
            failures.append(f"{who}: {text} changed the database")
            before = await snapshot(db)
    assert not failures, "\n".join(failures)


async def test_hostile_text_is_stored_as_text(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    title = "<script>alert(1)</script>'; DROP TABLE proposal;"
    answer = await say(pipeline, "zs", f"提案 标题：{title} 理由：{{{{ 7*7 }}}} 建议：%s %(x)s")
    assert answer.startswith(f"提案已提交，编号 {P1}《{title}》")
    shown = await say(pipeline, "zs", f"提案 {P1}")
    assert "理由：{{ 7*7 }}" in shown and "建议：%s %(x)s" in shown
    assert (await proposal(db, P1)).title == title


async def test_two_officers_deciding_at_once_one_wins(db: Database) -> None:
    """立案 and 不立案 of the same proposal at the same moment: exactly one is applied."""
    pipeline = make_pipeline(db, proposal_settings(min_cosigners=0))
    await cast(db)
    for round_no in range(1, 6):
        await say(pipeline, "zs", f"提案 标题：第{round_no}件 理由：理由 建议：建议")
        number = no(round_no)
        first, second = await asyncio.gather(
            say(pipeline, "of", f"立案 {number} 主办 教务处"),
            say(pipeline, "of2", f"不立案 {number} 不符合条件"),
        )
        winners = [a for a in (first, second) if "已经审查过了" not in a]
        assert len(winners) == 1, (first, second)
        status = (await proposal(db, number)).status
        assert status == ("accepted" if winners[0] == first else "rejected")
        assert f"{number} {'现在是「办理中」' if status == 'accepted' else '已作不立案处理'}" in (
            second if winners[0] == first else first
        )
    async with db.read() as session:
        decisions = await session.scalar(
            select(func.count()).select_from(AuditLog)
            .where(AuditLog.action.in_(["proposal.accepted", "proposal.rejected"]))  # type: ignore[attr-defined]
        )
    assert decisions == 5


async def test_concurrent_cosigning_counts_every_signature_once(db: Database) -> None:
    pipeline = make_pipeline(db, proposal_settings())
    people: People = await cast(db)
    from models.org import Role
    from tests.factories import make_member

    for i in range(10):
        await make_member(
            db, f"50{i:02d}", f"代表{i}", roles=[Role.REPRESENTATIVE], accounts=[("onebot", f"r{i}")]
        )
    await say(pipeline, "zs", "提案 标题：关于食堂的提案 理由：太贵 建议：降价")
    answers = await asyncio.gather(*(say(pipeline, f"r{i}", f"附议 {P1}") for i in range(10)))
    assert all(a.startswith(f"已附议 {P1}") for a in answers)
    assert sorted(int(a.split("目前共 ")[1].split(" 人")[0]) for a in answers) == list(range(1, 11))
    filed = await proposal(db, P1)
    assert (filed.status, filed.cosigner_count) == ("review", 10)
    async with db.read() as session:
        reviews = await session.scalar(
            select(func.count()).select_from(ProposalEvent).where(ProposalEvent.kind == "review")
        )
    assert reviews == 1
    assert people.zs.id is not None
