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
