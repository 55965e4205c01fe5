"""Event reminders: who gets them, when, and exactly once — on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.messages import Reply
from bot.metrics import Metrics
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.events.admin import EventDraft, cancel_event, create_event, modify_event
from models.events.keys import occasion_key
from models.events.queries import event_by_number
from models.events.signups import Applicant, sign_up, withdraw
from models.events.standing import lock_for
from models.events.tables import Timing
from models.org import Member, Role
from models.outbox import OutboxMessage
from scheduler.event_reminders import SOURCE
from scheduler.jobs import Outcome, report_missed, run_due
from scheduler.occasions import World
from scheduler.planner import Planned, plan
from tests.bot.test_delivery import FakeSender
from tests.factories import make_member, message
from tests.scheduler.test_jobs import rows
from tests.scheduler.test_planner import NO_ACCOUNT, settings_with, utc

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing()
T0 = utc("2027-04-20T02:00")  # when the event is created and people sign up
START = utc("2027-05-01T06:00")  # Saturday 14:00 in Shanghai
DUE_24 = utc("2027-04-30T06:00")
DUE_2 = utc("2027-05-01T04:00")

PEOPLE = [  # staff no, name, QQ account (None: nothing the bot can push to)
    ("10001", "张三", "9001"),
    ("10002", "李四", "9002"),
    ("10003", "王芳", "9003"),
    ("10004", "赵强", "9004"),
    ("10005", "刘洋", None),
]


async def people(db: Database) -> dict[str, Member]:
    found = {}
    for staff_no, name, account in PEOPLE:
        found[name] = await make_member(
            db, staff_no, name, birth_date=None, accounts=[("onebot", account)] if account else []
        )
    return found


async def new_event(
    db: Database, *, starts_at: datetime = START, now: datetime = T0, capacity: int = 5,
    title: str = "教职工羽毛球赛",
) -> str:
    async with db.write() as session:
        event = await create_event(session, draft=EventDraft(
            title=title, place="体育馆", starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
            capacity=capacity, max_guests=2,
        ), created_by=None, now=now)
        return event.code


async def join(db: Database, member: Member, *, number: int = 1, guests: int = 0, now: datetime = T0) -> str:
    assert member.id is not None
    async with db.write() as session:
        outcome = await sign_up(
            session, locked=await lock_for(session, number, member.id),
            who=Applicant(member.id, member.branch_id, member.gender), guests=guests, note=None,
            answers={}, now=now, tz=TZ, timing=TIMING,
        )
        return outcome.standing.status


async def leave(db: Database, member: Member, *, now: datetime, number: int = 1) -> list[int]:
    assert member.id is not None
    async with db.write() as session:
        event = await event_by_number(session, number, lock=True)
        assert event is not None
        result = await withdraw(session, event=event, member_id=member.id, now=now, tz=TZ)
        return [p.member_id for p in result.promoted]


async def change(db: Database, *, now: datetime, number: int = 1, **changes: Any) -> None:
    async with db.write() as session:
        event = await event_by_number(session, number, lock=True)
        assert event is not None
        await modify_event(session, event=event, changes=changes, now=now, tz=TZ, timing=TIMING)


async def cancel(db: Database, *, now: datetime, number: int = 1) -> None:
    async with db.write() as session:
        event = await event_by_number(session, number, lock=True)
        assert event is not None
        await cancel_event(session, event=event, reason="场地检修", now=now, tz=TZ, timing=TIMING)


async def signed_up_union(db: Database) -> dict[str, Member]:
    """A1 with five places: 张三 +1 guest, 李四, 赵强, 刘洋 (no account) hold them; 王芳 waits."""
    who = await people(db)
    await new_event(db)
    for name, guests in (("张三", 1), ("李四", 0), ("赵强", 0), ("刘洋", 0)):
        assert await join(db, who[name], guests=guests) == "confirmed"
    assert await join(db, who["王芳"]) == "waitlist"
    return who


def reminders(outcomes: list[Outcome]) -> list[tuple[str, int, int, list[str]]]:
    return [(o.occasion.key, o.queued, o.already, [d.label for d in o.unreachable])
            for o in outcomes if o.occasion.source == SOURCE]


def key(member: Member, hours: int, start: datetime = START, code: str = "A1") -> str:
    return f"{occasion_key(code, start, hours)}:member:{member.id}"


async def queued(db: Database) -> dict[str, tuple[str, str]]:
    return {k: (target, text) for k, target, text in await rows(db) if k.startswith("event:")}


async def planned(db: Database, settings: Settings, start: datetime, days: int) -> list[Planned]:
    async with db.write() as session:
        items = await plan(World(session, settings, start), start, start + timedelta(days=days))
    return [item for item in items if item.occasion.source == SOURCE]


# ---------------------------------------------------------------- who and when


async def test_everyone_with_a_place_is_reminded_24_and_2_hours_before(db: Database) -> None:
    who = await signed_up_union(db)
    settings = settings_with()
    assert reminders(await run_due(db, settings, DUE_24 - timedelta(minutes=1))) == []
    first = reminders(await run_due(db, settings, DUE_24))
    assert first == [("event:A1:start-20270501T0600Z:remind-24h", 3, 0, ["刘洋（10005）"])]
    sent = await queued(db)
    assert sorted(sent) == sorted(key(who[name], 24) for name in ("张三", "李四", "赵强"))
    assert sent[key(who["张三"], 24)] == ("onebot:user:9001", (
        "【活动提醒】A1 教职工羽毛球赛\n"
        "张三老师：您报名参加的活动将于明天 14:00 开始，请合理安排时间，准时参加。\n"
        "时间：5月1日（周六）14:00–16:00\n"
        "地点：体育馆\n"
        "人数：您本人和 1 位家属，共 2 人\n"
        "如不能参加，请尽早发送「取消报名 A1」，以便把名额让给其他同事。"
    ))
    assert "人数" not in sent[key(who["李四"], 24)][1]  # no guests, no party size
    second = reminders(await run_due(db, settings, DUE_2))
    assert second == [("event:A1:start-20270501T0600Z:remind-2h", 3, 0, ["刘洋（10005）"])]
    text = (await queued(db))[key(who["李四"], 2)][1]
    assert text.splitlines()[1] == "李四老师：您报名参加的活动将于今天 14:00 开始，请合理安排时间，准时参加。"
    assert not any(k.endswith(f":member:{who['王芳'].id}") for k in await queued(db))  # still waiting


async def test_a_withdrawn_sign_up_gets_none_and_the_one_promoted_before_does(db: Database) -> None:
    who = await signed_up_union(db)
    assert await leave(db, who["赵强"], now=utc("2027-04-29T02:00")) == [who["王芳"].id]
    outcomes = reminders(await run_due(db, settings_with(), DUE_24))
    assert [(k, n) for k, n, _, _ in outcomes] == [("event:A1:start-20270501T0600Z:remind-24h", 3)]
    assert sorted(await queued(db)) == sorted(key(who[name], 24) for name in ("张三", "李四", "王芳"))


async def test_a_waitlisted_member_promoted_after_the_first_reminder_gets_the_second(db: Database) -> None:
    who = await signed_up_union(db)
    settings = settings_with()
    await run_due(db, settings, DUE_24)
    await leave(db, who["李四"], now=DUE_24 + timedelta(hours=3))  # 王芳 gets 李四's place
    await run_due(db, settings, DUE_2)
    sent = await queued(db)
    assert key(who["王芳"], 24) not in sent and key(who["王芳"], 2) in sent
    assert key(who["李四"], 24) in sent and key(who["李四"], 2) not in sent


async def test_a_cancelled_event_is_not_reminded(db: Database) -> None:
    await signed_up_union(db)
    await cancel(db, now=utc("2027-04-25T02:00"))
    settings = settings_with()
    assert reminders(await run_due(db, settings, DUE_24)) == []
    assert reminders(await run_due(db, settings, DUE_2)) == []
    assert await planned(db, settings, T0, 30) == []
    assert await queued(db) == {}


async def test_moving_an_event_plans_its_reminders_anew(db: Database) -> None:
    who = await signed_up_union(db)
    settings = settings_with()
    await run_due(db, settings, DUE_24)  # the 24 h reminder of the old time goes out
    later = START + timedelta(days=2)  # Monday 3 May, 14:00
    await change(db, starts_at=later, ends_at=later + timedelta(hours=2), now=DUE_24 + timedelta(hours=1))
    assert reminders(await run_due(db, settings, DUE_2)) == []  # the old time's 2 h reminder is gone
    new_24 = reminders(await run_due(db, settings, later - timedelta(hours=24)))
    new_2 = reminders(await run_due(db, settings, later - timedelta(hours=2)))
    assert [(k, n) for k, n, _, _ in new_24 + new_2] == [
        ("event:A1:start-20270503T0600Z:remind-24h", 3),
        ("event:A1:start-20270503T0600Z:remind-2h", 3),
    ]
    sent = await queued(db)
    assert key(who["张三"], 24) in sent and key(who["张三"], 2) not in sent
    assert key(who["张三"], 24, later) in sent and key(who["张三"], 2, later) in sent
    assert sent[key(who["张三"], 24, later)][1].splitlines()[1:3] == [
        "张三老师：您报名参加的活动将于明天 14:00 开始，请合理安排时间，准时参加。",
        "时间：5月3日（周一）14:00–16:00",
    ]


async def test_a_reminder_time_already_past_when_the_event_moved_is_skipped(db: Database) -> None:
    await signed_up_union(db)
    settings = settings_with()
    moved_at = DUE_24 - timedelta(hours=4)
    sooner = START - timedelta(hours=6)  # its new 24 h reminder was due two hours before the move
    await change(db, starts_at=sooner, ends_at=sooner + timedelta(hours=1), now=moved_at)
    assert reminders(await run_due(db, settings, moved_at + timedelta(minutes=1))) == []
    items = await planned(db, settings, moved_at - timedelta(hours=6), 5)
    assert [item.occasion.key for item in items] == ["event:A1:start-20270501T0000Z:remind-2h"]


async def test_an_edit_after_a_move_leaves_a_reminder_already_due_in_place(db: Database) -> None:
    await signed_up_union(db)
    settings = settings_with()
    later = START + timedelta(days=2)
    await change(db, starts_at=later, ends_at=later + timedelta(hours=2), now=T0 + timedelta(days=1))
    due = later - timedelta(hours=24)
    await change(db, note="请穿运动鞋", max_guests=3, now=due + timedelta(minutes=30))  # before the next tick
    skipped = await report_missed(db, settings, due + timedelta(hours=7))  # not run in time: it shows
    assert [item.occasion.key for item in skipped] == ["event:A1:start-20270503T0600Z:remind-24h"]
    caught = reminders(await run_due(db, settings, due + timedelta(hours=1)))
    assert [(k, n) for k, n, _, _ in caught] == [("event:A1:start-20270503T0600Z:remind-24h", 3)]


async def test_an_event_created_late_skips_the_reminders_already_past(db: Database) -> None:
    who = await people(db)
    created = START - timedelta(hours=3)
    await new_event(db, now=created)
    await join(db, who["张三"], now=created)
    items = await planned(db, settings_with(), created - timedelta(hours=6), 2)
    assert [(item.occasion.key, item.occasion.due_at) for item in items] == [
        ("event:A1:start-20270501T0600Z:remind-2h", DUE_2),
    ]


# ---------------------------------------------------------------- exactly once


async def test_running_again_sends_nothing_twice(db: Database) -> None:
    await signed_up_union(db)
    settings = settings_with()
    await run_due(db, settings, DUE_24)
    before = await queued(db)
    again = reminders(await run_due(db, settings, DUE_24))
    later = reminders(await run_due(db, settings, DUE_24 + timedelta(minutes=1)))
    assert [(n, already) for _, n, already, _ in again + later] == [(0, 3), (0, 3)]
    assert await queued(db) == before


async def test_catch_up_within_the_grace_window_and_missed_after_it(db: Database) -> None:
    await signed_up_union(db)
    settings = settings_with()
    too_late = DUE_24 + timedelta(hours=6)
    assert reminders(await run_due(db, settings, too_late)) == []
    skipped = await report_missed(db, settings, too_late)
    assert [item.occasion.key for item in skipped] == ["event:A1:start-20270501T0600Z:remind-24h"]
    late = reminders(await run_due(db, settings, DUE_2 + timedelta(hours=1, minutes=59)))
    assert [(k, n) for k, n, _, _ in late] == [("event:A1:start-20270501T0600Z:remind-2h", 3)]


async def test_no_reminder_is_caught_up_once_the_event_has_begun(db: Database) -> None:
    await signed_up_union(db)
    settings = settings_with()
    assert reminders(await run_due(db, settings, START)) == []  # the 2 h reminder, 2 h late
    assert await queued(db) == {}


# ---------------------------------------------------------------- recalled from the outbox


async def officer_says(db: Database, words: str, *, at: datetime) -> str:
    """What a new officer of the whole union, 王干部, is answered at ``at``, through the whole pipeline."""
    await make_member(db, "10009", "王干部", birth_date=None, roles=[Role.OFFICER], branch="示范大学工会",
                      accounts=[("console", "officer")])
    pipeline = Pipeline(db=db, settings=settings_with(), registry=build_registry(), metrics=Metrics(),
                        clock=lambda: at)
    reply = await pipeline.handle(message(words, sender="officer"))
    assert reply is not None
    return reply.text


async def outbox_states(db: Database, prefix: str) -> dict[str, tuple[str, str | None]]:
    async with db.read() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.key))
        return {r.key: (r.status, r.last_error) for r in found if r.key.startswith(prefix)}


async def test_moving_an_event_recalls_its_old_reminders_still_waiting_in_the_outbox(
    db: Database
) -> None:
    who = await signed_up_union(db)
    settings = settings_with()
    await new_event(db, title="工会读书会")  # A2
    await join(db, who["张三"], number=2)
    await run_due(db, settings, DUE_24)  # queued; QQ is down, so they wait for a retry
    answer = await officer_says(db, "修改活动 A1 时间 2027-05-03 14:00", at=DUE_24 + timedelta(hours=1))
    assert answer.startswith("已修改 A1 教职工羽毛球赛："), answer
    recalled = ("recalled", "活动 A1 改了时间或地点，原来的提醒已作废，不再发送（报名的人另有变更通知）")
    assert await outbox_states(db, "event:A1:start-") == {
        key(who[name], 24): recalled for name in ("张三", "李四", "赵强")
    }
    assert await outbox_states(db, "event:A2:start-") == {key(who["张三"], 24, code="A2"): ("queued", None)}
    sender = FakeSender()
    await OutboxWorker(db=db, settings=settings, senders={"onebot": sender}).run_once()
    sent = sorted(k for _, _, k in sender.sent)
    assert [k for k in sent if k.startswith("event:A1:")] == sorted(
        f"event:A1:changed:1:member:{who[name].id}" for name in ("张三", "李四", "王芳", "赵强")
    )
    assert key(who["张三"], 24, code="A2") in sent
    later = utc("2027-05-03T06:00")
    new_24 = reminders(await run_due(db, settings, later - timedelta(hours=24)))
    assert [(k, n) for k, n, _, _ in new_24] == [("event:A1:start-20270503T0600Z:remind-24h", 3)]


async def test_a_change_of_capacity_recalls_nothing(db: Database) -> None:
    await signed_up_union(db)
    await run_due(db, settings_with(), DUE_24)
    answer = await officer_says(db, "修改活动 A1 名额 8", at=DUE_24 + timedelta(hours=1))
    assert answer.startswith("已修改 A1 教职工羽毛球赛："), answer
    assert {status for status, _ in (await outbox_states(db, "event:A1:start-")).values()} == {"queued"}


async def test_cancelling_an_event_recalls_all_its_reminders_still_waiting(
    db: Database
) -> None:
    who = await signed_up_union(db)
    settings = settings_with()
    await new_event(db, title="工会读书会")  # A2
    await join(db, who["张三"], number=2)
    await run_due(db, settings, DUE_24)
    await run_due(db, settings, DUE_2)
    sent = await outbox_states(db, "event:A1:start-")
    async with db.write() as session:  # the 24 h reminder to 张三 went out before the outage
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key(who["张三"], 24)))
        assert row is not None
        row.status = "sent"
        await enqueue(session, settings=settings, key="event:A1:promoted:member:1:seq:9",
                      target=Target("onebot", "user", "9001"), reply=Reply("候补转正了"))
    answer = await officer_says(db, "取消活动 A1 场地检修", at=DUE_2 + timedelta(minutes=20))
    assert answer.startswith("已取消活动 A1"), answer
    cancelled = ("recalled", "活动 A1 已取消，这条消息已作废，不再发送（报名的人另有取消通知）")
    assert len(sent) == 6
    assert await outbox_states(db, "event:A1:start-") == {
        k: ("sent", None) if k == key(who["张三"], 24) else cancelled for k in sent
    }
    assert await outbox_states(db, "event:A1:promoted:") == {"event:A1:promoted:member:1:seq:9": cancelled}
    assert {status for status, _ in (await outbox_states(db, "event:A2:")).values()} == {"queued"}
    assert {status for status, _ in (await outbox_states(db, "event:A1:cancelled:")).values()} == {"queued"}


# ---------------------------------------------------------------- the plan


async def test_the_plan_shows_both_reminders_and_who_cannot_be_reached(db: Database) -> None:
    who = await signed_up_union(db)
    items = await planned(db, settings_with(), T0, 30)
    assert [(item.occasion.due_at, item.occasion.title) for item in items] == [
        (DUE_24, "活动提醒：A1 教职工羽毛球赛（5月1日 14:00 开始，提前 24 小时）"),
        (DUE_2, "活动提醒：A1 教职工羽毛球赛（5月1日 14:00 开始，提前 2 小时）"),
    ]
    assert [(d.key, d.label, str(d.target) if d.target else None, d.problem)
            for d in items[0].deliveries] == [
        (key(who["张三"], 24), "张三（10001）", "onebot:user:9001", None),
        (key(who["李四"], 24), "李四（10002）", "onebot:user:9002", None),
        (key(who["赵强"], 24), "赵强（10004）", "onebot:user:9004", None),
        (key(who["刘洋"], 24), "刘洋（10005）", None, NO_ACCOUNT),
    ]
    assert all(len(d.key) <= 255 for item in items for d in item.deliveries)


@contextmanager
def counting(db: Database, table: str) -> Iterator[list[str]]:
    """The SELECT statements reading ``table`` while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            seen.append(statement)

    engine = db.write_engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


async def test_a_years_plan_reads_the_sign_ups_once(db: Database) -> None:
    who = await people(db)
    for day in range(12):
        starts_at = START + timedelta(days=30 * day)
        code = await new_event(db, starts_at=starts_at, title=f"第{day + 1}场讲座")
        await join(db, who["张三"], number=int(code[1:]))
        await join(db, who["李四"], number=int(code[1:]), guests=2)
    with counting(db, "event_signup") as seen:
        items = await planned(db, settings_with(), T0, 365)
    assert len(items) == 24 and all(len(item.deliveries) == 2 for item in items)
    assert len(seen) == 1


async def test_the_configured_hours_decide_the_reminders(db: Database) -> None:
    await signed_up_union(db)
    one = await planned(db, settings_with(scheduler={"event_reminder_hours": [72]}), T0, 30)
    assert [item.occasion.key for item in one] == ["event:A1:start-20270501T0600Z:remind-72h"]
    assert one[0].deliveries[0].compose().text.splitlines()[1] == (
        "张三老师：您报名参加的活动将于5月1日（周六）14:00 开始，请合理安排时间，准时参加。"
    )
    assert await planned(db, settings_with(scheduler={"event_reminder_hours": []}), T0, 30) == []


# ---------------------------------------------------------------- settings


def test_default_reminder_hours() -> None:
    assert load_settings(data={}).scheduler.event_reminder_hours == [24, 2]
    given = load_settings(data={"scheduler": {"event_reminder_hours": [2, 72, 24]}})
    assert given.scheduler.event_reminder_hours == [72, 24, 2]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([0], "scheduler.event_reminder_hours：每个提醒是开始前 1 到 720 小时，例如 [24, 2]"),
        ([721], "scheduler.event_reminder_hours：每个提醒是开始前 1 到 720 小时"),
        ([-2], "scheduler.event_reminder_hours：每个提醒是开始前 1 到 720 小时"),
        ([24, 24], "scheduler.event_reminder_hours：有一个提醒时间写了两次"),
        ([1, 2, 3, 4, 5, 6], "scheduler.event_reminder_hours：最多 5 项"),
        (["一天"], "scheduler.event_reminder_hours.0：应为整数"),
        (24, "scheduler.event_reminder_hours：应为方括号括起的列表"),
    ],
)
def test_bad_reminder_hours_name_the_key(hours: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(data={"scheduler": {"event_reminder_hours": hours}})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_cli_stops_with_exit_code_2_on_bad_reminder_hours(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[scheduler]\nevent_reminder_hours = [24, 0]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "scheduler", "plan", "--config", str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "配置有误：scheduler.event_reminder_hours：每个提醒是开始前 1 到 720 小时，例如 [24, 2]"
    ]
    assert not (tmp_path / "data").exists()
