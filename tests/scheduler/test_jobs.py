"""Running what is due: exactly once across reruns, restarts and concurrent runners."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app import create_app
from bot.messages import Reply
from bot.outbox.queue import Target
from models.db import Database
from models.outbox import OutboxMessage
from scheduler.jobs import Memo, report_missed, run_due
from scheduler.occasions import Delivery, Occasion, World
from scheduler.occasions import Source as SourceType
from scheduler.planner import missed
from scheduler.runner import FIRST_RUN_DELAY, JOB_ID, SchedulerService, scheduler_ctx
from scheduler.sources import SOURCES
from tests.scheduler.test_planner import settings_with, setup_union, utc

DUE = "2027-06-06T01:00"  # the 2027 端午 notice: 09:00 in Shanghai


async def rows(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.key))
        return [(r.key, f"{r.channel}:{r.target_kind}:{r.target}", json.loads(r.payload)["text"])
                for r in found]


async def count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_what_is_due_is_queued_once_however_often_it_runs(db: Database) -> None:
    ids = await setup_union(db)
    settings = settings_with()
    first = await run_due(db, settings, utc(DUE))
    assert [(o.occasion.key, o.queued, o.already, len(o.unreachable)) for o in first] == [
        ("holiday:2027-端午", 4, 0, 1),
    ]
    assert first[0].unreachable[0].label == "计算机QQ官方群（QQ 开放平台机器人）"
    queued = await rows(db)
    assert [(key, target) for key, target, _ in queued] == sorted([
        (f"holiday:2027-端午:chat:{ids['计算机学院教职工群']}", "onebot:group:111"),
        (f"holiday:2027-端午:chat:{ids['外院教职工群']}", "onebot:group:222"),
        (f"holiday:2027-端午:chat:{ids['软件系群']}", "onebot:group:333"),
        (f"holiday:2027-端午:chat:{ids['未登记的群']}", "onebot:group:444"),
    ])
    assert queued[0][2].startswith("【示范大学工会】端午节慰问通知\n各位会员：\n2027年6月9日")
    again = await run_due(db, settings, utc(DUE))  # the same instant again
    later = await run_due(db, settings, utc("2027-06-06T03:00"))  # a later minute, no memo
    assert [(o.queued, o.already) for o in again + later] == [(0, 4), (0, 4)]
    assert await rows(db) == queued


async def test_a_memo_skips_what_this_process_already_did(db: Database) -> None:
    await setup_union(db)
    settings, memo = settings_with(), Memo()
    assert len(await run_due(db, settings, utc(DUE), memo=memo)) == 1
    assert await run_due(db, settings, utc("2027-06-06T01:01"), memo=memo) == []
    restarted = await run_due(db, settings, utc("2027-06-06T01:02"), memo=Memo())
    assert [(o.queued, o.already) for o in restarted] == [(0, 4)]
    assert await count(db) == 4


async def test_two_runners_at_the_same_moment_queue_each_message_once(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(holidays={"端午": {"delivery": "private"}})
    results = await asyncio.gather(*(run_due(db, settings, utc(DUE), memo=Memo()) for _ in range(3)))
    outcomes = [o for result in results for o in result]
    assert sum(o.queued for o in outcomes) == 5  # 张三 李四 赵强 刘洋 孙丽 (王芳 has no account)
    assert sum(o.already for o in outcomes) == 10
    assert await count(db) == 5


async def test_a_second_database_handle_is_a_second_replica(sqlite_db: Database) -> None:
    """A second engine on the same SQLite file stands for a second process."""
    db = sqlite_db
    await setup_union(db)
    other = Database(db.url)
    try:
        settings = settings_with()
        results = await asyncio.gather(run_due(db, settings, utc(DUE)), run_due(other, settings, utc(DUE)))
    finally:
        await other.dispose()
    assert sorted((o.queued, o.already) for result in results for o in result) == [(0, 4), (4, 0)]
    assert await count(db) == 4


async def test_catch_up_within_the_grace_window(db: Database) -> None:
    await setup_union(db)
    outcomes = await run_due(db, settings_with(), utc("2027-06-06T06:59"))  # 5 h 59 min late
    assert [(o.occasion.key, o.queued) for o in outcomes] == [("holiday:2027-端午", 4)]


async def test_too_late_is_skipped_logged_once_and_listed_as_missed(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_union(db)
    settings = settings_with()
    at = utc("2027-06-06T07:00")  # exactly 6 h late: outside the window
    assert await run_due(db, settings, at) == []
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        skipped = await report_missed(db, settings, at)
    assert [item.occasion.key for item in skipped] == ["holiday:2027-端午"]
    lines = [r.getMessage() for r in caplog.records if r.name == "scheduler.jobs"]
    assert lines == [
        "1 scheduled item(s) were due more than 6 h ago and are skipped: "
        "holiday:2027-端午 due 2027-06-06 01:00 UTC (see: unionbot scheduler plan --missed)"
    ]
    assert await count(db) == 0


async def test_a_longer_grace_window_catches_up_more(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(scheduler={"grace_hours": 24})
    outcomes = await run_due(db, settings, utc("2027-06-07T00:59"))
    assert [(o.occasion.key, o.queued) for o in outcomes] == [("holiday:2027-端午", 4)]


async def test_what_ran_is_not_missed(db: Database) -> None:
    await setup_union(db)
    settings = settings_with()
    await run_due(db, settings, utc(DUE))
    async with db.write() as session:
        found = await missed(World(session, settings, utc("2027-06-08T00:00")), days=30)
    # 张三's birthday list of 12 May and the 六一 notice of 29 May never ran; 端午 did
    assert [(item.occasion.key, item.occasion.due_at) for item in found] == [
        ("birthday:2027-05-12", utc("2027-05-12T00:00")),
        ("holiday:2027-六一", utc("2027-05-29T01:00")),
    ]


async def test_nothing_is_due_before_its_time(db: Database) -> None:
    await setup_union(db)
    assert await run_due(db, settings_with(), utc("2027-06-06T00:59")) == []
    assert await count(db) == 0


async def test_birthday_lists_and_greetings_run_once(db: Database) -> None:
    await setup_union(db)
    settings = settings_with(scheduler={"birthday_greeting": True})
    at = utc("2027-03-02T00:00")
    first = await run_due(db, settings, at)
    assert [(o.occasion.key, o.queued) for o in first] == [
        ("birthday:2027-03-02", 2), ("birthday:2027-03-02:greeting", 2),
    ]
    assert [(o.queued, o.already) for o in await run_due(db, settings, at)] == [(0, 2), (0, 2)]
    texts = [text for _, target, text in await rows(db) if target == "onebot:user:9001"]
    assert len(texts) == 2 and all(text.startswith("【生日慰问】") for text in texts)


class Broken:
    """A source whose deliveries fail, next to the real ones."""

    name = "broken"

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        return [Occasion(key="broken:1", source=self.name, due_at=end, title="坏的")]

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        def fail() -> Reply:
            raise RuntimeError("template exploded")

        target = Target("onebot", "group", "111")
        return [Delivery(key="broken:1:a", label="a", target=target, compose=lambda: Reply("ok")),
                Delivery(key="broken:1:b", label="b", target=target, compose=fail)]


async def test_a_failing_occasion_queues_nothing_and_does_not_stop_the_others(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_union(db)
    sources: tuple[SourceType, ...] = (*SOURCES, Broken())
    memo = Memo()
    with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
        outcomes = await run_due(db, settings_with(), utc(DUE), memo=memo, sources=sources)
    assert [(o.occasion.key, o.queued, o.error) for o in outcomes] == [
        ("broken:1", 0, "RuntimeError: template exploded"),
        ("holiday:2027-端午", 4, None),
    ]
    assert "broken:1" not in memo and "holiday:2027-端午" in memo
    assert [key for key, _, _ in await rows(db) if key.startswith("broken")] == []
    assert "scheduled broken:1 failed" in caplog.text


# ---------------------------------------------------------------- the service


async def test_the_service_ticks_at_a_given_time_and_reports_missed_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_union(db)
    service = SchedulerService(db, settings_with())
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        await service.tick(utc("2027-06-09T00:00"))  # three days after the 端午 notice
        await service.tick(utc("2027-06-09T00:01"))
    assert caplog.text.count("are skipped") == 1
    assert await service.tick(utc("2027-06-09T00:02")) == []
    assert await count(db) == 0


async def test_the_service_starts_and_stops_with_apscheduler(db: Database) -> None:
    service = SchedulerService(db, settings_with(scheduler={"tick_seconds": 600}))
    service.start(delay=0)
    for _ in range(50):  # the first tick runs at once
        if service._started_up and service._running is None:
            break
        await asyncio.sleep(0.02)
    assert service._started_up
    await service.stop()


async def test_the_first_run_waits_until_the_server_has_started(db: Database) -> None:
    service = SchedulerService(db, settings_with(scheduler={"tick_seconds": 600}))
    service.start()
    await asyncio.sleep(0.2)
    assert not service._started_up
    first = service._scheduler.get_job(JOB_ID).next_run_time
    assert first >= datetime.now(UTC) + timedelta(seconds=FIRST_RUN_DELAY - 1)
    await service.stop()


def test_the_app_runs_the_scheduler_only_when_enabled() -> None:
    assert scheduler_ctx in create_app(settings_with(scheduler={"enabled": True})).cleanup_ctx
    off = settings_with(scheduler={"enabled": False})
    app: web.Application = create_app(off)
    assert scheduler_ctx not in app.cleanup_ctx
