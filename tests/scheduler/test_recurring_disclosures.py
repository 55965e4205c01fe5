"""[[notices.recurring]]: the officers responsible are reminded privately, once, and the plan shows it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import Settings, load_settings
from bot.config.notices import RecurringDisclosure
from bot.errors import ConfigError
from models.db import Database
from scheduler.jobs import run_due
from scheduler.occasions import World
from scheduler.planner import plan
from scheduler.recurring_disclosures import due_days
from tests.handlers.notices_helpers import SETTINGS, make_union, utc

RECURRING = [
    {"title": "经费收支情况", "kind": "经费", "every": "quarter", "month": 1, "day": 5, "time": "09:00"},
    {"title": "分工会工作动态", "every": "month", "day": 1,
     "branches": ["计算机学院分工会", "外国语学院分工会"]},
]


def settings_with_recurring() -> Settings:
    return load_settings(data={**SETTINGS.model_dump(), "notices": {"recurring": RECURRING}})


def test_due_days_follow_the_period() -> None:
    quarterly = RecurringDisclosure(title="经费", every="quarter", month=1, day=5)
    assert list(due_days(quarterly, date(2026, 12, 1), date(2027, 12, 31))) == [
        date(2027, 1, 5), date(2027, 4, 5), date(2027, 7, 5), date(2027, 10, 5)]
    yearly = RecurringDisclosure(title="评优", every="year", month=3, day=1)
    assert list(due_days(yearly, date(2026, 3, 2), date(2028, 3, 1))) == [date(2027, 3, 1), date(2028, 3, 1)]


def test_a_month_outside_the_period_is_refused() -> None:
    with pytest.raises(ConfigError, match="month 只能是 1 到 3"):
        load_settings(data={"notices": {"recurring": [{"title": "经费", "every": "quarter", "month": 4}]}})


async def test_the_responsible_officers_are_reminded_once_and_the_plan_lists_it(
    db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_with_recurring()
    union = await make_union(db, monkeypatch, settings)
    start = utc("2026-12-05T02:00")
    async with db.read() as session:
        items = await plan(World(session, union.settings, start), start, start + timedelta(days=40))
    shown = [(item.occasion.title, [d.label for d in item.deliveries]) for item in items]
    assert shown == [
        ("定期公开提醒：分工会工作动态（2027年1月1日）", ["院干部（2）", "外院干部（4）"]),
        ("定期公开提醒：经费收支情况（2027年1月5日）", ["校干部（1）"]),
    ]
    first = await run_due(db, union.settings, utc("2027-01-05T01:00"))
    assert [(o.occasion.key, o.queued) for o in first] == [("notice:recurring:经费收支情况:2027-01-05", 1)]
    again = await run_due(db, union.settings, utc("2027-01-05T01:01"))
    assert [(o.queued, o.already) for o in again] == [(0, 1)]
    [(key, target, text)] = await union.outbox()
    assert (key, target) == ("notice:recurring:经费收支情况:2027-01-05:member:1", "9001")
    assert text.splitlines()[0] == (
        "校干部，您好：按院务公开的要求，「经费收支情况」（经费，2027年1月5日）该公开了。")
