"""Housekeeping removes what is past keeping, and nothing else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, insert, select

from bot import app as app_module
from bot.app import create_app
from bot.appkeys import DB
from models.audit import AuditLog
from models.db import Database
from models.dialog_state import DialogState
from models.events.links import DownloadLink
from models.housekeeping import CHUNK, prune
from models.inbound import InboundRecord
from models.migrate import upgrade
from tests.factories import make_settings

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def seed(db: Database, *, old_inbound: int) -> None:
    async with db.write() as session:
        await session.execute(insert(InboundRecord), [
            {"dedup_key": f"onebot:old{i}", "channel": "onebot",
             "received_at": NOW - timedelta(days=31, minutes=i), "reply": None}
            for i in range(old_inbound)
        ] + [{"dedup_key": "onebot:new", "channel": "onebot",
              "received_at": NOW - timedelta(days=29), "reply": None}])
        await session.execute(insert(DownloadLink), [
            {"token": token, "kind": "event_roster", "subject_id": 1, "fmt": "xlsx",
             "created_at": NOW - timedelta(days=3), "expires_at": NOW - expired}
            for token, expired in (("long-gone", timedelta(days=2)), ("just-expired", timedelta(hours=1)),
                                   ("valid", -timedelta(hours=1)))
        ])
        await session.execute(insert(DialogState), [
            {"channel": "onebot", "chat_id": "p1", "user_id": "1", "dialog": "bind",
             "updated_at": NOW - timedelta(hours=2)},
            {"channel": "onebot", "chat_id": "p2", "user_id": "2", "dialog": "bind",
             "updated_at": NOW - timedelta(minutes=3)},
        ])
        await session.execute(insert(AuditLog), [
            {"at": NOW - timedelta(days=400), "actor": "cli", "action": "导入", "target": "名册"},
        ])


async def counts(db: Database) -> dict[str, list[str] | int]:
    async with db.read() as session:
        return {
            "inbound": list(await session.scalars(select(InboundRecord.dedup_key).where(
                InboundRecord.dedup_key.in_(["onebot:new", "onebot:old0"])))),  # type: ignore[attr-defined]
            "inbound_total": await session.scalar(select(func.count()).select_from(InboundRecord)) or 0,
            "links": sorted(await session.scalars(select(DownloadLink.token))),
            "dialogs": sorted(await session.scalars(select(DialogState.chat_id))),
            "audit": await session.scalar(select(func.count()).select_from(AuditLog)) or 0,
        }


async def test_prune_removes_only_what_is_past_keeping(db: Database) -> None:
    await seed(db, old_inbound=CHUNK + 5)  # more than one chunk
    pruned = await prune(db, NOW, keep_inbound_days=30, dialog_idle_minutes=10)
    assert (pruned.inbound, pruned.links, pruned.dialogs) == (CHUNK + 5, 1, 1)
    assert await counts(db) == {
        "inbound": ["onebot:new"], "inbound_total": 1, "links": ["just-expired", "valid"],
        "dialogs": ["p2"], "audit": 1,
    }
    again = await prune(db, NOW, keep_inbound_days=30, dialog_idle_minutes=10)
    assert again.total == 0


async def test_the_server_prunes_after_start(
    aiohttp_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "HOUSEKEEPING_FIRST_SECONDS", 0.0)
    monkeypatch.setattr(app_module, "utcnow", lambda: NOW)
    url = f"sqlite+aiosqlite:///{tmp_path}/app.db"
    before_start = Database(url)
    await upgrade(before_start)
    await seed(before_start, old_inbound=3)
    await before_start.dispose()
    settings = make_settings(database={"url": url, "keep_inbound_days": 7})
    client: TestClient = await aiohttp_client(create_app(settings))
    db = client.app[DB]
    for _ in range(100):
        if (await counts(db))["inbound_total"] == 0:
            break
        await asyncio.sleep(0.05)
    found = await counts(db)
    assert found["inbound_total"] == 0  # everything older than 7 days, incl. the 29-day one
    assert found["dialogs"] == ["p2"]
