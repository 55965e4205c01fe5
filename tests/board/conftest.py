"""The board served over HTTP on the parametrised database, with the sample union."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.config import Settings
from handlers import board
from handlers.board import links
from models.db import Database
from tests.board.sample import Sample, fill
from tests.clock import FrozenClock
from tests.factories import make_settings

BOARD = web.AppKey("test_board", web.Application)  # the board's sub-application


def board_settings(tmp_path: Path, access: str = "members", **server: object) -> Settings:
    return make_settings(
        board={"access": access, "key_file": str(tmp_path / "board.key")},
        server={"public_url": "https://union.example.edu.cn", **server},
    )


def board_app(db: Database, settings: Settings, clock: FrozenClock) -> web.Application:
    """The board alone on ``db``, as ``create_app`` installs it."""
    app = web.Application()
    app[SETTINGS] = settings
    app[DB] = db
    app[CLOCK] = clock.seconds
    app[BOARD] = board.install(app)
    return app


@pytest.fixture
async def sample(db: Database, clock: FrozenClock) -> Sample:
    return await fill(db, now=clock.now)


@pytest.fixture
async def make_client(
    aiohttp_client: Any, db: Database, clock: FrozenClock, tmp_path: Path, sample: Sample,
) -> Callable[..., Any]:
    async def make(access: str = "members", *, https: bool = True) -> TestClient:
        url = "https://union.example.edu.cn" if https else "http://127.0.0.1:8080"
        settings = board_settings(tmp_path, access, public_url=url)
        client: TestClient = await aiohttp_client(board_app(db, settings, clock))
        return client
    return make


@pytest.fixture
async def public(make_client: Callable[..., Any]) -> TestClient:
    """The board with ``access = "public"``."""
    client: TestClient = await make_client("public")
    return client


def token_for(client: TestClient, member_id: int, clock: FrozenClock, days: int = 30) -> str:
    settings = client.app[SETTINGS]
    return links.sign(settings.board.key_file, member_id, int(clock.seconds()) + days * 86400)


@pytest.fixture
async def member(make_client: Callable[..., Any], sample: Sample, clock: FrozenClock) -> TestClient:
    """The members-only board, entered through 张代表's personal link."""
    client: TestClient = await make_client()
    response = await client.get(f"/board/enter?t={token_for(client, sample.members['张代表'], clock)}",
                                allow_redirects=False)
    assert response.status == 303
    client.session.cookie_jar.update_cookies({links.COOKIE: response.cookies[links.COOKIE].value})
    return client
