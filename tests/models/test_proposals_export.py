"""The XLSX export for the 提案工作报告, opened back with openpyxl."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.config import Settings
from bot.pipeline import Pipeline
from models.db import Database
from models.proposals.export import COLUMNS, export_proposals
from tests.clock import FrozenClock
from tests.handlers.test_proposals_refusals import build_scene
from tests.handlers.test_proposals_support import (
    YEAR,
    cast,
    make_pipeline,
    no,
    proposal_clock,
    proposal_settings,
    say,
)

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings() -> Settings:
    return proposal_settings()


@pytest.fixture
def clock() -> FrozenClock:
    return proposal_clock()


def _sheet_rows(path: Path, title: str) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(path)
    return [tuple(row) for row in workbook[title].iter_rows(values_only=True)]


async def test_one_row_per_proposal_and_a_summary(
    pipeline: Pipeline, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    await cast(db)
    await build_scene(pipeline)  # P1 replied, P2 co-signing, P3 review, P4 closed
    await say(pipeline, "ls", "提案 标题：=1+1 理由：\x07响铃字符 建议：@SUM(A1)")
    await say(pipeline, "ls", f"撤回 {no(5)}")
    today = clock.today(TZ)
    done = await export_proposals(db, tmp_path / "out" / "提案.xlsx", year=YEAR, tz=TZ, today=today)
    assert done.count == 5
    workbook = openpyxl.load_workbook(done.path)
    assert workbook.sheetnames == ["提案", "统计"]
    rows = _sheet_rows(done.path, "提案")
    assert rows[0] == tuple(heading for heading, _ in COLUMNS)
    assert [r[0] for r in rows[1:]] == [no(i) for i in range(1, 6)]
    by_heading = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    first = by_heading[0]
    assert (first["标题"], first["提案人"], first["所在分工会"], first["附议人"], first["附议人数"]) == (
        "关于延长食堂晚餐供应时间的提案", "张三", "计算机学院分工会", "李四、王五", 2
    )
    assert (first["状态"], first["主办部门"], first["协办部门"], first["答复类型"], first["答复内容"]) == (
        "已答复", "后勤管理处", "人事处", "采纳", "自12月起延长"
    )
    assert isinstance(first["提交时间"], datetime) and isinstance(first["答复期限"], datetime)
    assert (by_heading[3]["评价"], by_heading[3]["状态"]) == ("满意", "已办结")
    hostile = by_heading[4]
    assert (hostile["标题"], hostile["理由"], hostile["建议"], hostile["状态"]) == (
        "=1+1", "响铃字符", "@SUM(A1)", "已撤回"
    )
    raw = openpyxl.load_workbook(done.path)["提案"]["B6"]
    assert raw.data_type == "s"  # text, not a formula

    summary = dict(r[:2] for r in _sheet_rows(done.path, "统计")[:17])
    assert summary["统计范围"] == f"{YEAR}年度"
    counts = [summary[k] for k in ("收到提案", "其中撤回", "尚在附议或审查", "立案")]
    assert counts == [5, 1, 2, 2]
    assert summary["立案率（立案 ÷（收到 − 撤回））"] == pytest.approx(0.5)
    assert (summary["已答复"], summary["答复率（已答复 ÷ 立案）"]) == (2, 1.0)
    satisfaction = summary["满意率（（满意 + 基本满意）÷ 已评价）"]
    assert (summary["已评价"], summary["满意"], satisfaction) == (1, 1, 1.0)
    departments = _sheet_rows(done.path, "统计")[18:]
    assert departments[0] == ("主办部门", "立案", "已答复", "答复率", "逾期", "已评价", "满意率")
    assert departments[1:] == [("后勤管理处", 1, 1, 1.0, 0, 0, "—"), ("教务处", 1, 1, 1.0, 0, 1, 1.0)]


async def test_an_empty_year_still_has_both_sheets(db: Database, tmp_path: Path) -> None:
    done = await export_proposals(db, tmp_path / "empty.xlsx", year=2001, tz=TZ, today=date(2001, 6, 1))
    assert done.count == 0
    assert _sheet_rows(done.path, "提案")[1:] == []
    assert dict(r[:2] for r in _sheet_rows(done.path, "统计")[:5])["收到提案"] == 0


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_cli_refuses_a_wrong_file_name_and_year(tmp_path: Path) -> None:
    before = datetime.now(TZ).year  # the command reads the real clock: a new year may begin meanwhile
    wrong = _cli(tmp_path, "proposals", "export", "提案.csv")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() in {
        f"导出失败：文件名要以 .xlsx 结尾，例如 提案{year}.xlsx" for year in (before, datetime.now(TZ).year)
    }
    year = _cli(tmp_path, "proposals", "export", "--year", "20266", "x.xlsx")
    assert year.returncode == 2 and "年度 20266 不对" in year.stderr
    assert not (tmp_path / "x.xlsx").exists()


async def test_cli_exports_the_configured_database(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[union]\nname = "示范大学工会"\n[database]\nurl = "sqlite+aiosqlite:///data/p.db"\n'
        '[proposals]\nopen_all_year = true\nmin_cosigners = 0\n', encoding="utf-8",
    )
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/data/p.db")
    try:
        from models.migrate import upgrade

        await upgrade(db)
        await cast(db)
        pipeline = make_pipeline(db, proposal_settings(min_cosigners=0))
        await say(pipeline, "zs", "提案 标题：关于增设校车班次的提案 理由：通勤不便 建议：增开两班")
    finally:
        await db.dispose()
    result = _cli(tmp_path, "proposals", "export", "--year", str(YEAR), "报告/提案.xlsx")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"已导出 {YEAR} 年度提案 1 件及统计 → 报告/提案.xlsx"
    rows = _sheet_rows(tmp_path / "报告" / "提案.xlsx", "提案")
    assert rows[1][:2] == (no(1), "关于增设校车班次的提案")
