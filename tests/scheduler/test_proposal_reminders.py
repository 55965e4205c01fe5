"""Proposal reminders: reply deadlines for the 承办人, the weekly overdue digest for officers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.render import say
from models.db import Database
from models.org import Member, Role
from models.proposals import flow
from models.proposals.tables import Outcome, Rating
from scheduler.jobs import Outcome as RunOutcome
from scheduler.jobs import run_due
from scheduler.occasions import World
from scheduler.planner import Planned, plan
from scheduler.proposal_reminders import DEADLINE_SOURCE, DIGEST_LIMIT, OVERDUE_SOURCE, Item
from tests.factories import make_member
from tests.scheduler.test_jobs import rows
from tests.scheduler.test_planner import NO_ACCOUNT, settings_with, utc

POLICY = flow.Policy(min_cosigners=0)
T0 = utc("2027-04-20T02:00")  # when proposals are filed and accepted
DEADLINE = date(2027, 5, 6)  # Thursday
REMIND = utc("2027-05-03T01:00")  # Monday 09:00 in Shanghai: 3 days before
DIGEST = utc("2027-05-10T01:00")  # the next Monday 09:00

PEOPLE = [  # staff no, name, branch, roles, department, QQ account
    ("20001", "陈代表", "计算机学院分工会", [Role.REPRESENTATIVE], None, "8001"),
    ("30001", "教务甲", "机关分工会", [Role.HANDLER], "教务处", "8101"),
    ("30002", "教务乙", "机关分工会", [Role.HANDLER], "教务处", None),
    ("30003", "人事丙", "机关分工会", [Role.HANDLER], "人事处", "8103"),
    ("30004", "科研丁", "机关分工会", [Role.HANDLER], "科研处", "8104"),
    ("40001", "孙丽", "示范大学工会", [Role.OFFICER], None, "8201"),
    ("40002", "周敏", "示范大学工会", [Role.OFFICER], None, None),
    ("40003", "张三", "计算机学院分工会", [Role.OFFICER], None, "8203"),
]


async def people(db: Database, *, officers: bool = True) -> dict[str, Member]:
    found = {}
    for staff_no, name, branch, roles, department, account in PEOPLE:
        found[name] = await make_member(
            db, staff_no, name, branch=branch, department=department, birth_date=None,
            roles=[role for role in roles if officers or role is not Role.OFFICER],
            accounts=[("onebot", account)] if account else [],
        )
    return found


async def file(db: Database, who: dict[str, Member], title: str, *, now: datetime = T0) -> str:
    proposer = who["陈代表"].id
    assert proposer is not None
    async with db.write() as session:
        change = await flow.file(
            session, draft=flow.Draft(title=title, reason="理由", suggestion="建议"),
            proposer_id=proposer, round_id=None, year=2027, now=now, policy=POLICY,
        )
        return change.number


async def accept(
    db: Database, who: dict[str, Member], number: str, lead: str, *, helpers: tuple[str, ...] = (),
    deadline: date = DEADLINE, now: datetime = T0,
) -> None:
    async with db.write() as session:
        await flow.accept(
            session, proposal=await flow.load(session, number), officer_id=who["孙丽"].id or 0,
            lead=lead, helpers=list(helpers), deadline=deadline, now=now, policy=POLICY,
        )


async def answer(db: Database, who: dict[str, Member], number: str, name: str, *, now: datetime) -> None:
    member = who[name]
    assert member.id is not None and member.department is not None
    async with db.write() as session:
        await flow.reply(
            session, proposal=await flow.load(session, number), author_id=member.id,
            department=member.department, outcome=Outcome.ADOPTED, content="已安排落实。", now=now,
        )


async def rate(db: Database, who: dict[str, Member], number: str, rating: Rating, *, now: datetime) -> None:
    async with db.write() as session:
        await flow.rate(
            session, proposal=await flow.load(session, number), member_id=who["陈代表"].id or 0,
            rating=rating, comment=None, now=now, today=now.date(), policy=POLICY,
        )


def of(outcomes: list[RunOutcome], source: str) -> list[tuple[str, int, int, list[str]]]:
    return [(o.occasion.key, o.queued, o.already, [d.label for d in o.unreachable])
            for o in outcomes if o.occasion.source == source]


async def queued(db: Database, prefix: str) -> dict[str, tuple[str, str]]:
    return {k: (target, text) for k, target, text in await rows(db) if k.startswith(prefix)}


async def planned(db: Database, settings: Settings, start: datetime, days: int, source: str) -> list[Planned]:
    async with db.write() as session:
        items = await plan(World(session, settings, start), start, start + timedelta(days=days))
    return [item for item in items if item.occasion.source == source]


async def assigned_union(db: Database) -> tuple[dict[str, Member], list[str]]:
    """Proposals due on 6 May: 001 and 002 教务处 (001 with 人事处 helping), 003 后勤管理处 (no
    承办人), 004 人事处 answered already, 005 科研处 due a day later, 006 still in review."""
    who = await people(db)
    numbers = [await file(db, who, title) for title in (
        "关于延长图书馆开放时间的建议", "关于优化排课系统的建议", "关于改善教工食堂伙食的建议",
        "关于完善职称评审办法的建议", "关于简化科研经费报销的建议", "关于增设教工子女托管班的建议",
    )]
    await accept(db, who, numbers[0], "教务处", helpers=("人事处",))
    await accept(db, who, numbers[1], "教务处")
    await accept(db, who, numbers[2], "后勤管理处")
    await accept(db, who, numbers[3], "人事处")
    await accept(db, who, numbers[4], "科研处", deadline=DEADLINE + timedelta(days=1))
    await answer(db, who, numbers[3], "人事丙", now=T0 + timedelta(days=1))
    return who, numbers


# ---------------------------------------------------------------- reply deadlines


async def test_handlers_of_the_departments_that_have_not_answered_are_reminded(db: Database) -> None:
    who, numbers = await assigned_union(db)
    settings = settings_with()
    assert of(await run_due(db, settings, REMIND - timedelta(minutes=1)), DEADLINE_SOURCE) == []
    outcomes = of(await run_due(db, settings, REMIND), DEADLINE_SOURCE)
    assert outcomes == [("proposal:deadline-2027-05-06", 2, 0, ["教务乙（30002，教务处）", "后勤管理处"])]
    sent = await queued(db, "proposal:deadline-")
    assert sorted(sent) == sorted(
        f"proposal:deadline-2027-05-06:member:{who[name].id}" for name in ("教务甲", "人事丙")
    )
    assert sent[f"proposal:deadline-2027-05-06:member:{who['教务甲'].id}"] == ("onebot:user:8101", (
        "【提案答复提醒】\n"
        "教务甲老师：教务处承办的以下 2 件提案答复期限为5月6日（周四），还有 3 天，目前尚未答复：\n"
        f"· {numbers[0]}《关于延长图书馆开放时间的建议》（主办）\n"
        f"· {numbers[1]}《关于优化排课系统的建议》（主办）\n"
        f"请在期限前答复：发送「答复 {numbers[0]} 采纳（或 暂缓、不能采纳） 具体内容」。"
        f"发送「提案 {numbers[0]}」可查看提案全文，「我的提案」可查看本部门全部待答复的提案。"
    ))
    assert sent[f"proposal:deadline-2027-05-06:member:{who['人事丙'].id}"][1].splitlines()[1] == (
        f"人事丙老师：人事处承办的提案 {numbers[0]}《关于延长图书馆开放时间的建议》（协办，主办部门：教务处）"
        "答复期限为5月6日（周四），还有 3 天，目前尚未答复。"
    )
    科研 = of(await run_due(db, settings, REMIND + timedelta(days=1)), DEADLINE_SOURCE)
    assert 科研 == [("proposal:deadline-2027-05-07", 1, 0, [])]


async def test_answered_departments_and_replied_proposals_are_not_reminded(db: Database) -> None:
    who, numbers = await assigned_union(db)
    await answer(db, who, numbers[0], "人事丙", now=REMIND - timedelta(days=1))  # the helper's opinion
    await answer(db, who, numbers[1], "教务甲", now=REMIND - timedelta(days=1))  # the lead's reply
    items = await planned(db, settings_with(), T0, 30, DEADLINE_SOURCE)
    first = items[0]
    assert [(d.label, d.problem) for d in first.deliveries] == [
        ("教务甲（30001，教务处）", None),
        ("教务乙（30002，教务处）", NO_ACCOUNT),
        ("后勤管理处",
         "后勤管理处没有登记承办人（名册中角色为“承办人”、部门为“后勤管理处”的会员），提醒无人接收"),
    ]
    text = first.deliveries[0].compose().text
    assert numbers[0] in text and numbers[1] not in text


async def test_a_proposal_accepted_after_the_reminder_time_is_left_out(db: Database) -> None:
    who = await people(db)
    number = await file(db, who, "关于增加校园充电桩的建议")
    await accept(db, who, number, "教务处", now=REMIND + timedelta(hours=1))
    assert of(await run_due(db, settings_with(), REMIND + timedelta(hours=2)), DEADLINE_SOURCE) == []


async def test_a_proposal_sent_back_is_reminded_of_its_new_deadline(db: Database) -> None:
    who = await people(db)
    number = await file(db, who, "关于增加校园充电桩的建议")
    await accept(db, who, number, "教务处", deadline=date(2027, 4, 30))
    await answer(db, who, number, "教务甲", now=utc("2027-04-25T02:00"))
    rated = utc("2027-04-26T02:00")
    await rate(db, who, number, Rating.UNSATISFIED, now=rated)  # back to 教务处 for 30 days
    settings = settings_with()
    outcomes = of(await run_due(db, settings, utc("2027-05-23T01:00")), DEADLINE_SOURCE)
    assert outcomes == [("proposal:deadline-2027-05-26", 1, 0, ["教务乙（30002，教务处）"])]


async def test_deadline_reminders_run_once(db: Database) -> None:
    await assigned_union(db)
    settings = settings_with()
    await run_due(db, settings, REMIND)
    before = await queued(db, "proposal:")
    again = of(await run_due(db, settings, REMIND), DEADLINE_SOURCE)
    late = of(await run_due(db, settings, REMIND + timedelta(hours=5)), DEADLINE_SOURCE)
    assert [(n, already) for _, n, already, _ in again + late] == [(0, 2), (0, 2)]
    assert await queued(db, "proposal:") == before


async def test_catch_up_of_a_deadline_reminder_within_the_grace_window(db: Database) -> None:
    await assigned_union(db)
    settings = settings_with()
    assert of(await run_due(db, settings, REMIND + timedelta(hours=6)), DEADLINE_SOURCE) == []
    caught = of(await run_due(db, settings, REMIND + timedelta(hours=5, minutes=59)), DEADLINE_SOURCE)
    assert [(k, n) for k, n, _, _ in caught] == [("proposal:deadline-2027-05-06", 2)]


async def test_a_reminder_caught_up_a_day_late_counts_the_days_left_from_then(db: Database) -> None:
    who, _ = await assigned_union(db)
    settings = settings_with(scheduler={"grace_hours": 48})
    caught = of(await run_due(db, settings, REMIND + timedelta(days=1)), DEADLINE_SOURCE)
    assert [(k, n) for k, n, _, _ in caught] == [
        ("proposal:deadline-2027-05-06", 2), ("proposal:deadline-2027-05-07", 1),
    ]
    sent = await queued(db, "proposal:deadline-2027-05-06:")
    assert sent[f"proposal:deadline-2027-05-06:member:{who['教务甲'].id}"][1].splitlines()[1] == (
        "教务甲老师：教务处承办的以下 2 件提案答复期限为5月6日（周四），还有 2 天，目前尚未答复："
    )


async def test_a_reminder_caught_up_on_the_deadline_says_so_and_after_it_is_dropped(db: Database) -> None:
    _, numbers = await assigned_union(db)
    settings = settings_with(scheduler={"proposal_reminder_days": 1, "grace_hours": 72})
    # the reminders of the 6th (due 5 May 09:00) and the 7th (due 6 May 09:00), caught up on the 7th
    caught = of(await run_due(db, settings, utc("2027-05-07T02:00")), DEADLINE_SOURCE)
    assert [(k, n) for k, n, _, _ in caught] == [("proposal:deadline-2027-05-07", 1)]
    assert await queued(db, "proposal:deadline-2027-05-06") == {}
    [(_, text)] = (await queued(db, "proposal:deadline-2027-05-07:")).values()
    assert text.splitlines()[1] == (
        f"科研丁老师：科研处承办的提案 {numbers[4]}《关于简化科研经费报销的建议》（主办）"
        "答复期限为5月7日（周五），今天到期，目前尚未答复。"
    )


async def test_the_reminder_days_and_time_are_configurable(db: Database) -> None:
    await assigned_union(db)
    settings = settings_with(scheduler={"proposal_reminder_days": 1, "proposal_reminder_time": "15:30"})
    items = await planned(db, settings, T0, 30, DEADLINE_SOURCE)
    assert [(item.occasion.title, item.occasion.due_at) for item in items] == [
        ("提案答复提醒（答复期限 5月6日，提前 1 天）", utc("2027-05-05T07:30")),
        ("提案答复提醒（答复期限 5月7日，提前 1 天）", utc("2027-05-06T07:30")),
    ]
    off = settings_with(scheduler={"proposal_reminder_days": 0})
    assert await planned(db, off, T0, 30, DEADLINE_SOURCE) == []


# ---------------------------------------------------------------- the overdue digest


async def test_the_weekly_digest_lists_overdue_proposals_for_the_unions_officers(db: Database) -> None:
    who, numbers = await assigned_union(db)
    settings = settings_with()
    outcomes = of(await run_due(db, settings, DIGEST), OVERDUE_SOURCE)
    # 孙丽 and 周敏 are officers of the 校工会; 张三 is an officer of a branch
    assert outcomes == [("proposal:overdue-2027-05-10", 1, 0, ["周敏（40002）"])]
    sent = await queued(db, "proposal:overdue-")
    assert sent == {f"proposal:overdue-2027-05-10:member:{who['孙丽'].id}": ("onebot:user:8201", (
        "【逾期提案周报】示范大学工会\n"
        "截至5月10日（周一），有 4 件提案已过答复期限，主办部门尚未答复：\n"
        f"· {numbers[0]}《关于延长图书馆开放时间的建议》，主办：教务处，期限 5月6日（周四），已逾期 4 天\n"
        f"· {numbers[1]}《关于优化排课系统的建议》，主办：教务处，期限 5月6日（周四），已逾期 4 天\n"
        f"· {numbers[2]}《关于改善教工食堂伙食的建议》，主办：后勤管理处，期限 5月6日（周四），已逾期 4 天\n"
        f"· {numbers[4]}《关于简化科研经费报销的建议》，主办：科研处，期限 5月7日（周五），已逾期 3 天\n"
        "请督促有关部门尽快答复。发送「提案列表 逾期」可查看完整列表，「提案 编号」可查看办理详情。"
    ))}
    again = of(await run_due(db, settings, DIGEST + timedelta(minutes=1)), OVERDUE_SOURCE)
    assert [(n, already) for _, n, already, _ in again] == [(0, 1)]


async def test_no_digest_when_nothing_is_overdue(db: Database) -> None:
    who = await people(db)
    number = await file(db, who, "关于增加校园充电桩的建议")
    await accept(db, who, number, "教务处")
    settings = settings_with()
    assert of(await run_due(db, settings, REMIND), OVERDUE_SOURCE) == []  # a Monday: not overdue yet
    items = await planned(db, settings, REMIND, 14, OVERDUE_SOURCE)
    assert [(item.occasion.key, len(item.deliveries)) for item in items] == [
        ("proposal:overdue-2027-05-10", 2), ("proposal:overdue-2027-05-17", 2),
    ]
    await answer(db, who, number, "教务甲", now=REMIND + timedelta(days=5))
    assert await planned(db, settings, REMIND, 14, OVERDUE_SOURCE) == []
    assert of(await run_due(db, settings, DIGEST), OVERDUE_SOURCE) == []
    assert await queued(db, "proposal:overdue-") == {}


async def test_the_digest_day_and_time_are_configurable(db: Database) -> None:
    await assigned_union(db)
    friday = settings_with(scheduler={"overdue_digest_weekday": 5, "overdue_digest_time": "16:00"})
    items = await planned(db, friday, REMIND, 14, OVERDUE_SOURCE)
    assert [(item.occasion.title, item.occasion.due_at) for item in items] == [
        ("逾期提案周报（5月7日）", utc("2027-05-07T08:00")),
        ("逾期提案周报（5月14日）", utc("2027-05-14T08:00")),
    ]
    off = settings_with(scheduler={"overdue_digest_weekday": 0})
    assert await planned(db, off, REMIND, 14, OVERDUE_SOURCE) == []


async def test_a_union_without_officers_is_told_in_the_plan(db: Database) -> None:
    who = await people(db, officers=False)
    number = await file(db, who, "关于增加校园充电桩的建议")
    await accept(db, who, number, "教务处", deadline=date(2027, 5, 1))
    items = await planned(db, settings_with(), REMIND, 7, OVERDUE_SOURCE)
    assert [(d.key, d.target, d.problem) for d in items[0].deliveries] == [
        ("proposal:overdue-2027-05-10:nobody", None,
         "示范大学工会没有干部（名册中角色为“干部”的会员），周报无人接收"),
    ]


def test_a_long_digest_lists_the_first_fifty_and_counts_the_rest() -> None:
    items = [Item(f"T2027-{i:03d}", f"第{i}件", True, "教务处", date(2027, 4, 1)) for i in range(1, 53)]
    text = say("reminders", "overdue_digest", union="示范大学工会", today=date(2027, 5, 10), items=items,
               limit=DIGEST_LIMIT)
    lines = text.splitlines()
    assert lines[1] == "截至5月10日（周一），有 52 件提案已过答复期限，主办部门尚未答复："
    assert sum(line.startswith("· ") for line in lines) == 50
    assert "……另有 2 件未列出。" in lines


# ---------------------------------------------------------------- settings


def test_default_proposal_reminder_settings() -> None:
    scheduler = load_settings(data={}).scheduler
    assert (scheduler.proposal_reminder_days, scheduler.proposal_reminder_time) == (3, "09:00")
    assert (scheduler.overdue_digest_weekday, scheduler.overdue_digest_time) == (1, "09:00")
    given = load_settings(data={"scheduler": {"proposal_reminder_time": "8:30"}}).scheduler
    assert given.proposal_reminder_time == "08:30"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"proposal_reminder_days": -1}, "scheduler.proposal_reminder_days：不能小于 0"),
        ({"proposal_reminder_days": 61}, "scheduler.proposal_reminder_days：不能大于 60"),
        ({"proposal_reminder_days": "三天"}, "scheduler.proposal_reminder_days：应为整数"),
        ({"proposal_reminder_time": "24:00"}, "scheduler.proposal_reminder_time：「24:00」不是一天中的时刻"),
        ({"proposal_reminder_time": "上午九点"}, "scheduler.proposal_reminder_time：「上午九点」不是"),
        ({"overdue_digest_weekday": 8}, "scheduler.overdue_digest_weekday：不能大于 7"),
        ({"overdue_digest_weekday": -1}, "scheduler.overdue_digest_weekday：不能小于 0"),
        ({"overdue_digest_weekday": "周一"}, "scheduler.overdue_digest_weekday：应为整数"),
        ({"overdue_digest_time": "9.00"}, "scheduler.overdue_digest_time：「9.00」不是一天中的时刻"),
        ({"overdue_digest_day": 1}, "scheduler.overdue_digest_day：没有这一项"),
    ],
)
def test_bad_proposal_reminder_settings_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(data={"scheduler": values})
    assert message in str(info.value)
    assert "\n" not in str(info.value)
