"""教代会提案 as representatives, officers and 承办人 use it, through the real pipeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.pipeline import Pipeline
from models.db import Database
from models.dialog_state import DialogState
from models.proposals.tables import Proposal, ProposalEvent, ProposalRound
from tests.clock import FrozenClock
from tests.handlers.test_proposals_support import (
    YEAR,
    People,
    audit,
    cast,
    make_pipeline,
    no,
    outbox,
    proposal,
    proposal_clock,
    proposal_settings,
    say,
    snapshot,
)

FILE_1 = "提案 标题：关于延长食堂晚餐供应时间的提案 理由：加班教师吃饭难 建议：晚餐延长到19:30 类别：后勤保障"


@pytest.fixture
def settings() -> Settings:
    return proposal_settings()


@pytest.fixture
def clock() -> FrozenClock:
    return proposal_clock()


@pytest.fixture
async def people(db: Database) -> People:
    return await cast(db)


# ---------------------------------------------------------------- the whole lifecycle


async def test_lifecycle_from_filing_to_closing(pipeline: Pipeline, db: Database, people: People) -> None:
    answer = await say(pipeline, "zs", FILE_1)
    assert answer == (
        f"提案已提交，编号 {no(1)}《关于延长食堂晚餐供应时间的提案》。还需要 2 位代表附议："
        f"请其他代表发送「附议 {no(1)}」。发送「提案 {no(1)}」可以随时查看进度。"
    )
    filed = await proposal(db, no(1))
    assert (filed.status, filed.category, filed.reason, filed.suggestion) == (
        "cosigning", "后勤保障", "加班教师吃饭难", "晚餐延长到19:30"
    )

    assert await say(pipeline, "ls", f"附议 {no(1)}") == (
        f"已附议 {no(1)}《关于延长食堂晚餐供应时间的提案》，目前共 1 人附议。"
    )
    assert (await proposal(db, no(1))).status == "cosigning"
    assert await say(pipeline, "ww", f"附议 t{YEAR}-1") == (
        f"已附议 {no(1)}《关于延长食堂晚餐供应时间的提案》，目前共 2 人附议。"
        "附议人数已够，提案已提交提案委员会审查。"
    )
    assert (await proposal(db, no(1))).status == "review"

    answer = await say(pipeline, "of", f"立案 {no(1)} 主办 后勤管理处 协办 人事处、教务处 期限 {YEAR + 1}-01-"
                                       "31")
    assert answer == (
        f"{no(1)}《关于延长食堂晚餐供应时间的提案》已立案：主办 后勤管理处，协办 人事处、教务处，"
        f"答复期限 {YEAR + 1}-01-31。已私信通知张三、李四、王五、孙八、周九、吴十（共 6 人）。"
    )
    accepted = await proposal(db, no(1))
    assert (accepted.status, accepted.lead_department, accepted.deadline) == (
        "accepted", "后勤管理处", date(YEAR + 1, 1, 31)
    )

    answer = await say(pipeline, "rs", f"答复 {no(1)} 采纳 人事处同意为晚班教师发放误餐补贴")
    assert answer.startswith(f"已提交人事处对 {no(1)}《关于延长食堂晚餐供应时间的提案》的协办意见（采纳）")
    assert (await proposal(db, no(1))).status == "accepted"  # an opinion is not the reply
    answer = await say(pipeline, "hq", f"答复 {no(1)} 采纳：自12月1日起晚餐供应延长至19:30")
    assert answer == (
        f"已提交后勤管理处对 {no(1)}《关于延长食堂晚餐供应时间的提案》的答复（采纳）。已私信通知张三。"
        f"提案人评价之前，再发一次「答复 {no(1)} …」可以修改。"
    )
    assert (await proposal(db, no(1))).status == "replied"
    answer = await say(pipeline, "hq", f"答复 {no(1)} 采纳 自11月25日起晚餐供应延长至19:30")
    assert answer.startswith(f"已修改后勤管理处对 {no(1)}")

    answer = await say(pipeline, "zs", f"评价 {no(1)} 满意 谢谢后勤处")
    assert answer == f"感谢评价！{no(1)}《关于延长食堂晚餐供应时间的提案》已办结（满意）。"
    closed = await proposal(db, no(1))
    assert (closed.status, closed.rating, closed.handling_round) == ("closed", "satisfied", 1)

    steps = [(action, before["status"] if before else None, after["status"]) for action, _, before, after
             in await audit(db)]
    assert steps == [
        ("proposal.filed", None, "cosigning"),
        ("proposal.cosigned", "cosigning", "cosigning"),
        ("proposal.cosigned", "cosigning", "review"),
        ("proposal.accepted", "review", "accepted"),
        ("proposal.replied", "accepted", "accepted"),
        ("proposal.replied", "accepted", "replied"),
        ("proposal.revised", "replied", "replied"),
        ("proposal.rated", "replied", "closed"),
    ]
    filed_entry = (await audit(db))[0]
    assert filed_entry[1] == f"proposal:{no(1)}"
    assert filed_entry[3]["reason"] == "加班教师吃饭难"


async def test_notices_go_to_the_people_concerned_with_event_keys(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    p = people
    await say(pipeline, "zs", FILE_1)
    await say(pipeline, "ls", f"附议 {no(1)}")
    await say(pipeline, "ww", f"附议 {no(1)}")
    await say(pipeline, "of", f"立案 {no(1)} 主办 后勤管理处 协办 人事处")
    await say(pipeline, "hq", f"答复 {no(1)} 暂缓 受今年预算限制，列入明年计划")
    await say(pipeline, "zs", f"评价 {no(1)} 基本满意")
    sent = await outbox(db)
    n = no(1)
    assert set(sent) == {
        f"proposal:{n}:cosigned:{p.ls.id}:member:{p.zs.id}",
        f"proposal:{n}:cosigned:{p.ww.id}:member:{p.zs.id}",
        f"proposal:{n}:accepted:member:{p.zs.id}",
        f"proposal:{n}:accepted:member:{p.ls.id}",
        f"proposal:{n}:accepted:member:{p.ww.id}",
        f"proposal:{n}:assigned:member:{p.hq.id}",
        f"proposal:{n}:assigned:member:{p.rs.id}",
        f"proposal:{n}:reply:1:v0:member:{p.zs.id}",
        f"proposal:{n}:rated:r1:{p.zs.id}:member:{p.hq.id}",
    }
    assert sent[f"proposal:{n}:cosigned:{p.ww.id}:member:{p.zs.id}"] == (
        "zs", f"王五附议了你的提案 {n}《关于延长食堂晚餐供应时间的提案》，目前共 2 人附议。"
              "附议人数已够，提案已提交提案委员会审查。"
    )
    assert sent[f"proposal:{n}:assigned:member:{p.rs.id}"][1].startswith(
        f"提案 {n}《关于延长食堂晚餐供应时间的提案》已立案，由人事处协办（主办部门：后勤管理处），请于"
    )
    target, text = sent[f"proposal:{n}:reply:1:v0:member:{p.zs.id}"]
    assert target == "zs"
    assert text.startswith(f"后勤管理处已答复你的提案 {n}《关于延长食堂晚餐供应时间的提案》：暂缓。受今年预算"
                           "限制，列入明年计划")
    assert f"评价 {n} 满意" in text
    assert sent[f"proposal:{n}:rated:r1:{p.zs.id}:member:{p.hq.id}"][1] == (
        f"提案人张三对提案 {n}《关于延长食堂晚餐供应时间的提案》的答复评价为「基本满意」，提案已办结。"
    )


async def test_members_without_a_pushable_account_are_skipped(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings().model_copy(update={
        "onebot": proposal_settings().onebot.model_copy(update={"enabled": False})
    }))
    await say(pipeline, "zs", FILE_1)
    assert (await say(pipeline, "ls", f"附议 {no(1)}")).startswith("已附议")
    assert await outbox(db) == {}


async def test_unsatisfied_sends_it_back_once_then_the_rating_is_final(
    pipeline: Pipeline, db: Database, people: People, clock: FrozenClock
) -> None:
    p = people
    await say(pipeline, "zs", FILE_1)
    await say(pipeline, "ls", f"附议 {no(1)}")
    await say(pipeline, "ww", f"附议 {no(1)}")
    await say(pipeline, "of", f"立案 {no(1)} 主办 后勤管理处")
    await say(pipeline, "hq", f"答复 {no(1)} 不能采纳 食堂人手不足")
    answer = await say(pipeline, "zs", f"评价 {no(1)} 不满意 可以增加临时工")
    deadline = clock.today() + timedelta(days=30)
    assert answer.startswith(f"已收到你的评价（不满意）。{no(1)} 已退回承办部门重新办理，新的答复期限为 ")
    back = await proposal(db, no(1))
    assert (back.status, back.handling_round, back.rating) == ("accepted", 2, None)
    assert back.deadline == deadline
    sent = await outbox(db)
    assert sent[f"proposal:{no(1)}:rated:r1:{p.zs.id}:member:{p.hq.id}"][1].startswith(
        f"提案人张三对提案 {no(1)}《关于延长食堂晚餐供应时间的提案》的答复不满意，提案退回重新办理"
    )
    assert "还没有答复" in await say(pipeline, "zs", f"评价 {no(1)} 满意")
    await say(pipeline, "hq", f"答复 {no(1)} 采纳 增加两名临时工，延长至19:30")
    assert (await proposal(db, no(1))).status == "replied"
    answer = await say(pipeline, "zs", f"评价 {no(1)} 不满意")
    assert answer == f"感谢评价！{no(1)}《关于延长食堂晚餐供应时间的提案》已办结（不满意）。"
    final = await proposal(db, no(1))
    assert (final.status, final.rating, final.handling_round) == ("closed", "unsatisfied", 2)
    assert "已经评价过" in await say(pipeline, "zs", f"评价 {no(1)} 满意")
    assert "已经办结" in await say(pipeline, "hq", f"答复 {no(1)} 采纳 再补充一点")


async def test_withdrawal_keeps_the_number_and_tells_cosigners(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    await say(pipeline, "zs", FILE_1)
    await say(pipeline, "ls", f"附议 {no(1)}")
    assert await say(pipeline, "zs", f"撤回 {no(1)}") == (
        f"已撤回提案 {no(1)}《关于延长食堂晚餐供应时间的提案》。这个编号保留，不会再分给别的提案。"
    )
    assert (await proposal(db, no(1))).status == "withdrawn"
    assert (await outbox(db))[f"proposal:{no(1)}:withdrawn:member:{people.ls.id}"][1] == (
        f"你附议的提案 {no(1)}《关于延长食堂晚餐供应时间的提案》已由提案人张三撤回。"
    )
    answer = await say(pipeline, "zs", "提案 标题：关于增设校车班次的提案 理由：校区之间通勤不便 建议：高峰期"
                                       "增开两班")
    assert no(2) in answer


async def test_no_cosigners_needed_goes_straight_to_review(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings(min_cosigners=0))
    answer = await say(pipeline, "zs", FILE_1)
    assert "已提交提案委员会审查" in answer
    assert (await proposal(db, no(1))).status == "review"


async def test_not_accepted_and_converted_tell_proposer_and_cosigners(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    p = people
    await say(pipeline, "zs", FILE_1)
    await say(pipeline, "zs", "提案 标题：关于给每位教师配笔记本电脑的提案 理由：电脑太旧 建议：统一采购")
    await say(pipeline, "ls", f"附议 {no(2)}")
    answer = await say(pipeline, "of", f"不立案 {no(1)} 附议人数不足")
    assert answer == f"已将 {no(1)} 作不立案处理。已私信通知张三。"
    answer = await say(pipeline, "of2", f"转建议 {no(2)} 理由：属于个人需求，转有关部门参考")
    assert answer == f"已将 {no(2)} 转为意见建议处理。已私信通知张三、李四。"
    first, second = await proposal(db, no(1)), await proposal(db, no(2))
    assert (first.status, first.decision_note) == ("rejected", "附议人数不足")
    assert (second.status, second.decision_note) == ("converted", "属于个人需求，转有关部门参考")
    sent = await outbox(db)
    assert sent[f"proposal:{no(2)}:converted:member:{p.ls.id}"][1] == (
        f"提案 {no(2)}《关于给每位教师配笔记本电脑的提案》经提案委员会审查，转为意见建议处理。"
        "理由：属于个人需求，转有关部门参考"
    )
    assert f"proposal:{no(1)}:rejected:member:{p.zs.id}" in sent


# ---------------------------------------------------------------- the guided dialog


async def test_dialog_asks_one_question_at_a_time_and_checks_each_answer(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    answer = await say(pipeline, "zs", "提案")
    assert answer.splitlines() == [
        "好的，我们一步一步来（随时发送「取消」可以退出）。",
        "请发送提案的标题（案由），一句话说明要解决什么问题，例如：关于延长食堂晚餐供应时间的提案",
    ]
    answer = await say(pipeline, "zs", "长" * 51)
    assert answer.splitlines()[0] == "标题太长了（51 字），最多 50 字，请精简后再发。"
    assert (await say(pipeline, "zs", "关于增设教职工子女暑期托管班的提案")).startswith("请发送提案理由")
    assert (await say(pipeline, "zs", "暑假孩子没人照看")).startswith("请发送具体建议")
    answer = await say(pipeline, "zs", "工会与后勤合办托管班")
    assert answer.splitlines() == [
        "请选择提案类别，回复序号或名称（不分类请回复「无」）：", "1. 教学科研", "2. 后勤保障", "3. 其他",
    ]
    answer = await say(pipeline, "zs", "体育")
    assert answer.splitlines()[0] == (
        "没有「体育」这个类别，可选的类别有：教学科研、后勤保障、其他，例如 类别：教学科研"
    )
    assert await snapshot(db) != {}  # still nothing filed
    assert (await snapshot(db))["rows"] == []
    answer = await say(pipeline, "zs", "2")
    assert answer.startswith(f"提案已提交，编号 {no(1)}《关于增设教职工子女暑期托管班的提案》。")
    filed = await proposal(db, no(1))
    assert (filed.title, filed.reason, filed.suggestion, filed.category) == (
        "关于增设教职工子女暑期托管班的提案", "暑假孩子没人照看", "工会与后勤合办托管班", "后勤保障"
    )
    async with db.read() as session:
        assert await session.scalar(select(DialogState)) is None


async def test_a_partial_message_asks_only_for_what_is_missing(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings(categories=[]))
    answer = await say(pipeline, "zs", "提案 关于增设校车班次的提案 建议：高峰期增开两班")
    assert answer.splitlines()[-1] == "请发送提案理由：现在的情况和存在的问题。"
    answer = await say(pipeline, "zs", "校区之间通勤不便")
    assert answer.startswith(f"提案已提交，编号 {no(1)}《关于增设校车班次的提案》")
    filed = await proposal(db, no(1))
    assert (filed.reason, filed.suggestion, filed.category) == ("校区之间通勤不便", "高峰期增开两班", None)


async def test_dialog_can_be_cancelled_and_files_nothing(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    await say(pipeline, "zs", "提案")
    await say(pipeline, "zs", "关于增设校车班次的提案")
    assert await say(pipeline, "zs", "取消") == "已取消。"
    assert (await snapshot(db))["rows"] == []
    assert (await snapshot(db))["counters"] == []


async def test_a_group_gets_the_format_instead_of_a_dialog(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    answer = await say(pipeline, "zs", "提案", chat_type="group")
    assert answer.startswith("请按这样的格式提交提案：提案 标题：")
    answer = await say(pipeline, "zs", "提案 标题：关于增设校车班次的提案", chat_type="group")
    assert answer.startswith("提案还缺少理由、建议。")
    async with db.read() as session:
        assert await session.scalar(select(DialogState)) is None


# ---------------------------------------------------------------- rounds


async def test_filing_follows_the_collection_round(db: Database, people: People) -> None:
    clock = proposal_clock()
    pipeline = make_pipeline(db, proposal_settings(open_all_year=False), clock)
    assert await say(pipeline, "zs", FILE_1) == (
        "现在不在提案征集期内，暂时不能提交提案。征集开始后可以发送「提案征集」查看截止日期。"
    )
    close = f"{YEAR + 1}-01-15"
    assert await say(pipeline, "of", f"提案征集 开始 六届三次教代会 截止 {close}") == (
        f"已发起「六届三次教代会」提案征集，即日起至 {close}（含当天）代表可以提交提案。"
    )
    assert "正在进行" in await say(pipeline, "of", f"提案征集 开始 六届四次教代会 截止 {close}")
    assert await say(pipeline, "mb", "提案征集") == (
        f"「六届三次教代会」提案征集正在进行，{close} 截止。代表可以发送「提案」提交提案。"
    )
    assert no(1) in await say(pipeline, "zs", FILE_1)
    filed = await proposal(db, no(1))
    async with db.read() as session:
        round_ = await session.scalar(select(ProposalRound))
    assert round_ is not None and filed.round_id == round_.id
    assert await say(pipeline, "of", "提案征集 结"
                                     "束") == "「六届三次教代会」的提案征集已结束，之后不能再提交提案。"
    today = clock.today().isoformat()
    assert await say(pipeline, "ls", FILE_1) == (
        f"「六届三次教代会」的提案征集已于 {today} 截止，现在不能再提交提案了。"
    )
    later = f"{YEAR + 1}-02-01"
    assert await say(pipeline, "of", f"提案征集 截止 {later}") == (
        f"「六届三次教代会」提案征集的截止日期已从 {today} 改为 {later}。"
    )
    assert no(2) in await say(pipeline, "ls", FILE_1)
    actions = [a for a, *_ in await audit(db)]
    assert actions.count("proposal_round.start") == 1
    assert "proposal_round.end" in actions and "proposal_round.move" in actions


async def test_members_may_file_when_the_union_allows_it(db: Database, people: People) -> None:
    strict = make_pipeline(db, proposal_settings())
    assert (await say(strict, "mb", FILE_1)).startswith("只有教代会代表可以提交提案")
    relaxed = make_pipeline(db, proposal_settings(filers="members"))
    assert no(1) in await say(relaxed, "mb", FILE_1)
    assert "需要代表身份" in await say(relaxed, "mb", f"附议 {no(1)}")


# ---------------------------------------------------------------- views


async def _accepted_and_cosigning(pipeline: Pipeline) -> None:
    await say(pipeline, "zs", FILE_1)
    await say(pipeline, "ls", f"附议 {no(1)}")
    await say(pipeline, "ww", f"附议 {no(1)}")
    await say(pipeline, "of", f"立案 {no(1)} 主办 后勤管理处 协办 人事处 期限 {YEAR + 1}-01-31")
    await say(pipeline, "ls", "提案 标题：关于增设校车班次的提案 理由：校区之间通勤不便 建议：高峰期增开两班")


async def test_show_has_status_and_a_dated_timeline(pipeline: Pipeline, db: Database, people: People) -> None:
    await _accepted_and_cosigning(pipeline)
    lines = (await say(pipeline, "mb", f"提案 {no(1)}")).splitlines()
    assert lines[:7] == [
        f"{no(1)}《关于延长食堂晚餐供应时间的提案》",
        f"状态：办理中（主办：后勤管理处；协办：人事处；答复期限 {YEAR + 1}-01-31）",
        "类别：后勤保障",
        "提案人：张三（计算机学院分工会）",
        "附议人：李四、王五（2 人）",
        "理由：加班教师吃饭难",
        "建议：晚餐延长到19:30",
    ]
    timeline = lines[lines.index("进程：") + 1:]
    assert [line[17:] for line in timeline] == [
        "张三 提交提案", "李四 附议（共 1 人）", "王五 附议（共 2 人）", "附议人数已够，提交提案委员会审查",
        f"赵六 立案：主办 后勤管理处，协办 人事处，答复期限 {YEAR + 1}-01-31",
    ]
    assert all(line[4] == "-" and line[13] == ":" for line in timeline)


async def test_who_sees_what(pipeline: Pipeline, db: Database, people: People) -> None:
    await _accepted_and_cosigning(pipeline)
    assert await say(pipeline, "mb", f"提案 {no(2)}") == (
        f"{no(2)} 还没有立案，暂时只有提案人、附议人、代表和工会干部可以查看。"
    )
    assert (await say(pipeline, "zs", f"提案 {no(2)}")).startswith(f"{no(2)}《关于增设校车班次的提案》")
    assert "征集附议（已有 0 人附议，还需 2 人）" in await say(pipeline, "of", f"提案 {no(2)}")
    member_list = await say(pipeline, "mb", "提案列表")
    assert no(1) in member_list and no(2) not in member_list
    rep_list = await say(pipeline, "zs", "提案列表")
    assert rep_list.splitlines()[:3] == [
        "提案列表，共 2 件，第 1/1 页：",
        f"{no(2)} 关于增设校车班次的提案 — 征集附议（附议 0/2） · 李四",
        f"{no(1)} 关于延长食堂晚餐供应时间的提案 — 办理中（后勤管理处，期限 {YEAR + 1}-01-31） · 张三",
    ]


async def test_list_pages_and_filters(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings(page_size=2, min_cosigners=0))
    for i in range(5):
        await say(pipeline, "zs", f"提案 标题：第{i + 1}件提案 理由：理由{i} 建议：建议{i}")
    await say(pipeline, "of", f"立案 {no(1)} 主办 教务处")
    first = (await say(pipeline, "of", "提案列表 待审查")).splitlines()
    assert first == [
        "提案列表（待审查），共 4 件，第 1/2 页：",
        f"{no(5)} 第5件提案 — 待审查 · 张三",
        f"{no(4)} 第4件提案 — 待审查 · 张三",
        "下一页：提案列表 待审查 2；查看详情：提案 编号",
    ]
    second = (await say(pipeline, "of", "提案列表 待审查 第2页")).splitlines()
    assert second[1:3] == [f"{no(3)} 第3件提案 — 待审查 · 张三", f"{no(2)} 第2件提案 — 待审查 · 张三"]
    beyond = await say(pipeline, "of", "提案列表 待审查 9")
    assert "第 2/2 页" in beyond and "只有 2 页" in beyond
    assert (await say(pipeline, "mb", "提案列表 已立案")).splitlines()[1].startswith(no(1))
    assert await say(pipeline, "of", "提案列表 逾期") == "没有「逾期」的提案。"
    async with db.write() as session:
        await session.execute(
            update(Proposal).where(Proposal.number == no(1)).values(deadline=date(2020, 1, 1))
        )
    assert "已逾期" in await say(pipeline, "of", "提案列表 逾期")


async def test_my_proposals_for_proposer_cosigner_and_handler(
    pipeline: Pipeline, db: Database, people: People
) -> None:
    await _accepted_and_cosigning(pipeline)
    mine = (await say(pipeline, "zs", "我的提案")).splitlines()
    assert mine[0] == "我提出的提案（1 件）："
    assert (await say(pipeline, "ww", "我的提案")).splitlines()[0] == "我附议的提案（1 件）："
    handler = (await say(pipeline, "hq", "我的提案")).splitlines()
    assert handler[0] == "后勤管理处待答复的提案（1 件）："
    assert handler[1].startswith(no(1))
    await say(pipeline, "hq", f"答复 {no(1)} 采纳 延长至19:30")
    assert (await say(pipeline, "hq", "我的提案")).endswith("后勤管理处目前没有待答复的提案。")
    assert (await say(pipeline, "rs", "我的提案")).splitlines()[0] == "人事处待答复的提案（1 件）："
    assert await say(pipeline, "mb", "我的提案") == "你还没有提出或附议过提案。"


async def test_statistics_for_the_work_report(pipeline: Pipeline, db: Database, people: People) -> None:
    await _accepted_and_cosigning(pipeline)  # 1 accepted, 2 cosigning
    await say(pipeline, "hq", f"答复 {no(1)} 采纳 延长至19:30")
    await say(pipeline, "zs", f"评价 {no(1)} 基本满意")
    await say(pipeline, "zs", "提案 标题：关于食堂菜价的提案 理由：菜价上涨 建议：平抑菜价")
    await say(pipeline, "zs", f"撤回 {no(3)}")
    await say(pipeline, "ww", "提案 标题：关于教师停车的提案 理由：车位不足 建议：增建车位")
    await say(pipeline, "of", f"不立案 {no(4)} 属于基建规划，另行答复")
    lines = (await say(pipeline, "of", "提案统计")).splitlines()
    assert lines == [
        f"{YEAR}年度提案工作统计",
        "收到提案 4 件（其中撤回 1 件，尚在附议或审查 1 件）",
        "立案 1 件，不立案 1 件，转为意见建议 0 件；立案率 33.3%（1/3）",
        "已答复 1 件，答复率 100%（1/1）；逾期未答复 0 件",
        "已评价 1 件：满意 0 件，基本满意 1 件，不满意 0 件；满意率 100%（1/1）",
        "按主办部门：",
        "· 后勤管理处：立案 1 件，已答复 1 件，逾期 0 件，满意率 100%（1/1）",
        "（立案率 = 立案 ÷（收到 − 撤回）；答复率 = 已答复 ÷ 立案；满意率 =（满意 + 基本满意）÷ 已评价）",
    ]
    assert (await say(pipeline, "of", f"提案统计 {YEAR - 1}年")).splitlines()[1] == "收到提案 0 件"
    assert "需要干部身份" in await say(pipeline, "zs", "提案统计")


async def test_statistics_by_round_name(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings(open_all_year=False, min_cosigners=0))
    await say(pipeline, "of", f"提案征集 开始 六届三次教代会 截止 {YEAR + 1}-01-15")
    await say(pipeline, "zs", FILE_1)
    answer = await say(pipeline, "of", "提案统计 三次")
    assert answer.splitlines()[:2] == ["「六届三次教代会」提案工作统"
                                       "计", "收到提案 1 件（其中尚在附议或审查 1 件）"]


# ---------------------------------------------------------------- events in the store


async def test_each_step_has_a_timeline_event(pipeline: Pipeline, db: Database, people: People) -> None:
    await _accepted_and_cosigning(pipeline)
    async with db.read() as session:
        kinds = list(await session.scalars(select(ProposalEvent.kind).order_by(ProposalEvent.id)))
    assert kinds == ["filed", "cosigned", "cosigned", "review", "accepted", "filed"]
