"""Shared fixtures: a migrated database on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.migrate import upgrade
from tests.clock import FrozenClock, start_instant
from tests.factories import make_settings

PG_ADMIN_DSN = os.environ.get("UNIONBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _make_db(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    if kind == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/unionbot.db")
        await upgrade(db)
        yield db
        await db.dispose()
        return
    schema = f"unionbot_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        db = Database(PG_URL, connect_args={"server_settings": {"search_path": schema}})
        try:
            await upgrade(db)
            yield db
        finally:
            await db.dispose()
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated database, once on SQLite and once on PostgreSQL."""
    async for database in _make_db(request.param, tmp_path):
        yield database


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated SQLite database (for tests about SQLite specifics)."""
    async for database in _make_db("sqlite", tmp_path):
        yield database


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FrozenClock:
    """The time the test's pipeline handles messages at, standing still (see tests/clock.py)."""
    return FrozenClock(start_instant())


@pytest.fixture
def pipeline(db: Database, settings: Settings, clock: FrozenClock) -> Pipeline:
    """The real pipeline with every command, on the parametrised database, at ``clock``."""
    return Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics(), clock=clock)
