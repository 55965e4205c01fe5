"""Fakes and helpers for the WeChat Official Account and WeCom channel tests.

``FakeWechat`` is an aiohttp application standing in for api.weixin.qq.com and
qyapi.weixin.qq.com: it issues access tokens, records every request, checks tokens like
the platform (a refused token answers 42001) and can be told what to answer next:
an error code, an HTTP status, or a delay longer than the client waits.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from wechatpy.crypto import PrpCrypto

import bot.app
from bot.app import create_app
from bot.config import Settings
from models.db import Database
from models.inbound import InboundRecord
from models.org import Account
from models.outbox import OutboxMessage
from tests.factories import make_settings

SLOW = "slow"  # an answer that arrives after the client has given up


@dataclass
class Request:
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeWechat:
    """Both platforms' HTTP APIs, recording what they receive."""

    token_lifetime: int = 7200
    delay: float = 3.0
    requests: list[Request] = field(default_factory=list)
    answers: deque[dict[str, Any] | int | str] = field(default_factory=deque)
    token_answers: deque[dict[str, Any]] = field(default_factory=deque)
    valid: set[str] = field(default_factory=set)
    issued: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self._token)
        app.router.add_get("/cgi-bin/gettoken", self._token)
        for path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/send", "/cgi-bin/appchat/send"):
            app.router.add_post(path, self._send)
        app.router.add_post("/cgi-bin/webhook/send", self._robot)
        return app

    def expire_tokens(self) -> None:
        self.valid.clear()

    @property
    def sends(self) -> list[Request]:
        return [r for r in self.requests if "token" not in r.path]

    @property
    def token_requests(self) -> list[Request]:
        return [r for r in self.requests if "token" in r.path]

    def contents(self) -> list[str]:
        """The text (or markdown) of every message received, in order."""
        found = []
        for r in self.sends:
            assert r.body is not None
            kind = r.body["msgtype"]
            found.append(r.body[kind]["content"])
        return found

    async def _record(self, request: web.Request) -> Request:
        body = await request.json() if request.can_read_body else None
        entry = Request(request.path, dict(request.query), body)
        self.requests.append(entry)
        return entry

    async def _token(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.token_answers:
            return web.json_response(self.token_answers.popleft())
        self.issued += 1
        token = f"TOKEN-{self.issued}"
        self.valid.add(token)
        return web.json_response({"access_token": token, "expires_in": self.token_lifetime})

    async def _send(self, request: web.Request) -> web.Response:
        entry = await self._record(request)
        if entry.query.get("access_token") not in self.valid:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return await self._answer()

    async def _robot(self, request: web.Request) -> web.Response:
        await self._record(request)
        return await self._answer()

    async def _answer(self) -> web.Response:
        answer = self.answers.popleft() if self.answers else {"errcode": 0, "errmsg": "ok"}
        if answer == SLOW:
            await asyncio.sleep(self.delay)
            return web.json_response({"errcode": 0, "errmsg": "ok"})
        if isinstance(answer, int):
            return web.Response(status=answer, text="server error")
        assert isinstance(answer, dict)
        return web.json_response(answer)


def base_url(server: Any) -> str:
    return str(server.make_url("")).rstrip("/")


def sign(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted((token, *parts))).encode()).hexdigest()


def encrypt(encoding_aes_key: str, receiver: str, xml: str) -> str:
    key = base64.b64decode(encoding_aes_key + "=")
    return bytes(PrpCrypto(key).encrypt(xml, receiver)).decode()


def decrypt(encoding_aes_key: str, receiver: str, ciphertext: str) -> str:
    key = base64.b64decode(encoding_aes_key + "=")
    return str(PrpCrypto(key).decrypt(ciphertext, receiver))


def field_of(xml: str, name: str) -> str:
    found = re.search(rf"<{name}>(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))</{name}>", xml, re.DOTALL)
    assert found is not None, f"no {name} in {xml!r}"
    return found.group(1) if found.group(1) is not None else found.group(2)


def message_xml(
    user: str, *, to: str = "gh_union", kind: str = "text", created: int | None = None, **fields: str
) -> str:
    """A platform message; ``fields`` become elements (``Content``, ``MsgId``, ``Event``...)."""
    stamp = created if created is not None else int(time.time())
    extra = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{extra}</xml>"
    )


def app_settings(**sections: dict[str, object]) -> Settings:
    return make_settings(**sections)


def use_database(monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
    """Make apps built by ``create_app`` use the test's database (SQLite or PostgreSQL)."""

    @asynccontextmanager
    async def given(_settings: Settings) -> AsyncIterator[Database]:
        yield db

    monkeypatch.setattr(bot.app, "open_database", given)


@dataclass
class FixedClock:
    """A wall clock that moves only when a test moves it."""

    now: float

    def __call__(self) -> float:
        return self.now


Connect = Callable[[Settings], Awaitable[TestClient]]


async def start(aiohttp_client: Any, settings: Settings, clock: FixedClock | None = None) -> TestClient:
    """The app on a test client; its clock stands still at the test's start unless given."""
    given = clock if clock is not None else FixedClock(int(time.time()))
    client: TestClient = await aiohttp_client(create_app(settings, clock=given))
    return client


@dataclass(frozen=True)
class Stored:
    records: int
    accounts: int
    outbox: int


async def stored(db: Database) -> Stored:
    """How many dedup records, bound accounts and outbox rows there are."""
    async with db.read() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (InboundRecord, Account, OutboxMessage)
        ]
    return Stored(*(int(c or 0) for c in counts))


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def metric(client: TestClient, line_start: str) -> float:
    """The value of the /metrics sample whose line starts with ``line_start`` (0 if absent)."""
    text = await (await client.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def rejected(channel: str, reason: str) -> str:
    return f'unionbot_messages_rejected_total{{channel="{channel}",reason="{reason}"}}'


async def refused(
    client: TestClient, db: Database, response: aiohttp.ClientResponse, status: int, rejection: str
) -> None:
    """The request was answered ``status``, counted as ``rejection`` and stored nothing."""
    assert response.status == status, await response.text()
    assert await metric(client, rejection) >= 1.0
    assert await stored(db) == Stored(records=0, accounts=0, outbox=0)


async def eventually(check: Any, within: float = 5.0) -> None:
    """Wait until ``await check()`` is true (at most ``within`` seconds)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)

