"""``unionbot funds verify``: exit 0 on an intact ledger, 1 naming the first bad entry."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli.funds import _verify
from models.db import Database
from models.funds.checkpoints import load_or_create_key, sign
from models.funds.ledger import lock_ledger
from models.migrate import upgrade
from tests.factories import make_settings
from tests.models.funds.support import CS, NOW, book, branch_id


async def _five_and_a_checkpoint(db: Database, key: Path) -> None:
    cs = await branch_id(db, CS)
    for amount in (100, 200, 300, 400, 500):
        await book(db, cs, amount)
    async with db.write() as session:
        ledger = await lock_ledger(session, cs)
        await sign(session, ledger, key=load_or_create_key(key), key_path=key, statement_id=None, now=NOW)


async def test_verify_names_the_edited_entry(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "funds.key"
    await _five_and_a_checkpoint(db, key)
    settings = make_settings(funds={"key_file": str(key)})
    args = argparse.Namespace()
    assert await _verify(settings, db, args) == 0
    assert "计算机学院分工会：5 笔流水、1 个公示检查点，全部相符。" in capsys.readouterr().out
    async with db.write_engine.begin() as conn:
        await conn.execute(text("UPDATE fund_entry SET amount_fen = 99999 WHERE number = 'J2026-0004'"))
    assert await _verify(settings, db, args) == 1
    out = capsys.readouterr().out
    assert "流水 J2026-0004 的内容与它的哈希不符" in out
    assert "1 本有问题" in out


async def test_the_command_line_exits_1(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/data/unionbot.db")
    try:
        await upgrade(db)
        await _five_and_a_checkpoint(db, tmp_path / "data" / "funds_signing.key")
    finally:
        await db.dispose()

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "funds", "verify"], capture_output=True,
                              text=True, cwd=tmp_path, timeout=120, check=False)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "全部相符" in first.stdout and "公钥指纹" in first.stdout


ROSTER = Path(__file__).resolve().parents[2] / "examples" / "roster.csv"


def unionbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)


def test_import_export_and_verify_from_the_command_line(tmp_path: Path) -> None:
    assert unionbot(tmp_path, "members", "import", str(ROSTER)).returncode == 0
    books = tmp_path / "2025流水.csv"
    books.write_bytes((
        "日期,收支,金额,类别,摘要\n2025-01-15,收入,5000,会费,会费收入\n"
        "2025-06-01,支出,300.50,文体,羽毛球赛奖品\n2025-06-02,支出,三百,文体,奖品\n"
    ).encode("gbk"))
    dry = unionbot(tmp_path, "funds", "import", str(books), "--branch", "计算机学院分工会", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert dry.stdout.splitlines() == [
        "试运行：以下是将会发生的变化，数据库没有改动。", "共 3 行：将导入 2 笔，已在账上 0 笔，拒绝 1 行",
        "· 计算机学院分工会：2 笔", "第 4 行：金额「三百」要用阿拉伯数字"]
    done = unionbot(tmp_path, "funds", "import", str(books), "--branch", "计算机学院分工会")
    assert done.returncode == 1 and "共 3 行：导入 2 笔" in done.stdout
    assert "导入流水 [" in done.stderr
    out = tmp_path / "收支表.xlsx"
    exported = unionbot(tmp_path, "funds", "export", "2025", "--branch", "计算机学院分工会",
                        "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"已导出计算机学院分工会2025年经费收支表 → {out}"
    import openpyxl

    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    assert sheet.cell(2, 1).value == "期间：2025年（2025-01-01 至 2025-12-31）　　单位：元"
    assert [c.value for c in sheet[5]] == [None, None, "　　文体活动", 300.5]
    assert [c.value for c in sheet[6]] == ["收入合计", 5000, "支出合计", 300.5]
    assert [c.value for c in sheet[7]] == ["期初余额", 0, "期末余额", 4699.5]
    bad = unionbot(tmp_path, "funds", "export", "2025Q5", "--out", str(out))
    assert bad.returncode == 2 and "「2025Q5」不是期间" in bad.stderr
    missing = unionbot(tmp_path, "funds", "export", "2025", "--branch", "后勤分工会", "--out", str(out))
    assert missing.returncode == 2 and "「后勤分工会」还没有账" in missing.stderr
    verified = unionbot(tmp_path, "funds", "verify")
    assert verified.returncode == 0
    assert "计算机学院分工会：2 笔流水、0 个公示检查点，全部相符。" in verified.stdout


def test_two_processes_draft_the_statement_once(tmp_path: Path) -> None:
    assert unionbot(tmp_path, "members", "import", str(ROSTER)).returncode == 0
    books = tmp_path / "流水.csv"
    books.write_text("日期,收支,金额,类别,摘要\n2026-08-01,支出,300,文体,球赛\n", encoding="utf-8")
    assert unionbot(tmp_path, "funds", "import", str(books), "--branch", "计算机学院分工会").returncode == 0
    command = [sys.executable, "-m", "bot.cli", "scheduler", "run-due", "--at", "2026-10-08T09:00"]
    runs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("2026年第三季度经费公示草稿" in out for out, _err in outputs) == 2
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(tmp_path / "data" / "unionbot.db")) as conn:
        assert conn.execute("SELECT number, status FROM fund_statement").fetchall() == [("F2026Q3", "draft")]


async def test_a_rewritten_checkpoint_is_named_with_its_local_time(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "funds.key"
    await _five_and_a_checkpoint(db, key)
    async with db.write_engine.begin() as conn:
        await conn.execute(text("UPDATE fund_checkpoint SET entry_count = 4"))
    assert await _verify(make_settings(funds={"key_file": str(key)}), db, argparse.Namespace()) == 1
    assert "计算机学院分工会：2026-12-05 12:00 的检查点签名无效：检查点被改动过。" in capsys.readouterr().out


def test_an_unusable_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    books = tmp_path / "流水.txt"
    books.write_text("日期,收支,金额\n", encoding="utf-8")
    refused = unionbot(tmp_path, "funds", "import", str(books))
    assert refused.returncode == 2
    assert refused.stderr.strip() == "导入失败：不支持的文件类型「.txt」：请使用 .csv 或 .xlsx"
