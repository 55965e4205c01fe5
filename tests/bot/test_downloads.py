"""Download links served by the real app (``GET /files/{token}``) and the CLI export."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bot.app import create_app
from bot.appkeys import DB, PIPELINE
from bot.downloads import content_disposition
from models.base import utcnow
from models.db import Database
from models.events.links import DownloadLink
from models.migrate import upgrade
from models.org import Role
from tests.factories import make_member, make_settings, message

CREATE = "发起活动 教职工羽毛球赛 时间 下周六 下午2点到4点 地点 体育馆 名额 30 可带 1 填写 尺码"
NAME = "A1-教职工羽毛球赛-报名名单"


async def seed(db: Database, pipeline: Any) -> None:
    """An event with two sign-ups, created through the pipeline."""
    await make_member(db, "10001", "王干部", roles=[Role.OFFICER], accounts=[("console", "officer")])
    await make_member(db, "10002", "张三", accounts=[("console", "zhang")])
    await make_member(db, "10003", "李四", accounts=[("console", "li")])
    for sender, words in (("officer", CREATE), ("zhang", "报名 A1 +1 尺码 L 素食"), ("li", "报名 A1 尺码 M")):
        reply = await pipeline.handle(message(words, sender=sender))
        assert reply is not None and "A1" in reply.text, reply


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    settings = make_settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/app.db"},
        server={"public_url": "https://union.example.edu.cn"},
    )
    test_client: TestClient = await aiohttp_client(create_app(settings))
    await seed(test_client.app[DB], test_client.app[PIPELINE])
    return test_client


async def link(client: TestClient, words: str = "导出 A1") -> str:
    reply = await client.app[PIPELINE].handle(message(words, sender="officer"))
    assert reply is not None and reply.file_url is not None, reply
    return reply.file_url.removeprefix("https://union.example.edu.cn")


async def test_xlsx_download_has_the_roster(client: TestClient) -> None:
    response = await client.get(await link(client))
    assert response.status == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="A1-')
    assert disposition.endswith(f"filename*=UTF-8''{quote(NAME + '.xlsx', safe='')}")
    assert response.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(await response.read())).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["工号", "姓名", "分工会", "人数", "备注", "尺码", "报名时间", "状态", "签到"]
    assert [row[:6] for row in rows[1:]] == [
        ["10002", "张三", "计算机学院分工会", 2, "素食", "L"],
        ["10003", "李四", "计算机学院分工会", 1, None, "M"],
    ]
    assert [row[7:] for row in rows[1:]] == [["正式报名", "未签到"], ["正式报名", "未签到"]]


async def test_csv_download_and_a_link_shows_sign_ups_made_after_it(client: TestClient) -> None:
    path = await link(client, "导出 A1 csv")
    await make_member(client.app[DB], "10004", "赵六", accounts=[("console", "zhao")])
    await client.app[PIPELINE].handle(message("报名 A1 尺码 S", sender="zhao"))
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith(quote(NAME + ".csv", safe=""))
    lines = (await response.read()).decode("utf-8-sig").splitlines()
    assert [line.split(",")[1] for line in lines] == ["姓名", "张三", "李四", "赵六"]


@pytest.mark.parametrize(
    "path",
    [
        "/files/" + "A" * 32,  # the right shape, but no such link
        "/files/short",
        "/files/" + "A" * 31 + "%2F",
        "/files/..%2F..%2Fetc%2Fpasswd",
        "/files/",
    ],
)
async def test_unknown_or_malformed_tokens_are_404(client: TestClient, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404


async def test_an_expired_link_is_404(client: TestClient) -> None:
    path = await link(client)
    async with client.app[DB].write() as session:
        await session.execute(update(DownloadLink).values(expires_at=utcnow()))
    assert (await client.get(path)).status == 404


def test_content_disposition_keeps_quotes_out_of_the_fallback() -> None:
    header = content_disposition('A2-"迎新"晚会;x.xlsx')
    assert header.startswith('attachment; filename="A2-_______x.xlsx"; filename*=UTF-8\'\'A2-%22%E8')
    assert header.count('"') == 2


# ---------------------------------------------------------------- unionbot events export


def unionbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )


async def test_cli_export_writes_xlsx_and_csv(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/data/unionbot.db")
    await upgrade(db)
    from bot.metrics import Metrics
    from bot.pipeline import Pipeline
    from handlers import build_registry
    pipeline = Pipeline(db=db, settings=make_settings(), registry=build_registry(), metrics=Metrics())
    await seed(db, pipeline)
    await db.dispose()

    done = unionbot(tmp_path, "events", "export", "A1", "名单.xlsx")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "已导出 A1 教职工羽毛球赛的报名名单：2 条报名 → 名单.xlsx"
    sheet = openpyxl.load_workbook(tmp_path / "名单.xlsx").active
    assert sheet is not None and sheet["B3"].value == "李四"

    assert unionbot(tmp_path, "events", "export", "a1", "out.csv").returncode == 0
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf\xe5\xb7\xa5\xe5\x8f\xb7")  # BOM 工号

    for args, error in (
        (("A9", "x.xlsx"), "导出失败：没有编号为 A9 的活动"),
        (("A1", "x.pdf"), "导出失败：文件名要以 .xlsx 或 .csv 结尾"),
        (("第一场", "x.csv"), "导出失败：「第一场」不是活动编号"),
        (("A1", "no/such/dir/x.csv"), "导出失败：无法写入 no/such/dir/x.csv"),
    ):
        failed = unionbot(tmp_path, "events", "export", *args)
        assert failed.returncode == 2 and failed.stderr.startswith(error), failed.stderr
