"""``unionbot scheduler plan|run-due`` run as an operator runs them."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select

from models.db import Database
from models.org import Branch, Chat
from models.outbox import OutboxMessage
from tests.conftest import PG_ADMIN_DSN

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "roster.csv"
CONFIG = """
[union]
name = "示范大学工会"

[database]
url = "{url}"

[onebot]
enabled = true
api_url = "http://127.0.0.1:9"

[qq_official]
enabled = true
app_id = "1"
secret = "s"
"""


def unionbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=cwd,
    )


async def add_chats(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as session:
            cs = await session.scalar(select(Branch).where(Branch.name == "计算机学院分工会"))
            assert cs is not None
            session.add(Chat(channel="onebot", chat_id="111", chat_type="group", name="计算机学院教职工群",
                             branch_id=cs.id))
            session.add(Chat(channel="qq_official", chat_id="G", chat_type="group", name="官方群",
                             branch_id=cs.id))
            session.add(Chat(channel="onebot", chat_id="222", chat_type="group", name="全校群"))
    finally:
        await db.dispose()


async def outbox_keys(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.read() as session:
            return list(await session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.key)))
    finally:
        await db.dispose()


def prepare(workdir: Path, url: str) -> Path:
    """A config, the sample roster and three group chats (one the bot cannot push to)."""
    (workdir / "config.toml").write_text(CONFIG.format(url=url), encoding="utf-8")
    if url.startswith("postgresql"):
        upgraded = unionbot(workdir, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
    imported = unionbot(workdir, "members", "import", str(SAMPLE))
    assert imported.returncode == 0, imported.stderr
    asyncio.run(add_chats(url))
    return workdir


@pytest.fixture
def sqlite_union(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path}/data/unionbot.db"
    yield prepare(tmp_path, url), url


@pytest.fixture
def postgres_union(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    name = f"unionbot_cli_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    try:
        yield prepare(tmp_path, url), url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_plan_lists_when_what_and_to_whom(sqlite_union: tuple[Path, str]) -> None:
    workdir, _ = sqlite_union
    result = unionbot(workdir, "scheduler", "plan", "--at", "2027-05-20T08:00", "--days", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "从 2027-05-20 08:00 起 20 天内要发送的内容（时区 Asia/Shanghai），连同此前 6 小时内到期的：",
        "2027-05-29 09:00  六一儿童节慰问通知（节日 6月1日，群发，对象：有不满14周岁子女的会员）",
        "    发到 2 个群：计算机学院教职工群（QQ（OneBot））、全校群（QQ（OneBot））",
        "    无法送达 1 个：官方群（QQ 开放平台机器人）",
        "      原因：QQ 开放平台机器人只能被动回复，不能主动发消息",
        "2027-06-06 08:00  生日名单（6月6日）",
        "    无法送达 2 个：郑磊（10010，示范大学工会名单）、冯雪（10011，示范大学工会名单）",
        "      原因：没有绑定可以主动发消息的账号（企业微信、QQ 或公众号）",
        "2027-06-06 09:00  端午节慰问通知（节日 6月9日，群发，对象：全体会员）",
        "    发到 2 个群：计算机学院教职工群（QQ（OneBot））、全校群（QQ（OneBot））",
        "    无法送达 1 个：官方群（QQ 开放平台机器人）",
        "      原因：QQ 开放平台机器人只能被动回复，不能主动发消息",
        "共 3 项。",
    ]


def test_run_due_twice_queues_once_and_the_plan_shows_it(sqlite_union: tuple[Path, str]) -> None:
    workdir, url = sqlite_union
    first = unionbot(workdir, "scheduler", "run-due", "--at", "2027-06-06 09:00")
    assert first.returncode == 0, first.stderr
    assert ("2027-06-06 09:00  端午节慰问通知（节日 6月9日，群发，对象：全体会员）："
            "新放入发件箱 2 条，之前已放入 0 条，无法送达 1 个") in first.stdout.splitlines()
    again = unionbot(workdir, "scheduler", "run-due", "--at", "2027-06-06T01:30+00:00")
    assert ("2027-06-06 09:00  端午节慰问通知（节日 6月9日，群发，对象：全体会员）："
            "新放入发件箱 0 条，之前已放入 2 条，无法送达 1 个") in again.stdout.splitlines()
    keys = asyncio.run(outbox_keys(url))
    assert len(keys) == 2 and all(re.fullmatch(r"holiday:2027-端午:chat:\d+", key) for key in keys)
    shown = unionbot(workdir, "scheduler", "plan", "--at", "2027-06-06T12:00", "--days", "1")
    assert ("2027-06-06 09:00  端午节慰问通知（节日 6月9日，群发，对象：全体会员）  [已放入发件箱]"
            in shown.stdout.splitlines())


def test_missed_items_are_listed_and_not_caught_up(sqlite_union: tuple[Path, str]) -> None:
    workdir, url = sqlite_union
    late = unionbot(workdir, "scheduler", "run-due", "--at", "2027-06-06T15:00")
    assert late.returncode == 0, late.stderr
    assert late.stdout.strip() == "2027-06-06 15:00（Asia/Shanghai）没有到期要发送的内容。"
    assert late.stderr.strip() == (
        "另有 1 项的发送时间已过去超过 6 小时，不再补发；用 unionbot scheduler plan --missed 查看。"
    )
    assert asyncio.run(outbox_keys(url)) == []
    listed = unionbot(workdir, "scheduler", "plan", "--missed", "--at", "2027-06-06T15:00", "--days", "10")
    assert listed.stdout.splitlines()[0] == (
        "以下 2 项的发送时间已过去超过 6 小时（补发时限），没有发出，也不会再自动补发："
    )
    assert [line[:16] for line in listed.stdout.splitlines() if line.startswith("2027")] == [
        "2027-05-29 09:00", "2027-06-06 09:00",
    ]
    none = unionbot(workdir, "scheduler", "plan", "--missed", "--at", "2027-05-01T00:00")
    assert none.stdout.strip() == "最近 30 天没有错过的发送。"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run-due", "--at", "明天早上"), "看不懂时间“明天早上”。请写成 2027-06-06T09:00 这样"),
        (("plan", "--at", "2027-13-01"), "看不懂时间“2027-13-01”"),
        (("plan", "--days", "0"), "天数应是 1 到 3660 之间的整数，例如 --days 30"),
        (("plan", "--days", "-5"), "天数应是 1 到 3660 之间的整数"),
    ],
)
def test_bad_arguments_exit_2_with_one_sentence(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = unionbot(tmp_path, "scheduler", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_run_due_processes_at_once_queue_each_message_once(
    backend: str, request: pytest.FixtureRequest
) -> None:
    workdir, url = request.getfixturevalue(f"{'sqlite' if backend == 'sqlite' else 'postgres'}_union")
    runs = [start(workdir, "scheduler", "run-due", "--at", "2027-06-06T09:00") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    queued = [int(n) for out, _ in outputs for n in re.findall(r"端午节慰问通知.*新放入发件箱 (\d+) 条", out)]
    assert sorted(queued) == [0, 2]
    assert len(asyncio.run(outbox_keys(url))) == 2



def test_plan_reads_while_another_process_holds_the_write_lock(sqlite_union: tuple[Path, str]) -> None:
    """The plan only reads: it works out a year while the server writes, never waiting for it
    (a plan in a write transaction would wait 30 s for this lock and then fail)."""
    workdir, _ = sqlite_union
    writer = sqlite3.connect(workdir / "data" / "unionbot.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM chat WHERE chat_id = '222'")  # not committed: the plan keeps it
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "scheduler", "plan", "--at", "2027-05-20T08:00",
             "--days", "20"], capture_output=True, text=True, cwd=workdir, timeout=20, check=False,
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert "全校群（QQ（OneBot））" in result.stdout
    assert result.stdout.splitlines()[-1] == "共 3 项。"
