"""``unionbot broadcast`` end to end: queue, deliver to a fake OneBot API, report failures."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from models.db import Database
from models.org import Branch, Chat
from tests.bot.test_cli import SAMPLE

ROOT = Path(__file__).resolve().parents[2]


async def unionbot(cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_broadcast_delivers_and_lists_what_failed(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    async def send_group_msg(request: web.Request) -> web.Response:
        payload = await request.json()
        received.append(payload)
        if payload["group_id"] == 333:
            return web.json_response({"status": "failed", "retcode": 1404, "data": None})
        return web.json_response({"status": "ok", "retcode": 0, "data": {"message_id": 7}})

    fake = web.Application()
    fake.router.add_post("/send_group_msg", send_group_msg)
    async with TestServer(fake) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            '[union]\nname = "示范大学工会"\n'
            f'[onebot]\nenabled = true\napi_url = "http://127.0.0.1:{server.port}"\n'
            'access_token = "tok"\n'
            '[qq_official]\nenabled = true\napp_id = "1"\nsecret = "s"\n', encoding="utf-8")
        code, _, err = await unionbot(tmp_path, "members", "import", str(SAMPLE), "--config", str(config))
        assert code == 0, err
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/data/unionbot.db")
        async with db.write() as session:
            branch = (await session.execute(
                Branch.__table__.select().where(Branch.__table__.c.name == "计算机学院分工会")  # type: ignore[attr-defined]
            )).first()
            assert branch is not None
            for channel, chat_id, name in [("onebot", "111", "计算机学院教职工群"),
                                           ("onebot", "333", "已解散的群"),
                                           ("qq_official", "OPENID", "QQ官方群")]:
                session.add(Chat(channel=channel, chat_id=chat_id, chat_type="group", name=name,
                                 branch_id=branch.id))
        await db.dispose()

        code, out, err = await unionbot(tmp_path, "broadcast", "周五下午开会", "--config", str(config))
        assert code == 1, err
        assert "已排队 2 个群。" in out
        assert "发送 [" in err and "2/2" in err
        assert "以下 2 个群没有送达：" in out
        assert "· QQ官方群（qq_official）：QQ 开放平台机器人只能被动回复，不能主动发消息" in out
        assert "· 333（onebot，消息 2）：协议端没有 send_group_msg 接口（retcode 1404）" in out
        assert sorted(p["group_id"] for p in received) == [111, 333]
        assert {p["message"] for p in received} == {"周五下午开会"}

        code, out, _ = await unionbot(tmp_path, "broadcast", "周五下午开会", "--config", str(config))
        assert code == 1 and "今天已发过同样内容，不再重复" in out
        assert len(received) == 2
