"""A scheduled 公告 as an operator sees it: in ``scheduler plan``, sent once by two processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.scheduler.test_jobs_cli import outbox_keys, postgres_union, sqlite_union, start, unionbot

__all__ = ["postgres_union", "sqlite_union"]  # fixtures


def _schedule(workdir: Path) -> str:
    """张三 (10001, an officer of 计算机学院分工会) schedules a 公告 for two days ahead."""
    day = (date.today() + timedelta(days=2)).isoformat()
    chat = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--as", "10001"],
        input=f"公告 周五全院教职工大会 发布 {day} 09:00\n",
        capture_output=True, text=True, cwd=workdir, timeout=120, check=False,
    )
    assert chat.returncode == 0, chat.stderr
    assert "公告 G1 已保存，将于" in chat.stdout
    return day


def _two_processes_publish(workdir: Path, url: str) -> None:
    day = _schedule(workdir)
    plan = unionbot(workdir, "scheduler", "plan", "--days", "3")
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert f"{day} 09:00  发布公告 G1" in lines
    assert "    发到 1 个群：计算机学院教职工群（QQ（OneBot））" in lines
    runners = [start(workdir, "scheduler", "run-due", "--at", f"{day}T09:00") for _ in range(2)]
    outputs = [runner.communicate(timeout=120) for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], [err for _, err in outputs]
    keys = asyncio.run(outbox_keys(url))
    assert len(keys) == 1 and keys[0].startswith("broadcast:") and keys[0].endswith(":chat:1")
    assert sum("新放入发件箱 1 条" in out for out, _ in outputs) == 1
    again = unionbot(workdir, "scheduler", "run-due", "--at", f"{day}T09:01")
    assert again.returncode == 0 and asyncio.run(outbox_keys(url)) == keys


def test_two_processes_publish_a_scheduled_notice_once_sqlite(sqlite_union: tuple[Path, str]) -> None:
    _two_processes_publish(*sqlite_union)


@pytest.mark.postgres
def test_two_processes_publish_a_scheduled_notice_once_postgres(postgres_union: tuple[Path, str]) -> None:
    _two_processes_publish(*postgres_union)
