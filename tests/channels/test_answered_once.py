"""The reply to a message reaches the chat once, whichever copy of it answers: a copy
that answered its request empty and a copy that answers with the stored reply never both
deliver it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import make_url, select, text
from sqlmodel import col

from bot.app import create_app
from bot.appkeys import PIPELINE
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.pipeline import Pipeline
from models.base import utcnow
from models.db import Database
from models.inbound import InboundRecord
from models.org import Role
from models.outbox import OutboxMessage
from models.proposals.tables import ProposalCounter, ProposalRound
from tests.channels.qq_fakes import (
    FakePlatform,
    onebot_platform,
    onebot_signature,
    settle,
    use_database,
)
from tests.factories import make_member, make_settings

FILING = "提案 标题：关于增设校车班次的提案 理由：校区之间通勤不便 建议：高峰期加开班次"
SELF, SECRET = 10000, "onebot-secret"


@pytest.fixture
async def platform(aiohttp_server: Any) -> FakePlatform:
    fake = onebot_platform()
    fake.url = str((await aiohttp_server(fake.app())).make_url(""))
    return fake


def app_settings(url: str, budget: float) -> Settings:
    return make_settings(onebot={"enabled": True, "secret": SECRET, "api_url": url,
                                 "access_token": "t", "reply_budget_seconds": budget})


async def post(client: TestClient[Any, Any], text_: str, message_id: int) -> ClientResponse:
    """A private message from QQ user 123, as the OneBot implementation posts it."""
    body = json.dumps({
        "time": 1725442341, "self_id": SELF, "post_type": "message", "message_type": "private",
        "sub_type": "friend", "message_id": message_id, "user_id": 123, "message": text_,
        "raw_message": text_, "font": 0, "sender": {"user_id": 123, "nickname": "小张"},
    }, ensure_ascii=False).encode()
    return await client.post("/qq/onebot", data=body, headers={
        "Content-Type": "application/json", "X-Self-ID": str(SELF),
        "X-Signature": onebot_signature(SECRET, body)})


async def lock_proposals(db: Database, seconds: float) -> asyncio.Task[None]:
    """Another connection takes what a filing needs (the proposal counter rows on
    PostgreSQL, the write lock on SQLite) and lets go after ``seconds``; returns once it holds it."""
    held = asyncio.Event()

    async def hold() -> None:
        if db.is_sqlite:
            other = sqlite3.connect(make_url(db.url).database or "", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            await asyncio.sleep(seconds)
            other.execute("ROLLBACK")
            other.close()
            return
        async with db.write_engine.connect() as conn:
            await conn.execute(text("SELECT seq FROM proposal_counter FOR UPDATE"))
            held.set()
            await asyncio.sleep(seconds)
            await conn.rollback()

    holder = asyncio.create_task(hold())
    await held.wait()
    return holder


async def answers(db: Database) -> tuple[list[str | None], list[str]]:
    async with db.read() as session:
        routes = list(await session.scalars(select(col(InboundRecord.answered))))
        keys = list(await session.scalars(select(col(OutboxMessage.key))))
    return routes, keys


async def test_a_late_copy_and_a_retried_copy_answer_once(
    db: Database, platform: FakePlatform, aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_member(db, "10001", "张三", roles=[Role.REPRESENTATIVE], accounts=[("onebot", "123")])
    async with db.write() as session:
        session.add(ProposalRound(name="六届三次教代会", opens_at=utcnow() - timedelta(days=1),
                                  closes_at=utcnow() + timedelta(days=30)))
        year = utcnow().year
        session.add_all(ProposalCounter(year=y, seq=0) for y in (year - 1, year, year + 1))
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(app_settings(platform.url, 1)))
    holder = await lock_proposals(db, 3.0)
    copies = [asyncio.ensure_future(post(client, FILING, 77))]
    await asyncio.sleep(2.3)  # retries: the first request got no answer in time
    copies.append(asyncio.ensure_future(post(client, FILING, 77)))  # waits for the lock
    await asyncio.sleep(1.1)
    copies.append(asyncio.ensure_future(post(client, FILING, 77)))  # after the first is done
    responses = await asyncio.gather(*copies)
    await holder
    assert [r.status for r in responses] == [204, 204, 204]
    await settle(client.app)
    [pushed] = await platform.wait_for(1, "/send_private_msg")
    assert pushed.body["message"].startswith("提案已提交")
    await asyncio.sleep(0.3)
    assert len(platform.to("/send_private_msg")) == 1
    assert await answers(db) == (["pushed"], ["late:onebot:10000:p123:77"])


async def test_a_copy_that_gave_up_leaves_the_answer_to_the_one_that_answered(
    db: Database, platform: FakePlatform, aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "123")])
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(app_settings(platform.url, 0.5)))
    pipeline: Pipeline = client.app[PIPELINE]
    handle = pipeline.handle
    calls = 0

    async def first_one_slow(incoming: Incoming) -> Reply | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(1.0)
        return await handle(incoming)

    pipeline.handle = first_one_slow  # type: ignore[method-assign]
    first = asyncio.ensure_future(post(client, "我", 78))
    await asyncio.sleep(0.6)
    second = await post(client, "我", 78)
    assert second.status == 200 and (await second.json())["reply"].startswith("张三")
    assert (await first).status == 204
    await settle(client.app)
    await asyncio.sleep(0.3)
    assert platform.requests == []
    assert await answers(db) == (["passive"], [])
