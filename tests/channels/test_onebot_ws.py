"""QQ through a OneBot v11 reverse WebSocket at /qq/onebot/ws: events in, API calls out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import OUTBOX, PIPELINE
from bot.channels import onebot_link, onebot_ws
from bot.channels.onebot_api import OnebotSender
from bot.channels.onebot_link import Links
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker
from models.db import Database
from models.org import Role
from models.outbox import OutboxMessage
from tests.channels.onebot_peer import PATH, TOKEN, connect, handshake, heartbeat
from tests.channels.qq_fakes import FakePlatform, onebot_platform, settle, stored, use_database
from tests.channels.test_onebot import event, metrics_text
from tests.factories import make_member, make_settings

HELP = "【基本】帮助、绑定"


def settings_for(api_url: str = "", **onebot: object) -> Settings:
    section: dict[str, object] = {"enabled": True, "access_token": TOKEN, "api_url": api_url}
    section.update(onebot)
    return make_settings(onebot=section)


@pytest.fixture
async def client(db: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    use_database(monkeypatch, db)
    return await aiohttp_client(create_app(settings_for()))


@pytest.fixture
async def platform(aiohttp_server: Any) -> FakePlatform:
    fake = onebot_platform()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url(""))
    return fake


async def refused(client: TestClient, headers: dict[str, str], path: str = PATH) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await client.ws_connect(path, headers=headers)
    return caught.value.status


async def row(db: Database, key: str | None = None) -> OutboxMessage:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
    if key is not None:
        query = query.where(OutboxMessage.key == key)
    async with db.read() as session:
        found = await session.scalar(query)
    assert found is not None
    return found


async def wait_until(check: Any) -> None:
    """Poll ``check`` until it holds (5 s at most)."""
    async with asyncio.timeout(5):
        while not await check():  # noqa: ASYNC110 (state of another process part, polled)
            await asyncio.sleep(0.02)


async def ended(client: TestClient, reason: str, times: int = 1) -> None:
    """Wait until the server counted ``times`` connections ended for ``reason``."""
    line = f'unionbot_onebot_ws_ended_total{{reason="{reason}"}} {times}.0'

    async def counted() -> bool:
        return line in await metrics_text(client)

    try:
        await wait_until(counted)
    except TimeoutError:
        pytest.fail(f"{line} not in {await metrics_text(client)}")


# ---------------------------------------------------------------- the handshake


async def test_connections_without_the_right_token_or_account_are_refused_before_the_upgrade(
    client: TestClient, db: Database
) -> None:
    assert await refused(client, handshake(token=None)) == 401
    assert await refused(client, handshake(token="guessed")) == 403
    assert await refused(client, {**handshake(), "Authorization": f"Basic {TOKEN}"}) == 403
    assert await refused(client, handshake(self_id=None)) == 400
    assert await refused(client, handshake(self_id="abc")) == 400
    assert await refused(client, handshake(self_id="-5")) == 400
    assert await refused(client, {**handshake(), "X-Client-Role": "API"}) == 400
    assert (await client.get(PATH, headers=handshake())).status == 400  # not a WebSocket upgrade
    body = await metrics_text(client)
    for reason, times in (("missing_token", 1), ("bad_token", 2), ("bad_self_id", 3),
                          ("unsupported_role", 1), ("not_a_websocket", 1)):
        assert f'unionbot_onebot_ws_ended_total{{reason="{reason}"}} {times}.0' in body
    assert "unionbot_onebot_ws_connected 0.0" in body
    assert await stored(db) == (0, 0)


async def test_the_token_may_come_in_the_query(client: TestClient) -> None:
    ws = await client.ws_connect(f"{PATH}?access_token={TOKEN}", headers={"X-Self-ID": "10000"})
    assert "unionbot_onebot_ws_connected 1.0" in await metrics_text(client)
    await ws.close()
    assert await refused(client, {"X-Self-ID": "10000"}, f"{PATH}?access_token=nope") == 403


async def test_without_an_access_token_configured_everyone_is_refused(
    db: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(settings_for(access_token="")))
    assert await refused(client, handshake(token="")) == 403
    assert await refused(client, handshake()) == 403


# ---------------------------------------------------------------- messages in, replies out


async def test_a_group_help_is_answered_over_the_socket_once(client: TestClient, db: Database) -> None:
    peer = await connect(client)
    await peer.send(event("帮助", group=456, message_id=1))
    call = await peer.next_call()
    assert call["action"] == "send_group_msg"
    assert isinstance(call["echo"], str) and call["echo"]
    params = call["params"]
    assert params["group_id"] == 456 and params["auto_escape"] is False
    assert params["message"].startswith("[CQ:at,qq=123] ") and HELP in params["message"]
    await peer.send(event("帮助", group=456, message_id=1))  # the same message again
    await peer.send(event("帮助", message_id=2))  # then a private one
    private = await peer.next_call()
    assert private["action"] == "send_private_msg" and private["params"]["user_id"] == 123
    assert HELP in private["params"]["message"]
    assert peer.calls.empty()  # the repeated group message was not answered twice
    assert await stored(db) == (2, 0)
    await peer.stop()


async def test_a_representative_files_a_proposal_in_a_group(
    db: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    settings = make_settings(onebot={"enabled": True, "access_token": TOKEN},
                             proposals={"open_all_year": True})
    client = await aiohttp_client(create_app(settings))
    await make_member(db, "10001", "张三", roles=[Role.REPRESENTATIVE], accounts=[("onebot", "123")])
    peer = await connect(client)
    await peer.send(event("提案 标题：关于食堂的提案 理由：太贵 建议：降价", group=456, message_id=7))
    call = await peer.next_call()
    assert call["action"] == "send_group_msg"
    message = call["params"]["message"]
    assert message.startswith("[CQ:at,qq=123] "), message
    assert "关于食堂的提案" in message and "T20" in message, message
    assert await stored(db) == (1, 1)  # the dedup record and the audit row of the filing
    await peer.stop()


async def test_group_chatter_and_meta_events_get_no_answer(client: TestClient, db: Database) -> None:
    peer = await connect(client)
    await peer.send(event("今天食堂不错", group=456, message_id=1))
    await peer.send(heartbeat())
    await peer.send({"time": 1, "self_id": 10000, "post_type": "meta_event",
                     "meta_event_type": "lifecycle", "sub_type": "connect"})
    await peer.send(event("帮助", message_id=2))
    assert (await peer.next_call())["action"] == "send_private_msg"
    assert peer.calls.empty()
    assert await stored(db) == (1, 0)
    await peer.stop()


async def test_a_failed_reply_goes_to_the_outbox(client: TestClient, db: Database) -> None:
    peer = await connect(client)
    peer.script["send_private_msg"] = [{"status": "failed", "retcode": 100, "wording": "风控"}, None]
    await peer.send(event("帮助", message_id=3))
    await peer.next_call()
    await settle(client.app)
    queued = await row(db, "late:onebot:10000:p123:3")
    assert queued.target == "123" and queued.target_kind == "user"
    await peer.stop()


async def test_an_unanswered_call_times_out_and_the_reply_is_queued(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onebot_link, "CALL_TIMEOUT", 0.2)
    await client.app[OUTBOX].stop()  # keep the queued reply where the test can see it
    peer = await connect(client)
    peer.script["send_group_msg"] = [None]
    await peer.send(event("帮助", group=456, message_id=4))
    await peer.next_call()
    await settle(client.app)
    queued = await row(db, "late:onebot:10000:g456:4:at:123")
    assert (queued.status, queued.target_kind, queued.target) == ("queued", "group", "456")
    await peer.stop()


# ---------------------------------------------------------------- the outbox


async def _enqueue(db: Database, settings: Settings, target: Target, key: str) -> None:
    async with db.write() as session:
        await enqueue(session, settings=settings, key=key, target=target, reply=Reply("周五开会"))


async def test_the_outbox_sends_through_the_account_that_is_in_the_group(
    client: TestClient, db: Database
) -> None:
    first = await connect(client, 10000, groups=[111])
    second = await connect(client, 20000, groups=[456])
    settings = settings_for()

    async def lists_known() -> bool:
        links = client.app[onebot_ws.LINKS].by_id
        return len(links) == 2 and all(link.groups is not None for link in links.values())

    await wait_until(lists_known)
    await _enqueue(db, settings, Target("onebot", "group", "456"), "notice:1:group")
    client.app[OUTBOX].wake()
    call = await second.next_call()
    assert call["params"] == {"group_id": 456, "message": "周五开会", "auto_escape": True}
    assert first.calls.empty()

    async def sent() -> bool:
        return (await row(db, "notice:1:group")).status == "sent"

    await wait_until(sent)
    await first.stop()
    await second.stop()


async def test_a_refusal_over_the_socket_is_dead_and_other_failures_wait(db: Database) -> None:
    settings = settings_for()
    links = Links(*_metrics())
    sender = OnebotSender(settings.onebot, aiohttp.ClientSession, links)
    worker = OutboxWorker(db=db, settings=settings, senders={"onebot": sender})
    await _enqueue(db, settings, Target("onebot", "group", "456"), "k1")
    await worker.run_once()
    waiting = await row(db, "k1")
    assert waiting.status == "queued"
    assert waiting.last_error is not None and "反向 WebSocket" in waiting.last_error


async def test_without_a_socket_the_outbox_falls_back_to_the_http_api(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(settings_for(platform.url)))
    await _enqueue(db, settings_for(platform.url), Target("onebot", "user", "123"), "notice:2")
    client.app[OUTBOX].wake()
    [sent] = await platform.wait_for(1, "/send_private_msg")
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body == {"user_id": 123, "message": "周五开会", "auto_escape": True}


async def test_a_socket_answer_with_a_failure_status_decides_dead_or_retry(
    client: TestClient, db: Database
) -> None:
    await client.app[OUTBOX].stop()
    peer = await connect(client)
    settings = settings_for()
    sender = OnebotSender(settings.onebot, aiohttp.ClientSession, client.app[onebot_ws.LINKS])
    worker = OutboxWorker(db=db, settings=settings, senders={"onebot": sender})
    peer.script["send_group_msg"] = [{"status": "failed", "retcode": 1400, "wording": "群不存在"},
                                     {"status": "async", "retcode": 1}]
    await _enqueue(db, settings, Target("onebot", "group", "456"), "bad")
    await worker.run_once()
    await _enqueue(db, settings, Target("onebot", "group", "456"), "later")
    await worker.run_once()
    bad, later = await row(db, "bad"), await row(db, "later")
    assert (bad.status, later.status) == ("dead", "queued")
    assert bad.last_error is not None and "群不存在" in bad.last_error
    await peer.stop()


def _metrics() -> tuple[Any, Any]:
    from bot.metrics import Metrics

    metrics = Metrics()
    return metrics.onebot_connected, metrics.onebot_ended


# ---------------------------------------------------------------- connections


async def test_a_new_connection_of_an_account_replaces_the_older_one(client: TestClient) -> None:
    old = await connect(client)
    new = await connect(client)
    assert await old.close_code() == 1000
    await new.send(event("帮助", message_id=9))
    assert (await new.next_call())["action"] == "send_private_msg"
    await ended(client, "replaced")
    assert "unionbot_onebot_ws_connected 1.0" in await metrics_text(client)
    await new.stop()


async def test_missed_heartbeats_close_the_connection(client: TestClient) -> None:
    peer = await connect(client)
    await peer.send(heartbeat(interval=100))
    assert await peer.close_code() == 1001
    await ended(client, "heartbeat_timeout")
    assert "unionbot_onebot_ws_connected 0.0" in await metrics_text(client)


async def test_bad_frames_are_ignored_and_the_connection_goes_on(client: TestClient, db: Database) -> None:
    peer = await connect(client)
    await peer.ws.send_str("{not json")
    await peer.ws.send_bytes(b"\xff\xfe{}")
    await peer.ws.send_str("[1, 2]")
    await peer.ws.send_str("[" * 50_000 + "]" * 50_000)
    await peer.send({"post_type": "message", "self_id": 99999, "message_type": "private"})
    await peer.send({"status": "ok", "retcode": 0, "echo": "nobody-asked"})
    await peer.send(event("帮助" * 40_000, message_id=5))  # over 64 KiB
    await peer.send(event("帮助", message_id=6))
    call = await peer.next_call()
    assert call["action"] == "send_private_msg" and HELP in call["params"]["message"]
    body = await metrics_text(client)
    assert 'unionbot_onebot_ws_ignored_total{reason="not_json"} 4.0' in body
    assert 'unionbot_onebot_ws_ignored_total{reason="self_id_mismatch"} 1.0' in body
    assert 'unionbot_onebot_ws_ignored_total{reason="unexpected_response"} 1.0' in body
    assert 'unionbot_onebot_ws_ignored_total{reason="event_too_large"} 1.0' in body
    assert await stored(db) == (1, 0)
    await peer.stop()


async def test_a_frame_over_1_mib_closes_the_connection_with_1009(client: TestClient) -> None:
    peer = await connect(client)
    await peer.ws.send_str(json.dumps({"post_type": "notice", "x": "a" * (1024 * 1024)}))
    assert await peer.close_code() == 1009
    await ended(client, "frame_too_big")


async def test_a_flood_closes_the_connection_with_1008(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onebot_ws, "FRAMES_PER_SECOND", 10.0)
    monkeypatch.setattr(onebot_ws, "FRAME_BURST", 20.0)
    peer = await connect(client)
    for _ in range(60):
        if peer.ws.closed:
            break
        await peer.send(heartbeat())
    assert await peer.close_code() == 1008
    await ended(client, "flood")


async def test_messages_beyond_the_in_flight_bound_are_ignored(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onebot_ws, "MAX_PENDING", 2)
    pipeline = client.app[PIPELINE]
    handle = pipeline.handle
    release = asyncio.Event()

    async def held(incoming: Incoming) -> Reply | None:
        await release.wait()
        return await handle(incoming)

    pipeline.handle = held  # type: ignore[method-assign]
    peer = await connect(client)
    for number in range(5):
        await peer.send(event("帮助", message_id=100 + number))

    async def ignored() -> bool:
        return 'unionbot_onebot_ws_ignored_total{reason="busy"} 3.0' in await metrics_text(client)

    await wait_until(ignored)
    release.set()
    answered = [await peer.next_call(), await peer.next_call()]
    assert [c["action"] for c in answered] == ["send_private_msg"] * 2
    await settle(client.app)
    assert await stored(db) == (2, 0)
    await peer.stop()
