"""The web application built by the real factory."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app, for_serving
from bot.appkeys import DB, PIPELINE
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
    try:
        client: TestClient = await aiohttp_client(for_serving(create_app(_settings(tmp_path))))
        assert (await client.get("/healthz")).status == 200
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_starting_the_server_does_not_load_the_spreadsheet_library() -> None:
    """openpyxl takes ~150 ms to import; it is loaded when a file is built, not at start."""
    code = "import sys, bot.app, bot.cli.main; print('openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
