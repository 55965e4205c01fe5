"""Fake QQ platforms for the channel tests, and helpers to sign and send their webhooks.

``FakePlatform`` is an aiohttp app that records every request and answers from a
script (status, JSON, delay) or, when nothing is scripted for a path, from a default
answer that behaves like the real platform.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.appkeys import TASKS
from bot.config import Settings
from models.audit import AuditLog
from models.db import Database
from models.inbound import InboundRecord


@dataclass
class Recorded:
    """One request the fake platform received."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    delay: float = 0.0


@dataclass
class FakePlatform:
    """Records requests; answers with scripted answers first, then ``default``."""

    default: Callable[[Recorded], Answer]
    url: str = ""  # where it listens, once started
    requests: list[Recorded] = field(default_factory=list)
    script: dict[str, list[Answer]] = field(default_factory=dict)

    def then(self, path: str, status: int = 200, body: Any = None, delay: float = 0.0) -> None:
        """The next request to ``path`` gets this answer."""
        self.script.setdefault(path, []).append(Answer(status, body, delay))

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(request.path, dict(request.headers), body)
        self.requests.append(record)
        queued = self.script.get(request.path)
        answer = queued.pop(0) if queued else self.default(record)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.json_response(answer.body, status=answer.status)

    async def wait_for(self, count: int, path: str | None = None) -> list[Recorded]:
        """Wait (up to 10 s) until ``count`` requests (to ``path``) arrived; return them."""
        async with asyncio.timeout(10):
            while True:
                found = self.requests if path is None else self.to(path)
                if len(found) >= count:
                    return found
                await asyncio.sleep(0.02)


def onebot_platform() -> FakePlatform:
    """A OneBot implementation's HTTP API that accepts every message."""
    ids = iter(range(1000, 10_000))
    return FakePlatform(lambda _: Answer(200, {
        "status": "ok", "retcode": 0, "data": {"message_id": next(ids)},
    }))


def qq_platform() -> FakePlatform:
    """The QQ open platform: tokens ``token-1``, ``token-2``…; messages deduplicated by
    ``msg_id`` + ``msg_seq`` like the real one (code 40054005)."""
    tokens = iter(range(1, 1000))
    seen: set[tuple[str, int]] = set()

    def default(request: Recorded) -> Answer:
        if request.path == "/app/getAppAccessToken":
            return Answer(200, {"access_token": f"token-{next(tokens)}", "expires_in": "7200"})
        key = (request.body.get("msg_id"), request.body.get("msg_seq", 1))
        if key in seen:
            return Answer(400, {"code": 40054005, "err_code": 40054005,
                                "message": "消息被去重，请检查请求msgseq"})
        seen.add(key)
        return Answer(200, {"id": f"sent-{len(seen)}", "timestamp": 1725442341})

    return FakePlatform(default)


def delivered(platform: FakePlatform, path_prefix: str = "/v2/") -> list[Recorded]:
    """Messages the fake QQ platform accepted (not the ones it refused as duplicates)."""
    accepted = []
    seen: set[tuple[str, int]] = set()
    for record in platform.requests:
        if not record.path.startswith(path_prefix) or not isinstance(record.body, dict):
            continue
        key = (record.body.get("msg_id"), record.body.get("msg_seq", 1))
        if key not in seen:
            seen.add(key)
            accepted.append(record)
    return accepted


def use_database(monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
    """Make ``create_app`` use the test's database (SQLite or PostgreSQL) instead of opening one."""

    @asynccontextmanager
    async def given(settings: Settings) -> AsyncIterator[Database]:
        yield db

    monkeypatch.setattr("bot.app.open_database", given)


def onebot_signature(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


async def count(db: Database, table: type[Any]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def stored(db: Database) -> tuple[int, int]:
    """(inbound dedup records, audit log rows): what handling messages leaves behind."""
    return await count(db, InboundRecord), await count(db, AuditLog)


async def settle(app: web.Application) -> None:
    """Wait for every background task of the app (late replies, passive replies)."""
    async with asyncio.timeout(15):
        while app[TASKS]:
            await asyncio.wait(set(app[TASKS]))
