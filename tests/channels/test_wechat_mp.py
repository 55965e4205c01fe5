"""The WeChat Official Account channel: /wechat/mp and customer-service messages."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from bot.appkeys import PIPELINE
from bot.channels.base import Rejected
from bot.channels.wechat_mp import MpSender
from bot.channels.wechat_xml import MessageCipher, message_id, parse_xml, read_message
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker, RetryLater, Undeliverable
from bot.render import say
from models.db import Database
from models.org import Role
from models.outbox import DEAD, QUEUED, SENT
from tests.channels.vectors import VECTORS
from tests.channels.wechat_fakes import (
    SLOW,
    FakeWechat,
    FixedClock,
    Stored,
    base_url,
    decrypt,
    encrypt,
    eventually,
    field_of,
    message_xml,
    metric,
    outbox_rows,
    rejected,
    sign,
    start,
    stored,
    use_database,
)
from tests.factories import make_member, make_settings

TOKEN = "union-token"
APP_ID = "wx0123456789abcdef"
KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
ZHANG = "oZhangSan_openid-01"
OFFICER = "oOfficer_openid-02"
PATH = "/wechat/mp"


def mp_settings(
    *, aes: bool = False, window: int = 0, budget: float = 4.0, api_base: str = "http://127.0.0.1:9",
    **section: Any,
) -> Settings:
    values = {
        "enabled": True, "app_id": APP_ID, "app_secret": "app-secret", "token": TOKEN,
        "encoding_aes_key": KEY if aes else "", "reply_budget_seconds": budget, "api_base": api_base,
    } | section
    return make_settings(wechat_mp=values, security={"replay_window_seconds": window})


def query(
    *, timestamp: str | None = None, nonce: str = "4711", encrypted: str | None = None
) -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    found = {"timestamp": stamp, "nonce": nonce, "signature": sign(TOKEN, stamp, nonce), "openid": ZHANG}
    if encrypted is not None:
        found |= {"encrypt_type": "aes", "msg_signature": sign(TOKEN, stamp, nonce, encrypted)}
    return found


def envelope(encrypted: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_union]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")


async def post_plain(client: TestClient, xml: str | bytes, **kw: Any) -> tuple[int, str]:
    response = await client.post(PATH, params=query(**kw), data=xml)
    return response.status, await response.text()


async def post_safe(
    client: TestClient, xml: str, *, key: str = KEY, app_id: str = APP_ID, **kw: Any
) -> tuple[int, str]:
    encrypted = encrypt(key, app_id, xml)
    response = await client.post(PATH, params=query(encrypted=encrypted, **kw), data=envelope(encrypted))
    return response.status, await response.text()


def open_reply(xml: str, *, key: str = KEY, app_id: str = APP_ID, token: str = TOKEN) -> str:
    """The inner reply XML of an encrypted answer, after checking its signature."""
    encrypted, stamp, nonce = field_of(xml, "Encrypt"), field_of(xml, "TimeStamp"), field_of(xml, "Nonce")
    assert field_of(xml, "MsgSignature") == sign(token, stamp, nonce, encrypted)
    return decrypt(key, app_id, encrypted)


_ids = iter(range(7_000_000_000_000_000_000, 8_000_000_000_000_000_000))


def text_message(content: str, *, user: str = ZHANG, msg_id: str | None = None) -> str:
    return message_xml(user, Content=content, MsgId=msg_id or str(next(_ids)))


async def ask(client: TestClient, content: str, *, aes: bool = False, **kw: Any) -> str:
    """What the bot answers to ``content`` (decrypted in safe mode)."""
    xml = text_message(content, **kw)
    status, body = await (post_safe(client, xml) if aes else post_plain(client, xml))
    assert status == 200, body
    inner = open_reply(body) if aes else body
    assert field_of(inner, "ToUserName") == kw.get("user", ZHANG)
    assert field_of(inner, "FromUserName") == "gh_union"
    return field_of(inner, "Content")


Connect = Callable[[Settings], Awaitable[TestClient]]


@pytest.fixture
def app_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    use_database(monkeypatch, db)
    return db


@pytest.fixture
def connect(app_db: Database, aiohttp_client: Any) -> Connect:
    """Start apps on the test database; they are closed before the database is."""
    return lambda settings: start(aiohttp_client, settings)


# ---------------------------------------------------------------- the published vectors


async def test_server_check_with_the_published_signature(connect: Connect, app_db: Database) -> None:
    vector = VECTORS["wechat_mp_plain_signature"]
    client = await connect(make_settings(
        wechat_mp={"enabled": True, "app_id": APP_ID, "token": vector["token"]}))
    params = {"timestamp": vector["timestamp"], "nonce": vector["nonce"], "echostr": "5837397520001"}
    ok = await client.get(PATH, params=params | {"signature": vector["signature"]})
    assert ok.status == 200 and await ok.text() == "5837397520001"
    wrong = await client.get(PATH, params=params | {"signature": vector["wrong_signature"]})
    assert wrong.status == 401
    assert await metric(client, rejected("wechat_mp", "bad_signature")) == 1.0


async def test_the_published_safe_mode_message_is_decrypted_and_answered_encrypted(
    connect: Connect, app_db: Database
) -> None:
    vector = VECTORS["wechat_mp_aes"]
    client = await connect(make_settings(wechat_mp={
        "enabled": True, "app_id": vector["app_id"], "token": vector["token"],
        "encoding_aes_key": vector["encoding_aes_key"]}))
    params = {
        "timestamp": vector["timestamp"], "nonce": vector["nonce"], "signature": vector["signature"],
        "encrypt_type": "aes", "msg_signature": vector["msg_signature"],
        "openid": vector["plaintext"]["FromUserName"],
    }
    body = ("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
            f"<Encrypt><![CDATA[{vector['encrypt']}]]></Encrypt></xml>")
    response = await client.post(PATH, params=params, data=body)
    assert response.status == 200
    answer = await response.text()
    crypto = WeChatCrypto(vector["token"], vector["encoding_aes_key"], vector["app_id"])
    inner = crypto.decrypt_message(
        answer, field_of(answer, "MsgSignature"), field_of(answer, "TimeStamp"), field_of(answer, "Nonce"))
    assert field_of(inner, "ToUserName") == vector["plaintext"]["FromUserName"]
    assert field_of(inner, "FromUserName") == "gh_10f6c3c3ac5a"
    assert field_of(inner, "MsgType") == "text"
    assert field_of(inner, "Content") == say("basics", "unknown_unbound", bot_name="工会助手")
    assert (await stored(app_db)).records == 1

    tampered = await client.post(PATH, params=params | {"msg_signature": "0" * 40}, data=body)
    assert tampered.status == 401
    assert (await stored(app_db)).records == 1


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("aes", [False, True], ids=["plaintext", "safe-mode"])
async def test_a_follower_binds_and_asks_who_they_are(
    connect: Connect, app_db: Database, aes: bool
) -> None:
    await make_member(app_db, "10001", "张三")
    client = await connect(mp_settings(aes=aes))
    assert await ask(client, "绑定 10001 张三", aes=aes) == (
        "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。")
    me = await ask(client, "我", aes=aes)
    assert me.startswith("张三（工号 10001）\n分工会：计算机学院分工会")
    assert "已绑定：微信公众号" in me
    help_text = await ask(client, "帮助", aes=aes)
    assert "绑定 <工号> <姓名>" in help_text and "你还没有绑定工号" not in help_text
    assert await stored(app_db) == Stored(records=3, accounts=1, outbox=0)


@pytest.mark.parametrize("extra", [{}, {"encrypt_type": "raw"}, {"msg_signature": "0" * 40}],
                         ids=["plain", "raw", "msg-signature-only"])
async def test_a_safe_mode_account_refuses_a_plaintext_message(
    connect: Connect, app_db: Database, extra: dict[str, str]
) -> None:
    await make_member(app_db, "10001", "张三", roles=[Role.OFFICER], accounts=[("wechat_mp", OFFICER)])
    client = await connect(mp_settings(aes=True, window=300))
    forged = text_message("我", user=OFFICER)
    response = await client.post(PATH, params=query() | extra, data=forged)
    assert (response.status, await response.text()) == (403, "not_encrypted")
    assert await metric(client, rejected("wechat_mp", "not_encrypted")) == 1.0
    assert await stored(app_db) == Stored(records=0, accounts=1, outbox=0)


async def test_in_compatible_mode_only_the_encrypted_part_is_read(
    connect: Connect, app_db: Database
) -> None:
    await make_member(app_db, "10001", "张三", roles=[Role.OFFICER], accounts=[("wechat_mp", OFFICER)])
    client = await connect(mp_settings(aes=True, window=300))
    encrypted = encrypt(KEY, APP_ID, text_message("帮助", msg_id="5001"))
    forged = text_message("我", user=OFFICER, msg_id="5002")
    body = forged.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    response = await client.post(PATH, params=query(encrypted=encrypted), data=body)
    assert response.status == 200
    inner = open_reply(await response.text())
    assert field_of(inner, "ToUserName") == ZHANG
    assert "你还没有绑定工号" in field_of(inner, "Content")
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)


async def test_subscribing_gets_the_binding_instructions_and_a_bound_member_a_welcome_back(
    connect: Connect, app_db: Database
) -> None:
    await make_member(app_db, "10001", "张三", accounts=[("wechat_mp", ZHANG)])
    client = await connect(mp_settings(aes=True))
    status, body = await post_safe(client, message_xml("oNewcomer", kind="event", Event="subscribe"))
    assert status == 200
    welcome = field_of(open_reply(body), "Content")
    assert "绑定 10001 张三" in welcome and "示范大学工会" in welcome
    status, body = await post_safe(client, message_xml(ZHANG, kind="event", Event="subscribe"))
    assert field_of(open_reply(body), "Content") == "欢迎回来，张三！发送「帮助」查看能用的命令。"
    status, body = await post_safe(client, message_xml(ZHANG, kind="event", Event="unsubscribe"))
    assert (status, body) == (200, "success")
    assert await stored(app_db) == Stored(records=0, accounts=1, outbox=0)


@pytest.mark.parametrize("kind", ["image", "video", "location", "link", "voice"])
async def test_other_message_types_get_one_polite_sentence(
    connect: Connect, app_db: Database, kind: str
) -> None:
    client = await connect(mp_settings())
    xml = message_xml(ZHANG, kind=kind, MsgId="123", PicUrl="http://example.invalid/a.jpg")
    status, body = await post_plain(client, xml)
    assert status == 200
    assert field_of(body, "Content") == "抱歉，我只看得懂文字消息。请直接发送文字，例如：帮助"
    assert (await stored(app_db)).records == 0


async def test_a_recognised_voice_message_is_read_as_text(connect: Connect, app_db: Database) -> None:
    client = await connect(mp_settings())
    xml = message_xml(ZHANG, kind="voice", MsgId="991", MediaId="m1", Format="amr", Recognition="帮助")
    status, body = await post_plain(client, xml)
    assert status == 200 and "你还没有绑定工号" in field_of(body, "Content")


async def test_a_reply_with_xml_breaking_characters_stays_well_formed(
    connect: Connect, app_db: Database
) -> None:
    client = await connect(mp_settings(aes=True))
    pipeline = client.app[PIPELINE]

    async def tricky(incoming: Incoming) -> Reply:
        return Reply("a]]>b<c>&d\x01e")

    pipeline.handle = tricky  # type: ignore[method-assign]
    status, body = await post_safe(client, text_message("x"))
    assert status == 200
    assert parse_xml(open_reply(body).encode())["Content"] == "a]]>b<c>&de"


# ---------------------------------------------------------------- dedup


async def test_three_concurrent_retries_do_the_work_once_and_get_the_same_reply(
    connect: Connect, app_db: Database
) -> None:
    await make_member(app_db, "10001", "张三")
    client = await connect(mp_settings(aes=True))
    xml = text_message("绑定 10001 张三", msg_id="6054768590064713728")
    encrypted = encrypt(KEY, APP_ID, xml)
    params = query(encrypted=encrypted)
    responses = await asyncio.gather(*(
        client.post(PATH, params=params, data=envelope(encrypted)) for _ in range(3)))
    answers = [field_of(open_reply(await r.text()), "Content") for r in responses]
    assert answers == ["绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。"] * 3
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)
    assert await metric(client, 'unionbot_messages_duplicate_total{channel="wechat_mp"}') == 2.0


async def test_a_retry_after_a_restart_gets_the_stored_reply(connect: Connect, app_db: Database) -> None:
    await make_member(app_db, "10001", "张三")
    xml = text_message("绑定 10001 张三", msg_id="42")
    first = await connect(mp_settings())
    _, before = await post_plain(first, xml)
    await first.close()
    second = await connect(mp_settings())
    _, after = await post_plain(second, xml)
    assert field_of(after, "Content") == field_of(before, "Content") == (
        "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。")
    assert (await stored(app_db)).accounts == 1 and (await stored(app_db)).records == 1


async def test_a_replayed_request_within_the_window_is_answered_from_the_dedup_record(
    app_db: Database, aiohttp_client: Any
) -> None:
    await make_member(app_db, "10001", "张三")
    clock = FixedClock(1_767_225_600)
    client = await start(aiohttp_client, mp_settings(window=300), clock)
    xml = text_message("绑定 10001 张三")
    first = await post_plain(client, xml, timestamp="1767225590")
    clock.now += 0.999
    again = await post_plain(client, xml, timestamp="1767225590")
    assert first == again and first[0] == 200
    assert field_of(first[1], "CreateTime") == "1767225600"
    assert (await stored(app_db)).accounts == 1


async def test_safe_mode_answers_carry_the_time_of_the_clock(app_db: Database, aiohttp_client: Any) -> None:
    clock = FixedClock(1_767_225_600.7)
    client = await start(aiohttp_client, mp_settings(aes=True, window=300), clock)
    status, body = await post_safe(client, text_message("帮助"), timestamp="1767225700")
    assert status == 200 and field_of(body, "TimeStamp") == "1767225600"
    assert field_of(open_reply(body), "CreateTime") == "1767225600"
    clock.now = 1_767_225_901
    status, _ = await post_safe(client, text_message("帮助"), timestamp="1767225600")
    assert status == 403


def event_id(user: str = ZHANG, *, created: int = 1_700_000_000, **fields: str) -> str:
    xml = message_xml(user, kind="event", created=created, **fields)
    return message_id(read_message(parse_xml(xml.encode())))


def test_events_of_one_member_in_the_same_second_keep_apart_and_a_retry_keeps_its_key() -> None:
    keys = [
        event_id(Event="CLICK", EventKey="V1001_EVENTS"),
        event_id(Event="CLICK", EventKey="V1001_HELP"),
        event_id(Event="subscribe"),
        event_id(Event="unsubscribe"),
        event_id(Event="LOCATION", Latitude="31.2", Longitude="121.5"),
        event_id(Event="LOCATION", Latitude="31.3", Longitude="121.5"),
        event_id("oSomeoneElse", Event="subscribe"),
        event_id(created=1_700_000_001, Event="subscribe"),
    ]
    assert len(set(keys)) == len(keys)
    assert event_id(Event="CLICK", EventKey="V1001_HELP") == keys[1]
    assert keys[1].startswith(f"{ZHANG}:1700000000:click:")


def test_a_message_or_event_with_a_msg_id_is_keyed_by_it() -> None:
    text = read_message(parse_xml(message_xml(ZHANG, Content="帮助", MsgId="6054768590064713728").encode()))
    assert message_id(text) == "6054768590064713728"
    assert event_id(Event="TEMPLATESENDJOBFINISH", MsgID="200163836", Status="success") == "200163836"


def test_an_event_key_stays_short_whatever_the_event_name() -> None:
    key = event_id("o" * 128, created=999_999_999_999, Event="x" * 5000, EventKey="y" * 5000)
    assert len(f"late:wechat_mp:{key}") <= 255


# ---------------------------------------------------------------- late and long replies


async def test_a_late_reply_is_acknowledged_and_sent_as_a_customer_service_message(
    connect: Connect, aiohttp_server: Any, app_db: Database
) -> None:
    platform = FakeWechat()
    server = await aiohttp_server(platform.app())
    client = await connect(mp_settings(aes=True, budget=0.5, api_base=base_url(server)))
    pipeline = client.app[PIPELINE]
    handle = pipeline.handle

    async def slow(incoming: Incoming) -> Reply | None:
        await asyncio.sleep(1.0)
        return await handle(incoming)

    pipeline.handle = slow  # type: ignore[method-assign]
    started = time.monotonic()
    status, body = await post_safe(client, text_message("帮助", msg_id="777"))
    assert (status, body) == (200, "success")
    assert time.monotonic() - started < 0.9

    async def delivered() -> bool:
        return bool(platform.sends)

    await eventually(delivered)
    send = platform.sends[0]
    assert send.path == "/cgi-bin/message/custom/send"
    assert send.query == {"access_token": "TOKEN-1"}
    assert send.body is not None and send.body["touser"] == ZHANG and send.body["msgtype"] == "text"
    assert "你还没有绑定工号" in send.body["text"]["content"]
    token = platform.token_requests[0]
    assert token.body == {"grant_type": "client_credential", "appid": APP_ID, "secret": "app-secret",
                          "force_refresh": False}

    async def marked() -> bool:
        rows = await outbox_rows(app_db)
        return bool(rows) and rows[0].status == SENT

    await eventually(marked)
    assert [r.key for r in await outbox_rows(app_db)] == ["late:wechat_mp:777"]


async def test_a_long_reply_sends_its_first_part_at_once_and_the_rest_in_order(
    connect: Connect, aiohttp_server: Any, app_db: Database
) -> None:
    platform = FakeWechat()
    server = await aiohttp_server(platform.app())
    client = await connect(mp_settings(api_base=base_url(server)))
    lines = [f"第{i}行：工会活动报名名单与经费公示说明" for i in range(200)]
    long_text = "\n".join(lines)

    async def long(incoming: Incoming) -> Reply:
        return Reply(long_text)

    client.app[PIPELINE].handle = long  # type: ignore[method-assign]
    status, body = await post_plain(client, text_message("名单", msg_id="888"))
    first = field_of(body, "Content")
    assert status == 200 and len(first.encode()) <= 2048 and long_text.startswith(first + "\n")

    async def all_sent() -> bool:
        return "\n".join([first, *platform.contents()]) == long_text

    await eventually(all_sent)
    assert all(len(part.encode()) <= 2048 for part in platform.contents())
    assert [r.key for r in await outbox_rows(app_db)] == ["more:wechat_mp:888"]


# ---------------------------------------------------------------- hostile requests


@pytest.fixture
async def hostile(connect: Connect, app_db: Database) -> TestClient:
    await make_member(app_db, "10001", "张三")
    return await connect(mp_settings(aes=True, window=300))


async def refused(
    client: TestClient, db: Database, response: aiohttp.ClientResponse, status: int, reason: str
) -> None:
    assert response.status == status, await response.text()
    assert await metric(client, rejected("wechat_mp", reason)) >= 1.0
    assert await stored(db) == Stored(records=0, accounts=0, outbox=0)


BIND = text_message("绑定 10001 张三")


async def test_a_wrong_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    params = query() | {"signature": sign("guessed-token", str(int(time.time())), "4711")}
    await refused(hostile, app_db, await hostile.post(PATH, params=params, data=BIND), 401, "bad_signature")


async def test_a_wrong_message_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, APP_ID, BIND)
    params = query(encrypted=encrypted) | {"msg_signature": sign(TOKEN, "1", "2", encrypted)}
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 401, "bad_signature")


async def test_a_missing_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    params = {k: v for k, v in query().items() if k != "signature"}
    await refused(hostile, app_db, await hostile.post(PATH, params=params, data=BIND), 401, "bad_signature")


async def test_a_stale_timestamp_is_refused_before_anything_is_read(
    hostile: TestClient, app_db: Database
) -> None:
    old = str(int(time.time()) - 1000)
    encrypted = encrypt(KEY, APP_ID, BIND)
    params = query(timestamp=old, encrypted=encrypted)
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 403, "stale_timestamp")


async def test_the_published_vector_replayed_today_is_stale(hostile: TestClient, app_db: Database) -> None:
    vector = VECTORS["wechat_mp_plain_signature"]
    params = {k: vector[k] for k in ("timestamp", "nonce", "signature")} | {"echostr": "1"}
    await refused(hostile, app_db, await hostile.get(PATH, params=params), 403, "stale_timestamp")


async def test_a_timestamp_that_is_not_a_number_is_refused(hostile: TestClient, app_db: Database) -> None:
    response = await hostile.post(PATH, params=query(timestamp="1e9"), data=BIND)
    await refused(hostile, app_db, response, 400, "bad_timestamp")


async def test_an_oversized_body_is_refused(hostile: TestClient, app_db: Database) -> None:
    body = envelope(encrypt(KEY, APP_ID, text_message("绑定 10001 张三" + "啊" * 30_000)))
    assert len(body.encode()) > 64 * 1024
    params = query(encrypted=field_of(body, "Encrypt"))
    await refused(hostile, app_db, await hostile.post(PATH, params=params, data=body), 413, "body_too_large")


@pytest.mark.parametrize(("body", "reason"), [
    (b"<xml><ToUserName>gh", "malformed_xml"),
    (b"not xml at all", "malformed_xml"),
    (b"", "malformed_xml"),
    (b"<xml><Content>\xff\xfe</Content></xml>", "bad_encoding"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
     b"<xml><Content>&lol2;</Content></xml>", "xml_declarations"),
    (b'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
     "xml_declarations"),
    (b"<xml><Content>&undefined;</Content></xml>", "malformed_xml"),
    (b"<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", "repeated_field"),
    (b"<notxml><MsgType>text</MsgType></notxml>", "not_wechat_xml"),
], ids=["truncated", "garbage", "empty", "utf8", "entity-bomb", "external-entity", "undefined-entity",
        "repeated", "root"])
async def test_bad_plaintext_bodies_are_refused(
    connect: Connect, app_db: Database, body: bytes, reason: str
) -> None:
    client = await connect(mp_settings(window=300))
    await refused(client, app_db, await client.post(PATH, params=query(), data=body), 400, reason)


async def test_an_entity_bomb_inside_the_ciphertext_is_refused(hostile: TestClient, app_db: Database) -> None:
    bomb = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            "<xml><Content>&b;</Content></xml>")
    status, _ = await post_safe(hostile, bomb)
    assert status == 400
    assert await metric(hostile, rejected("wechat_mp", "xml_declarations")) == 1.0


async def test_a_text_without_content_gets_the_text_only_sentence(
    hostile: TestClient, app_db: Database
) -> None:
    status, body = await post_safe(hostile, message_xml(ZHANG, MsgId="1"))
    assert status == 200 and "只看得懂文字" in field_of(open_reply(body), "Content")
    assert (await stored(app_db)).records == 0


@pytest.mark.parametrize(("xml", "reason"), [
    (message_xml(ZHANG, Content="你好"), "missing_fields"),
    (message_xml("o bad id", Content="你好", MsgId="1"), "bad_user_id"),
    (message_xml(ZHANG, Content="你好", MsgId="12ab"), "bad_msg_id"),
    (message_xml(ZHANG, kind="event"), "missing_fields"),
    ("<xml><Content>你好</Content></xml>", "missing_fields"),
], ids=["no-msgid", "space-in-id", "msgid-letters", "event-without-name", "no-sender"])
async def test_messages_missing_what_they_need_are_refused(
    hostile: TestClient, app_db: Database, xml: str, reason: str
) -> None:
    status, _ = await post_safe(hostile, xml)
    assert status == 400
    assert await metric(hostile, rejected("wechat_mp", reason)) == 1.0
    assert (await stored(app_db)).records == 0


async def test_a_message_sealed_with_another_key_is_refused(hostile: TestClient, app_db: Database) -> None:
    status, _ = await post_safe(hostile, BIND, key=OTHER_KEY)
    assert status in (400, 403)
    assert (await stored(app_db)).records == 0


async def test_a_message_for_another_app_id_is_refused(hostile: TestClient, app_db: Database) -> None:
    status, _ = await post_safe(hostile, BIND, app_id="wxSomeOtherAccount")
    assert status == 403
    assert await metric(hostile, rejected("wechat_mp", "wrong_receiver")) == 1.0
    assert (await stored(app_db)).accounts == 0


@pytest.mark.parametrize("damage", [
    lambda s: s[:-8], lambda s: ("B" if s[0] == "A" else "A") + s[1:], lambda s: s[: len(s) // 2 + 1],
    lambda s: "!!!" + s, lambda s: base64.b64encode(b"x" * 48).decode(), lambda s: "",
], ids=["truncated", "flipped", "halved", "not-base64", "random-blocks", "empty"])
async def test_a_corrupted_ciphertext_is_refused(hostile: TestClient, app_db: Database, damage: Any) -> None:
    broken = damage(encrypt(KEY, APP_ID, BIND))
    response = await hostile.post(PATH, params=query(encrypted=broken), data=envelope(broken))
    assert response.status in (400, 403)
    assert await stored(app_db) == Stored(records=0, accounts=0, outbox=0)


async def test_a_check_request_without_echostr_is_refused(hostile: TestClient, app_db: Database) -> None:
    await refused(hostile, app_db, await hostile.get(PATH, params=query()), 400, "missing_params")


# ---------------------------------------------------------------- fuzzing


@given(st.binary(max_size=2048))
def test_the_xml_parser_only_ever_refuses_with_400(body: bytes) -> None:
    try:
        fields = parse_xml(body)
    except Rejected as exc:
        assert exc.status == 400
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@given(st.text(max_size=400) | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()))
def test_decryption_only_ever_refuses_with_400_or_403(ciphertext: str) -> None:
    try:
        MessageCipher(KEY, APP_ID).decrypt(ciphertext)
    except Rejected as exc:
        assert exc.status in (400, 403)


_FIELD = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event"])
_VALUE = st.text(max_size=40) | st.sampled_from(["text", "event", "subscribe", "123", ZHANG, ""])


@st.composite
def wechat_bodies(draw: Any) -> bytes:
    """Mostly XML shaped like a WeChat message, with odd fields, values and damage."""
    fields = draw(st.lists(st.tuples(_FIELD, _VALUE), max_size=8))
    body = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields) + "</xml>"
    raw = body.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=8)) + raw[at:]
    return raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=wechat_bodies() | st.binary(max_size=512))
async def test_fuzzed_bodies_never_cause_a_5xx_and_refusals_store_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, aiohttp_client: Any, body: bytes
) -> None:
    use_database(monkeypatch, sqlite_db)
    client = await start(aiohttp_client, mp_settings(aes=True))
    try:
        before = await stored(sqlite_db)
        plain = await client.post(PATH, params=query(), data=body)
        assert plain.status < 500
        if plain.status >= 400:
            assert await stored(sqlite_db) == before
        text = body.decode("utf-8", "replace")
        encrypted = encrypt(KEY, APP_ID, text)
        safe = await client.post(PATH, params=query(encrypted=encrypted), data=envelope(encrypted))
        assert safe.status < 500
        outer = await client.post(PATH, params=query(encrypted=text), data=body)
        assert outer.status < 500
    finally:
        await client.close()


# ---------------------------------------------------------------- the customer-service sender


@pytest.fixture
async def platform(aiohttp_server: Any) -> tuple[FakeWechat, str]:
    fake = FakeWechat()
    server = await aiohttp_server(fake.app())
    return fake, base_url(server)


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        yield session


def sender_for(base: str, http: aiohttp.ClientSession, **section: Any) -> MpSender:
    return MpSender(mp_settings(api_base=base, **section).wechat_mp, http)


FOLLOWER = Target("wechat_mp", "user", ZHANG)


async def test_the_sender_fetches_a_token_once_and_sends_text(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("端午节慰问品已到，请到工会领取。"), "k1")
    await sender.send(FOLLOWER, Reply("**提醒**：本周五截止报名", markdown=True), "k2")
    assert len(fake.token_requests) == 1
    assert [s.body for s in fake.sends] == [
        {"touser": ZHANG, "msgtype": "text", "text": {"content": "端午节慰问品已到，请到工会领取。"}},
        {"touser": ZHANG, "msgtype": "text", "text": {"content": "提醒：本周五截止报名"}},
    ]
    assert {s.query["access_token"] for s in fake.sends} == {"TOKEN-1"}


async def test_concurrent_sends_share_one_token_fetch(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await asyncio.gather(*(sender.send(FOLLOWER, Reply(f"第{i}条"), f"k{i}") for i in range(5)))
    assert len(fake.token_requests) == 1 and len(fake.sends) == 5


@pytest.mark.parametrize("code", [40001, 40014, 42001])
async def test_an_expired_token_is_renewed_once_and_the_message_sent(
    platform: Any, http: Any, code: int
) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("一"), "k1")
    fake.answers.append({"errcode": code, "errmsg": "invalid credential"})
    await sender.send(FOLLOWER, Reply("二"), "k2")
    assert [s.query["access_token"] for s in fake.sends] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert fake.contents() == ["一", "二", "二"]
    assert len(fake.token_requests) == 2


async def test_a_token_the_platform_keeps_refusing_is_force_refreshed(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("一"), "k1")
    fake.expire_tokens()
    fake.token_answers.append({"access_token": "TOKEN-1", "expires_in": 7200})  # stable_token gives it again
    await sender.send(FOLLOWER, Reply("二"), "k2")
    assert [r.body["force_refresh"] for r in fake.token_requests if r.body] == [False, False, True]
    assert fake.sends[-1].query["access_token"] == "TOKEN-2"


async def test_a_token_is_renewed_before_it_expires(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.token_lifetime = 2
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("一"), "k1")
    await asyncio.sleep(1.6)  # renewed a quarter of the lifetime early
    await sender.send(FOLLOWER, Reply("二"), "k2")
    assert [s.query["access_token"] for s in fake.sends] == ["TOKEN-1", "TOKEN-2"]


@pytest.mark.parametrize("code", [45009, 45011, 45047])
async def test_rate_limit_codes_mean_retry_later(platform: Any, http: Any, code: int) -> None:
    fake, base = platform
    fake.answers.append({"errcode": code, "errmsg": "api freq out of limit"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.after == 60.0 and str(code) in info.value.reason


async def test_a_busy_platform_means_retry_later_with_backoff(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.answers.append({"errcode": -1, "errmsg": "system error"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.after is None and info.value.reason == "微信公众号系统繁忙，稍后重试"


async def test_the_48_hour_window_is_undeliverable_with_a_reason(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.answers.append({"errcode": 45015, "errmsg": "response out of time limit"})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.reason == (
        "微信公众号拒绝发送（错误码 45015：response out of time limit）："
        "对方超过 48 小时没有给公众号发消息，公众号暂时不能主动发给 TA")


@pytest.mark.parametrize("answer", [500, 502, 429, SLOW], ids=["500", "502", "429", "timeout"])
async def test_server_errors_and_timeouts_mean_retry_later(platform: Any, http: Any, answer: Any) -> None:
    fake, base = platform
    fake.answers.append(answer)
    with pytest.raises(RetryLater):
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")


async def test_an_unreachable_platform_means_retry_later(http: Any) -> None:
    with pytest.raises(RetryLater) as info:
        await sender_for("http://127.0.0.1:9", http).send(FOLLOWER, Reply("通知"), "k1")
    assert "连接微信公众号接口失败" in info.value.reason and "127.0.0.1" not in info.value.reason


async def test_a_refused_token_fetch_explains_the_ip_whitelist(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.token_answers.append({"errcode": 40164, "errmsg": "invalid ip 1.2.3.4, not in whitelist"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert "IP 白名单" in info.value.reason and "app-secret" not in info.value.reason
    assert fake.sends == []


async def test_what_cannot_be_sent_is_undeliverable(platform: Any, http: Any) -> None:
    _, base = platform
    with pytest.raises(Undeliverable, match="不能向这类对象"):
        await sender_for(base, http).send(Target("wechat_mp", "group", "g"), Reply("x"), "k1")
    with pytest.raises(Undeliverable, match="app_secret"):
        await sender_for(base, http, app_secret="").send(FOLLOWER, Reply("x"), "k1")


async def test_a_long_message_goes_in_parts_and_a_retry_skips_the_parts_sent(
    platform: Any, http: Any
) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    text = "\n".join(f"{i:03d} 教职工活动报名须知，请仔细阅读" for i in range(150))
    fake.answers.extend([{"errcode": 0}, {"errcode": 45047, "errmsg": "out of response count limit"}])
    with pytest.raises(RetryLater):
        await sender.send(FOLLOWER, Reply(text), "long")
    await sender.send(FOLLOWER, Reply(text), "long")
    contents = fake.contents()
    assert len(contents) == 5 and contents[1] == contents[2]  # the refused part, then again
    assert "\n".join([contents[0], *contents[2:]]) == text
    assert all(len(c.encode()) <= 2048 for c in contents)


async def test_through_the_worker_rows_end_sent_retried_or_dead(
    platform: Any, http: Any, db: Database
) -> None:
    fake, base = platform
    settings = make_settings(
        wechat_mp={"enabled": True, "app_id": APP_ID, "app_secret": "s", "token": TOKEN, "api_base": base},
        outbox={"concurrency": 1},
    )
    async with db.write() as session:
        for key in ("ok", "busy", "gone"):
            await enqueue(session, settings=settings, key=key, target=FOLLOWER, reply=Reply(key))
    fake.answers.extend([
        {"errcode": 0}, {"errcode": 45009, "errmsg": "api freq out of limit"},
        {"errcode": 43004, "errmsg": "require subscribe"},
    ])
    worker = OutboxWorker(db=db, settings=settings, senders={"wechat_mp": MpSender(settings.wechat_mp, http)})
    assert await worker.run_once() == 3
    rows = {r.key: r for r in await outbox_rows(db)}
    assert rows["ok"].status == SENT
    assert rows["busy"].status == QUEUED and "45009" in (rows["busy"].last_error or "")
    assert rows["busy"].next_attempt_at.timestamp() - time.time() > 50
    assert rows["gone"].status == DEAD and "对方已取消关注公众号" in (rows["gone"].last_error or "")
