"""The board as ``unionbot serve`` runs it: mounted by the app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import create_app
from tests.board.conftest import board_settings
from tests.factories import make_settings


async def test_the_app_factory_serves_the_board(aiohttp_client: Any, tmp_path: Path) -> None:
    settings = make_settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/app.db"},
        board=board_settings(tmp_path).board.model_dump(),
    )
    client = await aiohttp_client(create_app(settings))
    moved = await client.get("/board", allow_redirects=False)
    assert moved.status == 301 and moved.headers["Location"] == "/board/"
    response = await client.get("/board/")
    assert response.status == 403
    assert "请用您的专属链接打开公开栏" in await response.text()
    assert (await client.get("/board/static/nothing.css")).status == 404
    assert (await client.get("/healthz")).status == 200


async def test_in_public_mode_the_front_page_of_an_empty_union_opens(
    aiohttp_client: Any, tmp_path: Path,
) -> None:
    settings = make_settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/app.db"},
        board={"access": "public", "key_file": str(tmp_path / "board.key")},
    )
    client = await aiohttp_client(create_app(settings))
    text = await (await client.get("/board/")).text()
    for empty in ("现在没有正在公示的内容", "还没有点子", "近期没有活动", "还没有立案的提案"):
        assert empty in text
    for path in ("/board/notices", "/board/ideas", "/board/proposals", "/board/events"):
        assert (await client.get(path)).status == 200, path
    assert not (tmp_path / "board.key").exists()  # public mode signs nothing
