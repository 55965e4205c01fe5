"""The WeChat Official Account channel: /wechat/mp and customer-service messages."""

from __future__ import annotations

import asyncio
import base64
import time
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
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker, RetryLater, Undeliverable
from bot.render import say
from models.db import Database
from models.org import Role
from models.outbox import DEAD, QUEUED, SENT
from tests.channels.mp_helpers import (
    APP_ID,
    BIND,
    FOLLOWER,
    KEY,
    OFFICER,
    PATH,
    TOKEN,
    ZHANG,
    ask,
    envelope,
    mp_settings,
    open_reply,
    post_plain,
    post_safe,
    query,
    text_message,
)
from tests.channels.vectors import VECTORS
from tests.channels.wechat_fakes import (
    Connect,
    FakeWechat,
    FixedClock,
    Stored,
    base_url,
    encrypt,
    eventually,
    field_of,
    message_xml,
    metric,
    outbox_rows,
    refused,
    rejected,
    sign,
    start,
    stored,
    use_database,
)
from tests.factories import make_member, make_settings

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


async def test_a_follower_binds_and_asks_who_they_are_in_plaintext_mode(
    connect: Connect, app_db: Database
) -> None:
    await make_member(app_db, "10001", "张三")
    client = await connect(mp_settings())
    assert await ask(client, "绑定 10001 张三") == (
        "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。")
    me = await ask(client, "我")
    assert me.startswith("张三（工号 10001）\n分工会：计算机学院分工会")
    assert "已绑定：微信公众号" in me
    help_text = await ask(client, "帮助")
    assert "【基本】帮助、绑定" in help_text and "你还没有绑定工号" not in help_text
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


async def test_a_wrong_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    params = query() | {"signature": sign("guessed-token", str(int(time.time())), "4711")}
    response = await hostile.post(PATH, params=params, data=BIND)
    await refused(hostile, app_db, response, 401, rejected("wechat_mp", "bad_signature"))


async def test_a_missing_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    params = {k: v for k, v in query().items() if k != "signature"}
    response = await hostile.post(PATH, params=params, data=BIND)
    await refused(hostile, app_db, response, 401, rejected("wechat_mp", "bad_signature"))


async def test_the_published_vector_replayed_today_is_stale(hostile: TestClient, app_db: Database) -> None:
    vector = VECTORS["wechat_mp_plain_signature"]
    params = {k: vector[k] for k in ("timestamp", "nonce", "signature")} | {"echostr": "1"}
    response = await hostile.get(PATH, params=params)
    await refused(hostile, app_db, response, 403, rejected("wechat_mp", "stale_timestamp"))


async def test_a_timestamp_that_is_not_a_number_is_refused(hostile: TestClient, app_db: Database) -> None:
    response = await hostile.post(PATH, params=query(timestamp="1e9"), data=BIND)
    await refused(hostile, app_db, response, 400, rejected("wechat_mp", "bad_timestamp"))


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
    response = await client.post(PATH, params=query(), data=body)
    await refused(client, app_db, response, 400, rejected("wechat_mp", reason))


async def test_a_text_without_content_gets_the_text_only_sentence(
    hostile: TestClient, app_db: Database
) -> None:
    status, body = await post_safe(hostile, message_xml(ZHANG, MsgId="1"))
    assert status == 200 and "只看得懂文字" in field_of(open_reply(body), "Content")
    assert (await stored(app_db)).records == 0


async def test_a_check_request_without_echostr_is_refused(hostile: TestClient, app_db: Database) -> None:
    response = await hostile.get(PATH, params=query())
    await refused(hostile, app_db, response, 400, rejected("wechat_mp", "missing_params"))


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


def sender_for(base: str, http: aiohttp.ClientSession, **section: Any) -> MpSender:
    return MpSender(mp_settings(api_base=base, **section).wechat_mp, http)


async def test_the_sender_fetches_a_token_once_and_sends_text(wechat: Any, http: Any) -> None:
    fake, base = wechat
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("端午节慰问品已到，请到工会领取。"), "k1")
    await sender.send(FOLLOWER, Reply("**提醒**：本周五截止报名", markdown=True), "k2")
    assert len(fake.token_requests) == 1
    assert [s.body for s in fake.sends] == [
        {"touser": ZHANG, "msgtype": "text", "text": {"content": "端午节慰问品已到，请到工会领取。"}},
        {"touser": ZHANG, "msgtype": "text", "text": {"content": "提醒：本周五截止报名"}},
    ]
    assert {s.query["access_token"] for s in fake.sends} == {"TOKEN-1"}


async def test_concurrent_sends_share_one_token_fetch(wechat: Any, http: Any) -> None:
    fake, base = wechat
    sender = sender_for(base, http)
    await asyncio.gather(*(sender.send(FOLLOWER, Reply(f"第{i}条"), f"k{i}") for i in range(5)))
    assert len(fake.token_requests) == 1 and len(fake.sends) == 5


async def test_a_token_the_platform_keeps_refusing_is_force_refreshed(wechat: Any, http: Any) -> None:
    fake, base = wechat
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("一"), "k1")
    fake.expire_tokens()
    fake.token_answers.append({"access_token": "TOKEN-1", "expires_in": 7200})  # stable_token gives it again
    await sender.send(FOLLOWER, Reply("二"), "k2")
    assert [r.body["force_refresh"] for r in fake.token_requests if r.body] == [False, False, True]
    assert fake.sends[-1].query["access_token"] == "TOKEN-2"


async def test_a_token_is_renewed_before_it_expires(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.token_lifetime = 2
    sender = sender_for(base, http)
    await sender.send(FOLLOWER, Reply("一"), "k1")
    await asyncio.sleep(1.6)  # renewed a quarter of the lifetime early
    await sender.send(FOLLOWER, Reply("二"), "k2")
    assert [s.query["access_token"] for s in fake.sends] == ["TOKEN-1", "TOKEN-2"]


@pytest.mark.parametrize("code", [45009, 45011, 45047])
async def test_rate_limit_codes_mean_retry_later(wechat: Any, http: Any, code: int) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": code, "errmsg": "api freq out of limit"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.after == 60.0 and str(code) in info.value.reason


async def test_a_busy_platform_means_retry_later_with_backoff(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": -1, "errmsg": "system error"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.after is None and info.value.reason == "微信公众号系统繁忙，稍后重试"


async def test_the_48_hour_window_is_undeliverable_with_a_reason(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": 45015, "errmsg": "response out of time limit"})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert info.value.reason == (
        "微信公众号拒绝发送（错误码 45015：response out of time limit）："
        "对方超过 48 小时没有给公众号发消息，公众号暂时不能主动发给 TA")


async def test_an_unreachable_platform_means_retry_later(http: Any) -> None:
    with pytest.raises(RetryLater) as info:
        await sender_for("http://127.0.0.1:9", http).send(FOLLOWER, Reply("通知"), "k1")
    assert "连接微信公众号接口失败" in info.value.reason and "127.0.0.1" not in info.value.reason


async def test_a_refused_token_fetch_explains_the_ip_whitelist(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.token_answers.append({"errcode": 40164, "errmsg": "invalid ip 1.2.3.4, not in whitelist"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(FOLLOWER, Reply("通知"), "k1")
    assert "IP 白名单" in info.value.reason and "app-secret" not in info.value.reason
    assert fake.sends == []


async def test_what_cannot_be_sent_is_undeliverable(wechat: Any, http: Any) -> None:
    _, base = wechat
    with pytest.raises(Undeliverable, match="不能向这类对象"):
        await sender_for(base, http).send(Target("wechat_mp", "group", "g"), Reply("x"), "k1")
    with pytest.raises(Undeliverable, match="app_secret"):
        await sender_for(base, http, app_secret="").send(FOLLOWER, Reply("x"), "k1")


async def test_a_long_message_goes_in_parts_and_a_retry_skips_the_parts_sent(
    wechat: Any, http: Any
) -> None:
    fake, base = wechat
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
    wechat: Any, http: Any, db: Database
) -> None:
    fake, base = wechat
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
