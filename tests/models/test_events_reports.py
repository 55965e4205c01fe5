"""What comes out of events: statistics, the roster export, and the schema they live in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel

from models.base import utcnow
from models.db import Database
from models.events.export import CONTENT_TYPES, export_roster
from models.events.stats import BranchFigures, YearFigures, year_figures
from models.events.tables import CANCELLED, Event, Signup
from models.org import Member
from tests.factories import make_member

TZ = ZoneInfo("Asia/Shanghai")
EVENT_TABLES = {"event", "event_signup", "download_link"}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TZ)  # type: ignore[misc]


async def add_event(db: Database, number: int, starts_at: datetime, **kw: Any) -> int:
    async with db.write() as session:
        event = Event(number=number, title=f"活动{number}", place="教工之家", starts_at=starts_at,
                      capacity=50, **kw)
        session.add(event)
        await session.flush()
        assert event.id is not None
        return event.id


async def add_signup(
    db: Database, event_id: int, member: Member, seq: int, *, status: str = "confirmed",
    guests: int = 0, came: bool = False, note: str | None = None, answers: dict[str, str] | None = None,
) -> None:
    at = utcnow()
    async with db.write() as session:
        session.add(Signup(
            event_id=event_id, member_id=member.id or 0, seq=seq, status=status, guests=guests,
            place_seq=seq if status == "confirmed" else None, note=note,
            answers=json.dumps(answers or {}, ensure_ascii=False),
            signed_up_at=local(2025, 3, 1, 9, 30) + timedelta(minutes=seq),
            checked_in_at=at if came else None,
        ))


# ---------------------------------------------------------------- 活动统计


async def test_year_figures_count_events_and_person_times(db: Database) -> None:
    a1 = await make_member(db, "40001", "甲一", branch="计算机学院分工会")
    a2 = await make_member(db, "40002", "甲二", branch="计算机学院分工会")
    a3 = await make_member(db, "40003", "甲三", branch="计算机学院分工会")
    b1 = await make_member(db, "40011", "乙一", branch="机关分工会")
    b2 = await make_member(db, "40012", "乙二", branch="机关分工会")
    branch_a, branch_b = a1.branch_id, b1.branch_id

    e1 = await add_event(db, 1, local(2025, 3, 8, 14), audience_branch_id=branch_a)
    await add_signup(db, e1, a1, 1, guests=1, came=True)
    await add_signup(db, e1, a2, 2)
    await add_signup(db, e1, a3, 3, status="waitlist")
    e2 = await add_event(db, 2, local(2025, 5, 1, 9))  # the whole union
    await add_signup(db, e2, a1, 1, came=True)
    await add_signup(db, e2, b1, 2, guests=2, came=True)
    await add_signup(db, e2, b2, 3, status="cancelled")
    e3 = await add_event(db, 3, local(2025, 6, 1, 9), audience_branch_id=branch_a, status=CANCELLED)
    await add_signup(db, e3, a1, 1)
    e4 = await add_event(db, 4, local(2025, 9, 10, 15), audience_branch_id=branch_b)
    await add_signup(db, e4, b1, 1)
    e5 = await add_event(db, 5, local(2025, 1, 1, 0, 30), audience_branch_id=branch_a)  # 2024 in UTC
    await add_signup(db, e5, a2, 1, came=True)
    e6 = await add_event(db, 6, local(2024, 12, 31, 23, 30), audience_branch_id=branch_a)
    await add_signup(db, e6, a1, 1, came=True)

    now = utcnow()
    async with db.read() as session:
        figures = await year_figures(session, year=2025, now=now, tz=TZ)
    assert figures == YearFigures(
        year=2025, until=local(2026, 1, 1).astimezone(UTC), events=4, cancelled=1, upcoming=0,
        signups=9, attended=7, people=3, without_checkin=1,
        branches=(
            BranchFigures(None, 1, 0, 0),
            BranchFigures(branch_a, 2, 5, 4),
            BranchFigures(branch_b, 1, 4, 3),
        ),
    )


async def test_a_year_still_running_counts_only_what_has_started(db: Database) -> None:
    member = await make_member(db, "40001", "甲一")
    now = local(2026, 6, 15, 10, 0).astimezone(UTC)  # an hour after one event, five minutes before another
    held = await add_event(db, 1, now - timedelta(hours=1))
    await add_signup(db, held, member, 1, came=True)
    coming = await add_event(db, 2, now + timedelta(minutes=5))
    await add_signup(db, coming, member, 1)
    async with db.read() as session:
        figures = await year_figures(session, year=now.astimezone(TZ).year, now=now, tz=TZ)
    assert (figures.until, figures.events, figures.upcoming, figures.signups) == (now, 1, 1, 1)


# ---------------------------------------------------------------- 导出


async def _roster_event(db: Database) -> Event:
    zhang = await make_member(db, "10001", "张三")
    hacker = await make_member(db, "10002", "=HYPERLINK(\"http://evil\",\"点我\")", branch="机关分工会")
    wang = await make_member(db, "10003", "王五")
    event_id = await add_event(db, 7, local(2026, 12, 5, 14), fields=json.dumps(["尺码"]))
    await add_signup(db, event_id, zhang, 1, guests=1, came=True, note="素食", answers={"尺码": "L"})
    await add_signup(db, event_id, hacker, 2, note="@SUM(1)\x07", answers={"尺码": "+XL"})
    await add_signup(db, event_id, wang, 3, status="waitlist")
    async with db.read() as session:
        event = await session.get(Event, event_id)
    assert event is not None
    return event


async def test_xlsx_export_opens_in_openpyxl_with_every_column(db: Database) -> None:
    event = await _roster_event(db)
    async with db.read() as session:
        built = await export_roster(session, event, tz=TZ, fmt="xlsx")
    assert built.filename == "A7-活动7-报名名单.xlsx"
    assert built.content_type == CONTENT_TYPES["xlsx"] and built.rows == 3
    sheet = openpyxl.load_workbook(io.BytesIO(built.data)).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["工号", "姓名", "分工会", "人数", "备注", "尺码", "报名时间", "状态", "签到"]
    assert rows[1][:6] == ["10001", "张三", "计算机学院分工会", 2, "素食", "L"]
    assert rows[1][6] == datetime(2025, 3, 1, 9, 31)
    assert rows[1][7] == "正式报名" and str(rows[1][8]).startswith("已签到 ")
    assert rows[2][1] == "=HYPERLINK(\"http://evil\",\"点我\")"
    assert sheet.cell(row=3, column=2).data_type == "s"  # text, never a formula
    assert rows[2][4] == "@SUM(1)" and rows[2][5] == "+XL" and rows[2][8] == "未签到"
    assert rows[3][:2] == ["10003", "王五"] and rows[3][7:] == ["候补第1位", None]


async def test_csv_export_has_a_bom_and_defuses_formulas(db: Database) -> None:
    event = await _roster_event(db)
    async with db.read() as session:
        built = await export_roster(session, event, tz=TZ, fmt="csv")
    assert built.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(built.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["工号", "姓名", "分工会", "人数", "备注"]
    assert rows[1][:7] == ["10001", "张三", "计算机学院分工会", "2", "素食", "L", "2025-03-01 09:31"]
    assert rows[2][1].startswith("'=HYPERLINK") and rows[2][4] == "'@SUM(1)" and rows[2][5] == "'+XL"
    assert rows[3][7] == "候补第1位"


# ---------------------------------------------------------------- the schema


def _differences(connection: Connection) -> list[Any]:
    def ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "table" or name in EVENT_TABLES

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": ours}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_the_migrations_match_the_event_models(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
