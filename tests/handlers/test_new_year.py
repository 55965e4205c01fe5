"""A tenth of a second before a new year in Beijing: every answer takes its date from the
pipeline's clock, so the last message of the year and the first of the next are told apart
by that clock alone (far from the real date, so a reading of the wall clock would show)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.pipeline import Pipeline
from models.db import Database
from tests.clock import SHANGHAI, FrozenClock
from tests.handlers.test_proposals_support import cast, proposal_settings, say

NEW_YEARS_EVE = datetime(2030, 12, 31, 23, 59, 59, 900_000, tzinfo=SHANGHAI).astimezone(UTC)
FILING = "提案 标题：关于增设校车班次的提案 理由：校区之间通勤不便 建议：高峰期加开班次 类别：后勤保障"


@pytest.fixture
def settings() -> Settings:
    return proposal_settings(min_cosigners=0)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NEW_YEARS_EVE)


async def test_the_last_tenth_of_a_second_belongs_to_the_old_year(
    pipeline: Pipeline, db: Database, clock: FrozenClock
) -> None:
    await cast(db)
    assert (await say(pipeline, "zs", FILING)).startswith("提案已提交，编号 T2030-001《")
    assert (await say(pipeline, "of", "活动统计")).startswith("2030 年活动统计（截至 12月31日）")
    assert "请写成 2031-01-21、1月21日、明天 或 下周六" in await say(
        pipeline, "of", "立案 T2030-001 主办 教务处 期限 下辈子")

    clock.advance(seconds=0.1)
    assert (await say(pipeline, "zs", FILING)).startswith("提案已提交，编号 T2031-001《")
    assert (await say(pipeline, "of", "活动统计")).startswith("2031 年活动统计（截至 1月1日）")
    assert "请写成 2031-01-22、1月22日、明天 或 下周六" in await say(
        pipeline, "of", "立案 T2031-001 主办 教务处 期限 下辈子")


def test_handler_tests_read_no_wall_clock() -> None:
    """What a handler test expects is computed from its ``clock``, never from the time it runs at."""
    reads = re.compile(r"\b(?:datetime\.now|date\.today|utcnow|time\.time)\(")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(Path(__file__).parent.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if reads.search(line)
    ]
    assert found == []
