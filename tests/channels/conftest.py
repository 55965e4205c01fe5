"""Fixtures of the WeChat and WeCom channel tests: apps on the test database, the fake platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from models.db import Database
from tests.channels.wechat_fakes import Connect, FakeWechat, base_url, start, use_database


@pytest.fixture
def app_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    use_database(monkeypatch, db)
    return db


@pytest.fixture
def connect(app_db: Database, aiohttp_client: Any) -> Connect:
    """Start apps on the test database; they are closed before the database is."""
    return lambda settings: start(aiohttp_client, settings)


@pytest.fixture
async def wechat(aiohttp_server: Any) -> tuple[FakeWechat, str]:
    """The fake WeChat / WeCom API and its address."""
    fake = FakeWechat()
    server = await aiohttp_server(fake.app())
    return fake, base_url(server)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        yield session
