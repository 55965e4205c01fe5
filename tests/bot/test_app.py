"""The web application built by the real factory."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app, for_serving, metrics_allowed
from bot.appkeys import DB, PIPELINE, SETTINGS
from bot.config import Settings
from tests.factories import make_settings, message


def _settings(tmp_path: Path) -> Settings:
    return make_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path}/app.db"})


async def test_healthz_is_ok_when_the_database_answers(aiohttp_client: Any, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(_settings(tmp_path)))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert (tmp_path / "app.db").exists()


async def test_healthz_is_503_when_the_database_is_gone(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client: TestClient = await aiohttp_client(create_app(_settings(tmp_path)))
    db = client.app[DB]
    broken = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    healthy, db.read_engine = db.read_engine, broken
    try:
        response = await client.get("/healthz")
        assert response.status == 503
    finally:
        db.read_engine = healthy
        await broken.dispose()


async def test_metrics_count_messages_per_channel(aiohttp_client: Any, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(_settings(tmp_path)))
    pipeline = client.app[PIPELINE]
    await pipeline.handle(message("帮助", channel="onebot"))
    await pipeline.handle(message("闲聊", channel="onebot", chat_type="group"))
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    body = await response.text()
    assert 'unionbot_messages_received_total{channel="onebot"} 2.0' in body
    assert 'unionbot_messages_handled_total{channel="onebot"} 1.0' in body
    assert 'unionbot_messages_ignored_total{channel="onebot"} 1.0' in body
    assert 'unionbot_handler_seconds_count{command="帮助"} 1.0' in body


async def test_unknown_paths_are_404(aiohttp_client: Any, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(_settings(tmp_path)))
    assert (await client.get("/nope")).status == 404
    assert (await client.post("/healthz", data=b"x" * 100_000)).status in (405, 413)


async def test_a_serving_app_keeps_start_up_objects_out_of_garbage_collection(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    gc.unfreeze()
    gc.disable()  # as ``unionbot serve`` starts
    try:
        app = for_serving(create_app(_settings(tmp_path)), freeze_after=0.05)
        client: TestClient = await aiohttp_client(app)
        assert (await client.get("/healthz")).status == 200
        for _ in range(100):
            if gc.isenabled():
                break
            await asyncio.sleep(0.02)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.enable()
        gc.unfreeze()


def test_starting_the_server_does_not_load_the_spreadsheet_library() -> None:
    """openpyxl takes ~150 ms to import; it is loaded when a file is built, not at start."""
    code = "import sys, bot.app, bot.cli.main; print('openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _peer(address: str) -> Any:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (address, 40000) if name == "peername" else default)
    return transport


def _metrics_request(app: Any, address: str, **headers: str) -> Any:
    return make_mocked_request("GET", "/metrics", headers=headers, app=app, transport=_peer(address))


async def test_metrics_without_a_token_are_served_only_to_this_machine(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    assert metrics_allowed(_metrics_request(app, "127.0.0.1"))
    assert metrics_allowed(_metrics_request(app, "::1"))
    assert not metrics_allowed(_metrics_request(app, "10.20.30.40"))
    # a reverse proxy on this machine connects from loopback, but forwards outsiders
    assert not metrics_allowed(_metrics_request(app, "127.0.0.1", **{"X-Forwarded-For": "8.8.8.8"}))
    assert not metrics_allowed(_metrics_request(app, "127.0.0.1", Forwarded="for=8.8.8.8"))


async def test_metrics_behind_a_proxy_are_403(aiohttp_client: Any, tmp_path: Path) -> None:
    client: TestClient = await aiohttp_client(create_app(_settings(tmp_path)))
    response = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert (response.status, await response.text()) == (403, "forbidden")


async def test_a_metrics_token_is_required_from_everyone_once_set(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNIONBOT_SERVER__METRICS_TOKEN", "scrape-me")
    app = create_app(_settings(tmp_path))
    assert app[SETTINGS].server.metrics_token == "scrape-me"
    assert metrics_allowed(_metrics_request(app, "10.20.30.40", Authorization="Bearer scrape-me"))
    assert not metrics_allowed(_metrics_request(app, "127.0.0.1"))
    assert not metrics_allowed(_metrics_request(app, "127.0.0.1", Authorization="Bearer scrape-mf"))
    client: TestClient = await aiohttp_client(app)
    assert (await client.get("/metrics")).status == 403
    good = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me",
                                                 "X-Forwarded-For": "203.0.113.9"})
    assert good.status == 200
    assert "unionbot_messages_received_total" in await good.text()
