"""The ``unionbot`` command line, run as a person would run it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.messages import Reply
from bot.outbox.queue import recall
from models.db import Database
from models.outbox import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "roster.csv"


def unionbot(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
        text=True, cwd=cwd, timeout=120, check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with no config.toml: the embedded defaults (SQLite under ./data)."""
    return tmp_path


@pytest.fixture
def imported(workdir: Path) -> Path:
    result = unionbot(workdir, "members", "import", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    return workdir


def test_db_upgrade_creates_the_embedded_database(workdir: Path) -> None:
    result = unionbot(workdir, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("数据库已是最新结构")
    assert (workdir / "data" / "unionbot.db").exists()


def test_import_sample_roster_twice(workdir: Path) -> None:
    first = unionbot(workdir, "members", "import", str(SAMPLE))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("共 12 行：新增 12 人，更新 0 人，未变 0 人")
    assert "导入名册 [" in first.stderr and "12/12" in first.stderr
    second = unionbot(workdir, "members", "import", str(SAMPLE))
    assert second.stdout.startswith("共 12 行：新增 0 人，更新 0 人，未变 12 人")


def test_dry_run_writes_nothing(workdir: Path) -> None:
    result = unionbot(workdir, "members", "import", "--dry-run", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "新增 12 人" in result.stdout
    after = unionbot(workdir, "members", "import", str(SAMPLE))
    assert "新增 12 人" in after.stdout


def test_rejected_rows_are_listed_and_exit_code_is_1(workdir: Path) -> None:
    roster = workdir / "roster.csv"
    roster.write_text(
        "工号,姓名,性别,出生日期,分工会,角色,手机\n"
        "20001,赵六,男,1980-01-01,机关分工会,会员,13800000001\n"
        "20002,钱七,女,1980-13-01,机关分工会,会员,13800000002\n",
        encoding="gbk",
    )
    result = unionbot(workdir, "members", "import", str(roster))
    assert result.returncode == 1
    assert "新增 1 人" in result.stdout
    assert "第 3 行（工号 20002）" in result.stdout and "1980-13-01" in result.stdout


def test_unusable_file_exits_2(workdir: Path) -> None:
    empty = workdir / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = unionbot(workdir, "members", "import", str(empty))
    assert result.returncode == 2
    assert result.stderr.startswith("导入失败：")


def test_chat_piped_as_an_imported_member(imported: Path) -> None:
    result = unionbot(imported, "chat", "--as", "10001", stdin="帮助\n\n我\n")
    assert result.returncode == 0, result.stderr
    assert "可以使用的命令" in result.stdout
    assert "张三（工号 10001）" in result.stdout
    assert not any(line.startswith("> ") for line in result.stdout.splitlines())


def test_chat_as_a_guest_who_binds(imported: Path) -> None:
    result = unionbot(imported, "chat", "--as", "guest", stdin="我\n绑定 10002 李四\n我\n")
    lines = result.stdout
    assert "请先绑定" in lines
    assert "绑定成功！你好，李四（计算机学院分工会）" in lines
    assert "李四（工号 10002）" in lines


def test_chat_in_a_group_ignores_chatter(imported: Path) -> None:
    result = unionbot(
        imported, "chat", "--as", "10001", "--group", "计算机学院教职工群",
        stdin="大家好\n我\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip().splitlines()
    assert out[0] == "@10001 张三（工号 10001）"
    assert not any("13800" in line for line in out)  # no phone numbers in a group


def test_outbox_list_and_retry_on_an_empty_outbox(workdir: Path) -> None:
    listed = unionbot(workdir, "outbox", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "发件箱里没有消息。"
    again = unionbot(workdir, "outbox", "retry", "5")
    assert again.returncode == 1
    assert again.stderr.strip() == "没有编号为 5 的消息。"


async def _recalled_reminder(workdir: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{workdir}/data/unionbot.db")
    async with db.write() as session:
        for key in ("event:A1:start-20270501T0600Z:remind-24h:member:3", "birthday:2027-05-01:member:4"):
            session.add(OutboxMessage(key=key, channel="onebot", target_kind="user", target="9001",
                                      payload=Reply("提醒").to_json()))
    async with db.write() as session:
        await recall(session, "event:A1:start-", "活动 A1 已取消，提醒已作废，不再发送")
    await db.dispose()


def test_a_recalled_message_is_listed_with_its_reason_and_not_retried(workdir: Path) -> None:
    assert unionbot(workdir, "db", "upgrade").returncode == 0
    asyncio.run(_recalled_reminder(workdir))
    listed = unionbot(workdir, "outbox", "list", "--status", "recalled")
    assert listed.returncode == 0, listed.stderr
    first, second = listed.stdout.rstrip().splitlines()
    assert first.split()[:3] == ["1", "已撤销", "onebot:user:9001"]
    assert first.endswith("event:A1:start-20270501T0600Z:remind-24h:member:3")
    assert second.strip() == "活动 A1 已取消，提醒已作废，不再发送"
    again = unionbot(workdir, "outbox", "retry", "1")
    assert again.returncode == 1
    assert again.stdout.strip() == "消息 1 已撤销，不能重发：活动 A1 已取消，提醒已作废，不再发送。"
    assert unionbot(workdir, "outbox", "retry", "2").returncode == 0


def test_broadcast_needs_a_roster_and_a_chat(workdir: Path) -> None:
    empty = unionbot(workdir, "broadcast", "端午节放假通知")
    assert empty.returncode == 2
    assert "unionbot members import" in empty.stderr
    unionbot(workdir, "members", "import", str(SAMPLE))
    unknown = unionbot(workdir, "broadcast", "通知", "--branch", "火星分工会")
    assert unknown.returncode == 2 and "没有找到分工会「火星分工会」" in unknown.stderr
    no_chats = unionbot(workdir, "broadcast", "端午节放假通知")
    assert no_chats.returncode == 1
    assert "本群归属" in no_chats.stderr


def test_holidays_prints_the_calendar_of_a_year(workdir: Path) -> None:
    result = unionbot(workdir, "holidays", "2026")
    assert result.returncode == 0, result.stderr
    assert "2026-06-19 星期五 端午节（农历五月初五）：6月19日至6月21日放假，共3天" in result.stdout
    bad = unionbot(workdir, "holidays", "3000")
    assert bad.returncode == 2 and "unionbot holidays 2026" in bad.stderr


def test_holidays_lists_a_year_and_refuses_a_bad_one(workdir: Path) -> None:
    listed = unionbot(workdir, "holidays", "2026")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "2026年节假日（放假安排以国务院办公厅通知为准）"
    assert "2026-10-18 星期日 重阳节（农历九月初九）：不放假" in lines
    refused = unionbot(workdir, "holidays", "26")
    assert refused.returncode == 2
    assert refused.stderr.startswith("“26”不是年份。请写四位数的年份，例如：unionbot holidays ")
