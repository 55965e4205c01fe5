"""Proposal numbers, the schema migration and the statistics' arithmetic."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select
from sqlmodel import SQLModel

from bot.config import Settings
from bot.pipeline import Pipeline
from handlers.proposals.common import chinese_punctuation
from handlers.proposals.views import percent
from models.db import Database
from models.migrate import alembic_config, upgrade
from models.org import Role
from models.proposals import queries
from models.proposals.export import export_proposals
from models.proposals.numbers import next_number
from models.proposals.stats import Figures, Ratio
from models.proposals.tables import (
    Proposal,
    ProposalCounter,
    Status,
    format_number,
    looks_like_number,
    parse_number,
)
from tests.clock import FrozenClock
from tests.factories import make_member
from tests.handlers.test_proposals_support import no, proposal_clock, proposal_settings, say

PROPOSAL_TABLES = {
    "proposal", "proposal_assignment", "proposal_cosign", "proposal_counter", "proposal_event",
    "proposal_rating", "proposal_reply", "proposal_round",
}


@pytest.fixture
def settings() -> Settings:
    return proposal_settings()


@pytest.fixture
def clock() -> FrozenClock:
    return proposal_clock()


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("T2026-007", (2026, 7)), ("t2026-7", (2026, 7)), ("2026-007", (2026, 7)),
        ("T2026-1000", (2026, 1000)), (" T2026-12 ", (2026, 12)),
        ("T2026-0", None), ("T26-7", None), ("T2026_7", None), ("T2026-", None), ("", None),
        ("T2026-1234567", None), ("T2026-7a", None), ("A12", None),
    ],
)
def test_parse_number(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_number(text) == parsed


def test_format_number_pads_to_three_digits_and_grows() -> None:
    assert [format_number(2026, n) for n in (7, 42, 999, 1000)] == [
        "T2026-007", "T2026-042", "T2026-999", "T2026-1000"
    ]


@pytest.mark.parametrize(
    ("word", "meant"),
    [("T26-7", True), ("T-7", True), ("t2026", True), ("2026-", True), ("关于食堂", False), ("T", False),
     ("Tea", False), ("12", False)],
)
def test_looks_like_number(word: str, meant: bool) -> None:
    assert looks_like_number(word) is meant


async def test_a_rolled_back_number_is_given_again(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            assert await next_number(session, 2031) == (1, "T2031-001")
            raise RuntimeError("refused")
    async with db.write() as session:
        assert await next_number(session, 2031) == (1, "T2031-001")
        assert await next_number(session, 2031) == (2, "T2031-002")
        assert await next_number(session, 2032) == (1, "T2032-001")


async def test_concurrent_transactions_get_gapless_numbers(db: Database) -> None:
    async def take(i: int) -> int:
        try:
            async with db.write() as session:
                seq, _number = await next_number(session, 2030)
                await asyncio.sleep(0)  # let the others run into the lock
                if i % 5 == 0:
                    raise ValueError("a refused filing")
                return seq
        except ValueError:
            return 0

    taken = [seq for seq in await asyncio.gather(*(take(i) for i in range(30))) if seq]
    assert sorted(taken) == list(range(1, 25))
    async with db.read() as session:
        assert await session.scalar(select(ProposalCounter.seq).where(ProposalCounter.year == 2030)) == 24


async def test_25_concurrent_filings_through_the_pipeline(pipeline: Pipeline, db: Database) -> None:
    for i in range(25):
        await make_member(
            db, f"60{i:02d}", f"代表{i}", roles=[Role.REPRESENTATIVE], accounts=[("onebot", f"r{i}")]
        )
    await make_member(db, "7000", "会员", accounts=[("onebot", "m")])

    def filing(i: int) -> str:
        return f"提案 标题：第{i}件提案 理由：理由{i} 建议：建议{i}"

    too_long = "提案 标题：" + "长" * 60 + " 理由：理由 建议：建议"
    answers = await asyncio.gather(
        *(say(pipeline, f"r{i}", filing(i)) for i in range(25)),
        *(say(pipeline, f"r{i}", too_long) for i in range(5)),
        *(say(pipeline, "m", filing(99), message_id=f"member-{i}") for i in range(3)),
    )
    filed = [a for a in answers if a.startswith("提案已提交")]
    assert len(filed) == 25
    async with db.read() as session:
        numbers = list(await session.scalars(select(Proposal.number).order_by(Proposal.seq)))
        seqs = list(await session.scalars(select(Proposal.seq).order_by(Proposal.seq)))
    assert numbers == [no(i) for i in range(1, 26)]
    assert seqs == list(range(1, 26))
    assert sorted(a.split("编号 ")[1].split("《")[0] for a in filed) == numbers


# ---------------------------------------------------------------- schema


NUMBERS = ["T2026-1000", "T2026-999", "T2026-10000", "T2025-9999", "T2026-9999"]  # as stored, by id


async def test_lists_and_exports_follow_the_numbers_as_integers(db: Database, tmp_path: Path) -> None:
    member = await make_member(db, "10001", "张三", roles=[Role.REPRESENTATIVE])
    assert member.id is not None
    async with db.write() as session:
        for number in NUMBERS:  # entered out of order, e.g. an earlier round typed in later
            year, seq = parse_number(number) or (0, 0)
            session.add(Proposal(
                number=number, year=year, seq=seq, title=f"提案{number}", reason="r", suggestion="s",
                proposer_id=member.id, status=Status.REVIEW.value, filed_at=datetime(2026, 3, 1, tzinfo=UTC),
            ))
    newest_first = ["T2026-10000", "T2026-9999", "T2026-1000", "T2026-999", "T2025-9999"]
    async with db.read() as session:
        listed = await queries.page(session, statuses=frozenset({Status.REVIEW}), number=1, size=10)
        assert [row.number for row in listed.rows] == newest_first
        assert [row.number for row in (await queries.filed_by(session, member.id, 10))[0]] == newest_first
    path = tmp_path / "提案.xlsx"
    await export_proposals(db, path, year=2026, tz=ZoneInfo("Asia/Shanghai"), today=date(2026, 12, 1))
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "T2026-999", "T2026-1000", "T2026-9999", "T2026-10000",
    ]


def _tables_named(diff: object) -> set[str]:
    """The table names a ``compare_metadata`` entry mentions."""
    names: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            if isinstance(part, str):
                names.add(part)
            name = getattr(getattr(part, "table", part), "name", None)
            if isinstance(name, str):
                names.add(name)
    return names


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, SQLModel.metadata) if _tables_named(d) & PROPOSAL_TABLES]


async def test_migration_matches_the_models(db: Database) -> None:
    async with db.write_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables >= PROPOSAL_TABLES


async def test_migration_0003_goes_down_and_up(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        await upgrade(db, "0003")

        def down(connection: Connection) -> None:
            command.downgrade(alembic_config(connection), "0002")

        async with db.write_engine.begin() as conn:
            await conn.run_sync(down)
        async with db.write_engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert not tables & PROPOSAL_TABLES
        await upgrade(db, "0003")
        async with db.write_engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables >= PROPOSAL_TABLES
    finally:
        await db.dispose()


# ---------------------------------------------------------------- statistics arithmetic


def test_rates_and_their_display() -> None:
    assert (Ratio(26, 45).percent, percent(Ratio(26, 45))) == (57.8, "57.8%")
    assert percent(Ratio(3, 3)) == "100%"
    assert (Ratio(0, 0).percent, percent(Ratio(0, 0))) == (None, "—")


def test_figures_add_up() -> None:
    figures = Figures(received=6)
    for status, count in ((Status.COSIGNING, 1), (Status.ACCEPTED, 2), (Status.CLOSED, 1),
                          (Status.WITHDRAWN, 1), (Status.REJECTED, 1)):
        figures.by_status[status] = count
    figures.replied = 2
    assert (figures.accepted, figures.pending, figures.withdrawn) == (3, 1, 1)
    assert figures.acceptance_rate == Ratio(3, 5)
    assert figures.adds_up()
    figures.replied = 4
    assert not figures.adds_up()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("受今年预算限制,列入明年计划", "受今年预算限制，列入明年计划"),
        ("时间:19:30", "时间：19:30"),
        ("共3,000元", "共3,000元"),
        ("关于(2026)年度的提案", "关于（2026）年度的提案"),
        ("f(x) = (a,b)", "f(x) = (a,b)"),
        ("太晚了!", "太晚了！"),
    ],
)
def test_chinese_punctuation_comes_back(typed: str, kept: str) -> None:
    assert chinese_punctuation(typed) == kept

