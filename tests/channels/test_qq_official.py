"""The official QQ bot: webhook at /qq/official, Ed25519 signatures, passive replies via the v2 API."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select

from bot.app import create_app
from bot.channels.base import Rejected
from bot.channels.qq_api import QqApi, Result, split_text
from bot.channels.qq_events import PassiveTarget, load, message_event, validation
from bot.channels.qq_sign import BotKeys, seed_from_secret
from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import Target, Unreachable, enqueue
from models.db import Database
from models.org import Account
from models.outbox import OutboxMessage
from tests.channels.qq_fakes import FakePlatform, count, delivered, qq_platform, settle, stored, use_database
from tests.factories import make_member, make_settings

APP_ID = "11111111"
SECRET = "DG5g3B4j9X2KOErG"  # the bot secret of the QQ docs' example
PLATFORM_KEYS = BotKeys(SECRET)  # the platform signs with the same key pair
BIND_OK = "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。"
TOKEN_PATH = "/app/getAppAccessToken"


def settings_for(url: str, **section: object) -> Settings:
    values: dict[str, object] = {"enabled": True, "app_id": APP_ID, "secret": SECRET,
                                 "api_base": url, "token_url": url + TOKEN_PATH}
    values.update(section)
    return make_settings(qq_official=values)


@pytest.fixture
async def platform(aiohttp_server: Any) -> FakePlatform:
    fake = qq_platform()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def client(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The app on the test's database; ``db`` and ``platform`` come first so that they
    close after the app."""
    use_database(monkeypatch, db)
    return await aiohttp_client(create_app(settings_for(platform.url)))


def _now_iso(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).astimezone().isoformat(timespec="seconds")


def group_event(text: str, *, msg: str = "ROBOT1.0_msg1", event: str = "evt1",
                member: str = "MEMBER0001", group: str = "GROUP0001",
                sent: timedelta = timedelta()) -> dict[str, Any]:
    return {"id": f"GROUP_AT_MESSAGE_CREATE:{event}", "op": 0, "s": 1, "t": "GROUP_AT_MESSAGE_CREATE",
            "d": {"id": msg, "content": f" {text}", "timestamp": _now_iso(sent),
                  "group_openid": group, "author": {"member_openid": member}}}


def c2c_event(text: str, *, msg: str = "ROBOT1.0_msg2", event: str = "evt2",
              user: str = "USER0001", **extra: Any) -> dict[str, Any]:
    return {"id": f"C2C_MESSAGE_CREATE:{event}", "op": 0, "s": 2, "t": "C2C_MESSAGE_CREATE",
            "d": {"id": msg, "content": text, "timestamp": _now_iso(),
                  "author": {"user_openid": user}, **extra}}


async def post(
    client: TestClient, payload: dict[str, Any] | bytes, *, sign: bool = True,
    timestamp: str | None = None, headers: dict[str, str] | None = None,
) -> aiohttp.ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json", "User-Agent": "QQBot-Callback", "X-Bot-Appid": APP_ID}
    if sign:
        stamp = timestamp or str(int(time.time()))
        sent["X-Signature-Timestamp"] = stamp
        sent["X-Signature-Ed25519"] = PLATFORM_KEYS.sign(stamp.encode() + body)
    sent.update(headers or {})
    return await client.post("/qq/official", data=body, headers=sent)


async def acked(client: TestClient, payload: dict[str, Any]) -> None:
    response = await post(client, payload)
    assert response.status == 200, await response.text()
    assert await response.json() == {"op": 12}


async def metrics_text(client: TestClient) -> str:
    return await (await client.get("/metrics")).text()


# ---------------------------------------------------------------- keys and signatures


def test_seed_is_the_secret_repeated_to_32_bytes() -> None:
    assert seed_from_secret("naOC0ocQE3shWLAfffVLB1rhYPG7") == b"naOC0ocQE3shWLAfffVLB1rhYPG7naOC"
    assert seed_from_secret("ab") == b"ab" * 16
    assert seed_from_secret("x" * 40) == b"x" * 32


def test_public_key_matches_the_docs_example() -> None:
    public = BotKeys("naOC0ocQE3shWLAfffVLB1rhYPG7").public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert list(public) == [215, 195, 98, 254, 120, 174, 248, 31, 242, 50, 135, 180, 147, 98, 139, 93,
                            176, 42, 60, 79, 227, 11, 33, 94, 77, 25, 96, 155, 93, 118, 103, 58]


async def test_callback_check_answers_the_published_example(client: TestClient, db: Database) -> None:
    body = b'{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"},"op":13}'
    response = await post(client, body, sign=False)
    assert response.status == 200
    assert await response.json() == {
        "plain_token": "Arq0D5A61EgUu4OxUvOp",
        "signature": "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
                     "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706",
    }
    assert await stored(db) == (0, 0)


async def test_event_signature_of_the_published_example_is_accepted(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(settings_for(platform.url,
                                                          secret="naOC0ocQE3shWLAfffVLB1rhYPG7")))
    # the docs print this body on one line; the signature is over its multi-line form
    body = b'{\n  "op": 0,\n  "d": {},\n  "t": "GATEWAY_EVENT_NAME"\n}'
    signature = ("865ad13a61752ca65e26bde6676459cd36cf1be609375b37bd62af366e1dc25a"
                 "8dc789ba7f14e017ada3d554c671a911bfdf075ba54835b23391d509579ed002")
    headers = {"X-Signature-Timestamp": "1725442341", "X-Signature-Ed25519": signature}
    good = await client.post("/qq/official", data=body, headers=headers)
    assert (good.status, await good.json()) == (200, {"op": 12})
    bad = await client.post("/qq/official", data=body.replace(b"0", b"1"), headers=headers)
    assert (bad.status, await bad.text()) == (403, "bad_signature")


@pytest.mark.parametrize(("change", "status", "reason"), [
    ({"X-Signature-Ed25519": None, "X-Signature-Timestamp": None}, 401, "missing_signature"),
    ({"X-Signature-Ed25519": ""}, 401, "missing_signature"),
    ({"X-Signature-Timestamp": None}, 400, "bad_timestamp"),
    ({"X-Signature-Timestamp": "12a4"}, 400, "bad_timestamp"),
    ({"X-Signature-Ed25519": "zz" * 64}, 403, "bad_signature"),
    ({"X-Signature-Ed25519": "00" * 64}, 403, "bad_signature"),
    ({"X-Signature-Ed25519": "00" * 10}, 403, "bad_signature"),
    ({"X-Bot-Appid": "22222222"}, 403, "wrong_app_id"),
])
async def test_bad_signatures_are_refused_before_anything_happens(
    client: TestClient, db: Database, platform: FakePlatform, caplog: pytest.LogCaptureFixture,
    change: dict[str, str | None], status: int, reason: str,
) -> None:
    caplog.set_level(logging.INFO)
    await make_member(db, "10001", "张三")
    body = json.dumps(group_event("绑定 10001 张三"), ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    headers: dict[str, str] = {"X-Bot-Appid": APP_ID, "X-Signature-Timestamp": stamp,
                               "X-Signature-Ed25519": PLATFORM_KEYS.sign(stamp.encode() + body)}
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    response = await client.post("/qq/official", data=body, headers=headers)
    assert (response.status, await response.text()) == (status, reason)
    await settle(client.app)
    assert await stored(db) == (0, 0)
    assert platform.requests == []
    assert f'unionbot_messages_rejected_total{{channel="qq_official",reason="{reason}"}} 1.0' \
        in await metrics_text(client)
    logged = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(logged) == 1 and SECRET not in logged[0] and "张三" not in logged[0]


async def test_a_stale_timestamp_is_refused(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    strict = settings_for(platform.url).model_copy(
        update={"security": make_settings(security={"replay_window_seconds": 300}).security})
    client = await aiohttp_client(create_app(strict))
    old = str(int(time.time()) - 600)
    response = await post(client, group_event("帮助"), timestamp=old)
    assert (response.status, await response.text()) == (403, "stale_timestamp")
    fresh = await post(client, group_event("帮助"))
    assert fresh.status == 200
    await settle(client.app)
    assert len(platform.to("/v2/groups/GROUP0001/messages")) == 1


@pytest.mark.parametrize(("data", "reason"), [
    ({"plain_token": '{"op":0,"d":{}}', "event_ts": "1725442341"}, "bad_plain_token"),
    ({"plain_token": "abc def", "event_ts": "1725442341"}, "bad_plain_token"),
    ({"plain_token": "A" * 129, "event_ts": "1725442341"}, "bad_plain_token"),
    ({"plain_token": "Arq0D5A61EgUu4OxUvOp", "event_ts": "1725442341{"}, "bad_event_ts"),
    ({"plain_token": "Arq0D5A61EgUu4OxUvOp"}, "bad_event_ts"),
    ("not an object", "no_data"),
])
async def test_the_callback_check_signs_nothing_but_plain_tokens(
    client: TestClient, data: Any, reason: str
) -> None:
    response = await post(client, {"op": 13, "d": data}, sign=False)
    assert (response.status, await response.text()) == (400, reason)


async def test_a_signed_callback_check_with_a_wrong_signature_is_refused(client: TestClient) -> None:
    body = b'{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"},"op":13}'
    response = await client.post("/qq/official", data=body, headers={
        "X-Signature-Timestamp": str(int(time.time())), "X-Signature-Ed25519": "ab" * 64})
    assert (response.status, await response.text()) == (403, "bad_signature")


# ---------------------------------------------------------------- round trips


async def test_group_bind_and_me_are_answered_as_passive_replies(
    client: TestClient, db: Database, platform: FakePlatform
) -> None:
    zhang = await make_member(db, "10001", "张三")
    await acked(client, group_event("绑定 10001 张三", msg="M1", event="E1"))
    await settle(client.app)
    await acked(client, group_event("/我", msg="M2", event="E2"))
    await settle(client.app)
    [token_call] = platform.to(TOKEN_PATH)
    assert token_call.body == {"appId": APP_ID, "clientSecret": SECRET}
    bind, me = platform.to("/v2/groups/GROUP0001/messages")
    assert bind.body == {"content": BIND_OK, "msg_type": 0, "msg_id": "M1", "msg_seq": 1}
    assert bind.headers["Authorization"] == "QQBot token-1"
    assert bind.headers["X-Union-Appid"] == APP_ID
    assert me.body["msg_id"] == "M2" and me.body["msg_seq"] == 1
    assert me.body["content"].startswith("张三（工号 10001）")
    assert "13800000000" not in me.body["content"]
    async with db.read() as session:
        account = await session.scalar(select(Account))
    assert account is not None
    assert (account.channel, account.external_id, account.member_id) == (
        "qq_official", "MEMBER0001", zhang.id)
    assert 'unionbot_qq_official_replies_total{result="sent"} 2.0' in await metrics_text(client)


async def test_private_help_then_bind_then_me(
    client: TestClient, db: Database, platform: FakePlatform
) -> None:
    await make_member(db, "10001", "张三")
    for number, text in enumerate(("帮助", "绑定 10001 张三", "我"), start=1):
        await acked(client, c2c_event(text, msg=f"C{number}", event=f"CE{number}"))
        await settle(client.app)
    help_reply, bind, me = platform.to("/v2/users/USER0001/messages")
    assert help_reply.body["content"].startswith("你还没有绑定工号")
    assert bind.body["content"] == BIND_OK
    assert "手机：13800000000" in me.body["content"]
    assert [r.body["msg_id"] for r in (help_reply, bind, me)] == ["C1", "C2", "C3"]


async def test_other_events_are_acknowledged_and_dropped(
    client: TestClient, db: Database, platform: FakePlatform
) -> None:
    for kind in ("GROUP_ADD_ROBOT", "FRIEND_ADD", "C2C_MSG_REJECT"):
        await acked(client, {"id": f"{kind}:1", "op": 0, "t": kind,
                             "d": {"timestamp": 1725442341, "openid": "USER0001"}})
    await acked(client, {"op": 7})
    await settle(client.app)
    assert await stored(db) == (0, 0)
    assert platform.requests == []


async def test_a_picture_alone_gets_the_text_only_hint(
    client: TestClient, db: Database, platform: FakePlatform
) -> None:
    await acked(client, c2c_event("", attachments=[{"content_type": "image/png", "url": "https://x/y.png"}]))
    await settle(client.app)
    [answer] = platform.to("/v2/users/USER0001/messages")
    assert answer.body["content"].startswith("目前只看得懂文字消息")
    assert await stored(db) == (0, 0)


async def test_a_reply_past_the_group_window_is_not_sent_but_counted(
    client: TestClient, db: Database, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    await acked(client, group_event("帮助", sent=-timedelta(minutes=6)))
    await settle(client.app)
    assert platform.requests == []
    assert 'unionbot_qq_official_replies_total{result="expired"} 1.0' in await metrics_text(client)
    assert any("too late" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- dedup


async def test_three_concurrent_deliveries_send_one_reply(
    client: TestClient, db: Database, platform: FakePlatform
) -> None:
    await make_member(db, "10001", "张三")
    payload = c2c_event("绑定 10001 张三", msg="C9", event="CE9")
    await asyncio.gather(*(acked(client, payload) for _ in range(3)))
    await settle(client.app)
    [sent] = platform.to("/v2/users/USER0001/messages")  # duplicates are not even tried
    assert sent.body == {"content": BIND_OK, "msg_type": 0, "msg_id": "C9", "msg_seq": 1}
    assert await stored(db) == (1, 1)
    assert await count(db, Account) == 1


async def test_a_redelivery_after_a_restart_is_not_answered_twice(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_member(db, "10001", "张三")
    use_database(monkeypatch, db)
    payload = c2c_event("绑定 10001 张三", msg="C10", event="CE10")
    first = await aiohttp_client(create_app(settings_for(platform.url)))
    await acked(first, payload)
    await settle(first.app)
    await first.close()
    second = await aiohttp_client(create_app(settings_for(platform.url)))
    await acked(second, payload)
    await settle(second.app)
    attempts = platform.to("/v2/users/USER0001/messages")
    assert [r.body for r in attempts] == [
        {"content": BIND_OK, "msg_type": 0, "msg_id": "C10", "msg_seq": 1}] * 2
    assert len(delivered(platform)) == 1  # the platform dropped the second as a duplicate
    assert await stored(db) == (1, 1)
    assert 'unionbot_qq_official_replies_total{result="duplicate"} 1.0' in await metrics_text(second)


# ---------------------------------------------------------------- the outbox refuses this channel


async def test_notices_for_qq_official_groups_are_refused_with_a_reason(db: Database) -> None:
    settings = settings_for("https://example.invalid")
    with pytest.raises(Unreachable) as refused:
        async with db.write() as session:
            await enqueue(session, settings=settings, key="notice:1:qq",
                          target=Target("qq_official", "group", "GROUP0001"), reply=Reply("公告"))
    assert refused.value.reason == "QQ 开放平台机器人只能被动回复，不能主动发消息"
    assert await count(db, OutboxMessage) == 0


# ---------------------------------------------------------------- the v2 API client


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _target(msg: str = "M1", kind: str = "group", seconds: float = 300) -> PassiveTarget:
    return PassiveTarget("group" if kind == "group" else "user", "GROUP0001" if kind == "group"
                         else "USER0001", msg, time.time() + seconds)


def _api(platform: FakePlatform, http: aiohttp.ClientSession, **options: Any) -> QqApi:
    options.setdefault("backoff", (0.0, 0.0, 0.0))
    return QqApi(settings_for(platform.url).qq_official, lambda: http, **options)


async def test_a_long_reply_goes_out_in_parts_with_increasing_msg_seq(platform: FakePlatform) -> None:
    text = "\n".join(f"第{i}条：" + "工会活动报名名单" * 20 for i in range(30))
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http).answer(_target(), Reply(text))
    parts = platform.to("/v2/groups/GROUP0001/messages")
    assert results == [Result.SENT] * len(parts)
    assert [p.body["msg_seq"] for p in parts] == [1, 2, 3]
    assert all(p.body["msg_id"] == "M1" for p in parts)
    assert "\n".join(p.body["content"] for p in parts) == text
    assert all(len(p.body["content"]) <= 2000 for p in parts)


def test_split_text_keeps_five_parts_and_says_what_was_left_out() -> None:
    parts = split_text("\n".join("x" * 1500 for _ in range(8)))
    assert len(parts) == 5
    assert parts[4].endswith("（内容太长，只发出了前面的部分。请缩小查询范围后再试。）")
    assert all(len(p) <= 2000 for p in parts)
    assert split_text("y" * 4500) == ["y" * 2000, "y" * 2000, "y" * 500]
    assert split_text("短") == ["短"]


async def test_the_token_is_renewed_shortly_before_it_expires(platform: FakePlatform) -> None:
    clock = FakeClock()
    platform.then(TOKEN_PATH, 200, {"access_token": "first", "expires_in": "120"})
    platform.then(TOKEN_PATH, 200, {"access_token": "second", "expires_in": 7200})
    async with aiohttp.ClientSession() as http:
        api = _api(platform, http, clock=clock)
        await api.answer(_target("M1"), Reply("一"))
        clock.now += 59
        await api.answer(_target("M2"), Reply("二"))
        clock.now += 2  # 61 s after the first token: within 60 s of its expiry
        await api.answer(_target("M3"), Reply("三"))
    assert len(platform.to(TOKEN_PATH)) == 2
    auth = [r.headers["Authorization"] for r in platform.to("/v2/groups/GROUP0001/messages")]
    assert auth == ["QQBot first", "QQBot first", "QQBot second"]


async def test_one_token_request_for_many_concurrent_replies(platform: FakePlatform) -> None:
    platform.then(TOKEN_PATH, 200, {"access_token": "only", "expires_in": 7200}, delay=0.2)
    async with aiohttp.ClientSession() as http:
        api = _api(platform, http)
        await asyncio.gather(*(api.answer(_target(f"M{i}"), Reply("好")) for i in range(5)))
    assert len(platform.to(TOKEN_PATH)) == 1
    assert len(platform.to("/v2/groups/GROUP0001/messages")) == 5


async def test_a_refused_token_is_renewed_and_the_reply_resent(platform: FakePlatform) -> None:
    platform.then("/v2/groups/GROUP0001/messages", 401, {"code": 11244, "message": "token expired"})
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http).answer(_target(), Reply("好"))
    assert results == [Result.SENT]
    assert len(platform.to(TOKEN_PATH)) == 2
    first, second = platform.to("/v2/groups/GROUP0001/messages")
    assert (first.headers["Authorization"], second.headers["Authorization"]) == (
        "QQBot token-1", "QQBot token-2")
    assert first.body == second.body


@pytest.mark.parametrize("status", [500, 502, 429])
async def test_server_errors_are_retried_with_the_same_msg_seq(
    platform: FakePlatform, status: int
) -> None:
    platform.then("/v2/groups/GROUP0001/messages", status, {"code": 1, "message": "busy"})
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http).answer(_target(), Reply("好"))
    assert results == [Result.SENT]
    first, second = platform.to("/v2/groups/GROUP0001/messages")
    assert first.body == second.body == {"content": "好", "msg_type": 0, "msg_id": "M1", "msg_seq": 1}


async def test_a_timeout_is_retried(platform: FakePlatform) -> None:
    platform.then("/v2/groups/GROUP0001/messages", 200, {"id": "late"}, delay=1.0)
    async with aiohttp.ClientSession() as http:
        api = _api(platform, http, timeout=aiohttp.ClientTimeout(total=0.3))
        results = await api.answer(_target(), Reply("好"))
    assert results == [Result.SENT]
    assert len(platform.to("/v2/groups/GROUP0001/messages")) == 2


async def test_giving_up_after_the_retries_is_counted(platform: FakePlatform) -> None:
    for _ in range(4):
        platform.then("/v2/groups/GROUP0001/messages", 503, None)
    registry = CollectorRegistry()
    results_counter = Counter("replies", "test", ["result"], registry=registry)
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http, results=results_counter).answer(_target(), Reply("好"))
    assert results == [Result.FAILED]
    assert len(platform.to("/v2/groups/GROUP0001/messages")) == 4
    assert registry.get_sample_value("replies_total", {"result": "failed"}) == 1.0


async def test_a_refusal_is_not_retried(platform: FakePlatform, caplog: pytest.LogCaptureFixture) -> None:
    platform.then("/v2/groups/GROUP0001/messages", 400, {"code": 304003, "message": "url not allowed"})
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http).answer(_target(), Reply("好"))
    assert results == [Result.FAILED]
    assert len(platform.to("/v2/groups/GROUP0001/messages")) == 1
    assert any("304003" in r.getMessage() for r in caplog.records)


async def test_wrong_credentials_are_reported_without_the_secret(
    platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    platform.then(TOKEN_PATH, 401, {"code": 100016, "message": "invalid appid or secret"})
    async with aiohttp.ClientSession() as http:
        results = await _api(platform, http).answer(_target(), Reply("好"))
    assert results == [Result.FAILED]
    assert platform.to("/v2/groups/GROUP0001/messages") == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("app_id" in e and "100016" in e for e in errors)
    assert not any(SECRET in e for e in errors)


async def test_retries_stop_when_the_window_closes(platform: FakePlatform) -> None:
    platform.then("/v2/groups/GROUP0001/messages", 503, None)
    async with aiohttp.ClientSession() as http:
        api = _api(platform, http, backoff=(5.0, 5.0))
        results = await asyncio.wait_for(api.answer(_target(seconds=0.5), Reply("好")), 5)
    assert results == [Result.EXPIRED]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("body", "reason"), [
    (b"{oops", "malformed_json"),
    (b"\xc3\x28", "malformed_json"),
    (b"[]", "not_an_object"),
    (b'{"op": "0"}', "no_op"),
    (b'{"op": true}', "no_op"),
    (b'{"op": 0, "t": "C2C_MESSAGE_CREATE", "d": []}', "no_data"),
    (b'{"op": 0, "t": "C2C_MESSAGE_CREATE", "d": {"id": "m", "author": {}}}', "bad_author"),
    (b'{"op": 0, "t": "C2C_MESSAGE_CREATE", "d": {"id": "m", "author": {"user_openid": "../x"}}}',
     "bad_author"),
    (b'{"op": 0, "t": "GROUP_AT_MESSAGE_CREATE", "d": {"id": "m", "content": "x",'
     b' "author": {"member_openid": "A"}}}', "bad_group"),
    (b'{"op": 0, "t": "C2C_MESSAGE_CREATE", "d": {"id": 5, "author": {"user_openid": "U"}}}',
     "bad_msg_id"),
    (b'{"op": 0, "t": "C2C_MESSAGE_CREATE", "d": {"id": "m", "content": 3,'
     b' "author": {"user_openid": "U"}}}', "bad_content"),
    (b'{"op": 0, "t": 5, "d": {}}', "bad_event_type"),
    (b"[" * 30_000 + b"]" * 30_000, "malformed_json"),
])
async def test_malformed_signed_payloads_are_400_and_change_nothing(
    client: TestClient, db: Database, platform: FakePlatform, body: bytes, reason: str
) -> None:
    response = await post(client, body)
    assert (response.status, await response.text()) == (400, reason)
    await settle(client.app)
    assert await stored(db) == (0, 0)
    assert platform.requests == []


async def test_a_body_over_64_kib_is_413(client: TestClient) -> None:
    response = await post(client, group_event("帮助" + "啊" * 40_000))
    assert (response.status, await response.text()) == (413, "body_too_large")


_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3))


_json = st.recursive(_leaf, _nested, max_leaves=10)
_payloads = st.fixed_dictionaries({
    "id": st.one_of(st.text(max_size=220), _leaf),
    "op": st.one_of(st.sampled_from([0, 13, 12]), _leaf),
    "t": st.one_of(st.sampled_from(["GROUP_AT_MESSAGE_CREATE", "C2C_MESSAGE_CREATE", "X"]), _leaf),
    "d": st.one_of(st.fixed_dictionaries({
        "id": st.one_of(st.text(max_size=220), _leaf),
        "content": st.one_of(st.text(max_size=50), _leaf),
        "timestamp": st.one_of(st.text(max_size=40), st.just("9999-12-31T23:59:59+14:00"),
                               st.just("0001-01-01T00:00:00+14:00"), _leaf),
        "group_openid": st.one_of(st.from_regex(r"\A[A-Z0-9]{1,40}\Z"), _leaf),
        "author": st.one_of(st.fixed_dictionaries({
            "member_openid": st.one_of(st.from_regex(r"\A[A-Z0-9]{1,40}\Z"), _leaf),
            "user_openid": st.one_of(st.from_regex(r"\A[A-Z0-9]{1,40}\Z"), _leaf)}), _json),
        "plain_token": st.one_of(st.text(max_size=40), _leaf),
        "event_ts": st.one_of(st.text(max_size=15), _leaf),
        "attachments": _json,
    }), _json),
})


@given(body=st.one_of(st.binary(max_size=200), _json.map(lambda v: json.dumps(v).encode()),
                      _payloads.map(lambda v: json.dumps(v).encode())))
@settings(max_examples=300, deadline=None)
def test_fuzzed_payloads_only_ever_parse_or_get_a_4xx(body: bytes) -> None:
    try:
        payload = load(body)
        if payload["op"] == 13:
            validation(payload)
        else:
            message_event(payload)
    except Rejected as exc:
        assert 400 <= exc.status < 500


@given(payload=_payloads)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_fuzzed_signed_payloads_never_get_a_5xx(
    client: TestClient, db: Database, payload: dict[str, Any]
) -> None:
    before = await stored(db)
    response = await post(client, json.dumps(payload).encode())
    assert response.status in (200, 400), await response.text()
    await settle(client.app)
    if response.status == 400:
        assert await stored(db) == before
