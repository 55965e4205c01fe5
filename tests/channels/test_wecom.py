"""The WeCom channel: /wechat/work, app messages, app group chats and group robots."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.appkeys import PIPELINE
from bot.channels.wechat_reply import plain, split_parts
from bot.channels.wechat_xml import message_id, parse_xml, read_message
from bot.channels.wecom import WecomSender
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker, RetryLater, Undeliverable
from bot.render import say
from models.db import Database
from models.outbox import QUEUED, SENT
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

TOKEN = "wecom-token"
CORP_ID = "ww0123456789abcdef"
KEY = base64.b64encode(bytes(range(32, 64))).decode().rstrip("=")
OTHER_KEY = base64.b64encode(bytes(range(200, 232))).decode().rstrip("=")
LI = "LiSi"
PATH = "/wechat/work"
ROBOTS = {"计算机学院教职工群": "robot-key-1", "全校工会群": "robot-key-2"}
BIND_OK = "绑定成功！你好，李四（计算机学院分工会）。发送「帮助」查看能用的命令。"


def wecom_settings(
    *, window: int = 0, budget: float = 4.0, api_base: str = "http://127.0.0.1:9", outbox: Any = None,
    **section: Any,
) -> Settings:
    values = {
        "enabled": True, "corp_id": CORP_ID, "agent_id": "1000002", "secret": "app-secret",
        "token": TOKEN, "encoding_aes_key": KEY, "reply_budget_seconds": budget, "api_base": api_base,
        "robots": ROBOTS,
    } | section
    extra = {"outbox": outbox} if outbox else {}
    return make_settings(wecom=values, security={"replay_window_seconds": window}, **extra)


def query(encrypted: str, *, timestamp: str | None = None, nonce: str = "1372623149") -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    return {"msg_signature": sign(TOKEN, stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}


def envelope(encrypted: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")


async def post(
    client: TestClient, xml: str, *, key: str = KEY, corp_id: str = CORP_ID, **kw: Any
) -> tuple[int, str]:
    encrypted = encrypt(key, corp_id, xml)
    response = await client.post(PATH, params=query(encrypted, **kw), data=envelope(encrypted))
    return response.status, await response.text()


def open_reply(xml: str) -> str:
    encrypted, stamp, nonce = field_of(xml, "Encrypt"), field_of(xml, "TimeStamp"), field_of(xml, "Nonce")
    assert field_of(xml, "MsgSignature") == sign(TOKEN, stamp, nonce, encrypted)
    return decrypt(KEY, CORP_ID, encrypted)


_ids = iter(range(4_000_000_000_000_000_000, 5_000_000_000_000_000_000))


def text_message(content: str, *, user: str = LI, msg_id: str | None = None) -> str:
    return message_xml(user, to=CORP_ID, Content=content, MsgId=msg_id or str(next(_ids)), AgentID="1000002")


async def ask(client: TestClient, content: str, **kw: Any) -> str:
    status, body = await post(client, text_message(content, **kw))
    assert status == 200, body
    inner = open_reply(body)
    assert field_of(inner, "ToUserName") == kw.get("user", LI)
    assert field_of(inner, "FromUserName") == CORP_ID
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


def vector_settings() -> Settings:
    vector = VECTORS["wecom_callback"]
    return make_settings(wecom={
        "enabled": True, "corp_id": vector["corp_id"], "token": vector["token"],
        "encoding_aes_key": vector["encoding_aes_key"], "agent_id": "218", "secret": "s"})


async def test_url_check_with_the_published_vector(connect: Connect, app_db: Database) -> None:
    check = VECTORS["wecom_callback"]["verify_url"]
    client = await connect(vector_settings())
    params = {k: check[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    response = await client.get(PATH, params=params)
    assert response.status == 200 and await response.text() == check["expected_reply"]
    # the same request with the base64 "+" left unescaped in the address
    raw = "&".join(f"{k}={v}" for k, v in params.items() if k != "echostr")
    unescaped = await client.get(f"{PATH}?{raw}&echostr={check['echostr']}")
    assert "+" in check["echostr"]
    assert unescaped.status == 200 and await unescaped.text() == check["expected_reply"]
    wrong_signature = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4"
    wrong = await client.get(PATH, params=params | {"msg_signature": wrong_signature})
    assert wrong.status == 401
    assert await metric(client, rejected("wecom", "bad_signature")) == 1.0


async def test_the_published_message_is_decrypted_and_answered_encrypted(
    connect: Connect, app_db: Database
) -> None:
    vector = VECTORS["wecom_callback"]
    sample = vector["message"]
    client = await connect(vector_settings())
    params = {k: sample[k] for k in ("msg_signature", "timestamp", "nonce")}
    response = await client.post(PATH, params=params, data=sample["body"])
    assert response.status == 200
    answer = await response.text()
    crypto = WeChatCrypto(vector["token"], vector["encoding_aes_key"], vector["corp_id"])
    inner = crypto.decrypt_message(
        answer, field_of(answer, "MsgSignature"), field_of(answer, "TimeStamp"), field_of(answer, "Nonce"))
    assert field_of(inner, "ToUserName") == "mycreate"
    assert field_of(inner, "FromUserName") == vector["corp_id"]
    assert field_of(inner, "Content") == say("basics", "unknown_unbound", bot_name="工会助手")
    assert (await stored(app_db)).records == 1
    again = await client.post(PATH, params=params | {"timestamp": "1409659814"}, data=sample["body"])
    assert again.status == 401
    assert (await stored(app_db)).records == 1


# ---------------------------------------------------------------- round trips


async def test_a_member_binds_and_asks_who_they_are(connect: Connect, app_db: Database) -> None:
    await make_member(app_db, "10002", "李四")
    client = await connect(wecom_settings())
    assert await ask(client, "绑定 10002 李四") == BIND_OK
    me = await ask(client, "我的信息")
    assert me.startswith("李四（工号 10002）\n分工会：计算机学院分工会") and "已绑定：企业微信" in me
    help_text = await ask(client, "帮助")
    assert "绑定 <工号> <姓名>" in help_text and "你还没有绑定工号" not in help_text
    assert await stored(app_db) == Stored(records=3, accounts=1, outbox=0)


async def test_following_the_app_gets_the_binding_instructions(connect: Connect, app_db: Database) -> None:
    await make_member(app_db, "10002", "李四", accounts=[("wecom", LI)])
    client = await connect(wecom_settings())
    status, body = await post(client, message_xml("WangWu", to=CORP_ID, kind="event", Event="subscribe"))
    assert status == 200 and "绑定 10001 张三" in field_of(open_reply(body), "Content")
    status, body = await post(client, message_xml("WangWu", to=CORP_ID, kind="event", Event="enter_agent"))
    assert status == 200 and "绑定 10001 张三" in field_of(open_reply(body), "Content")
    status, body = await post(client, message_xml(LI, to=CORP_ID, kind="event", Event="enter_agent"))
    assert (status, body) == (200, "")  # a bound member opening the app is not greeted every time
    status, body = await post(client, message_xml(LI, to=CORP_ID, kind="event", Event="subscribe"))
    assert field_of(open_reply(body), "Content") == "欢迎回来，李四！发送「帮助」查看能用的命令。"
    status, body = await post(client, message_xml(LI, to=CORP_ID, kind="event", Event="click", EventKey="x"))
    assert (status, body) == (200, "")
    assert (await stored(app_db)).records == 0


@pytest.mark.parametrize("kind", ["image", "voice", "video", "location", "link", "file"])
async def test_other_message_types_get_one_polite_sentence(
    connect: Connect, app_db: Database, kind: str
) -> None:
    client = await connect(wecom_settings())
    status, body = await post(client, message_xml(LI, to=CORP_ID, kind=kind, MsgId="55", MediaId="m"))
    assert status == 200
    assert field_of(open_reply(body), "Content") == say("wechat", "text_only")


async def test_three_concurrent_retries_do_the_work_once(connect: Connect, app_db: Database) -> None:
    await make_member(app_db, "10002", "李四")
    client = await connect(wecom_settings())
    encrypted = encrypt(KEY, CORP_ID, text_message("绑定 10002 李四", msg_id="4561255354251345929"))
    params = query(encrypted)
    responses = await asyncio.gather(*(
        client.post(PATH, params=params, data=envelope(encrypted)) for _ in range(3)))
    answers = [field_of(open_reply(await r.text()), "Content") for r in responses]
    assert answers == [BIND_OK] * 3
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)


async def test_a_retry_after_a_restart_gets_the_stored_reply(connect: Connect, app_db: Database) -> None:
    await make_member(app_db, "10002", "李四")
    xml = text_message("绑定 10002 李四", msg_id="99")
    first = await connect(wecom_settings())
    assert field_of(open_reply((await post(first, xml))[1]), "Content") == BIND_OK
    await first.close()
    second = await connect(wecom_settings())
    assert field_of(open_reply((await post(second, xml))[1]), "Content") == BIND_OK
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)


async def test_a_late_reply_is_acknowledged_and_sent_as_an_app_message(
    connect: Connect, aiohttp_server: Any, app_db: Database
) -> None:
    platform = FakeWechat()
    server = await aiohttp_server(platform.app())
    client = await connect(wecom_settings(budget=0.5, api_base=base_url(server)))
    pipeline = client.app[PIPELINE]
    handle = pipeline.handle

    async def slow(incoming: Incoming) -> Reply | None:
        await asyncio.sleep(1.0)
        return await handle(incoming)

    pipeline.handle = slow  # type: ignore[method-assign]
    status, body = await post(client, text_message("帮助", msg_id="31337"))
    assert (status, body) == (200, "")

    async def delivered() -> bool:
        return bool(platform.sends)

    await eventually(delivered)
    assert platform.token_requests[0].query == {"corpid": CORP_ID, "corpsecret": "app-secret"}
    send = platform.sends[0]
    assert send.path == "/cgi-bin/message/send" and send.body is not None
    assert {k: v for k, v in send.body.items() if k != "text"} == {
        "touser": LI, "msgtype": "text", "agentid": 1000002,
        "enable_duplicate_check": 1, "duplicate_check_interval": 1800,
    }
    assert "你还没有绑定工号" in send.body["text"]["content"]

    async def marked() -> bool:
        rows = await outbox_rows(app_db)
        return bool(rows) and rows[0].status == SENT

    await eventually(marked)
    assert [r.key for r in await outbox_rows(app_db)] == ["late:wecom:31337"]


async def test_answers_carry_the_time_of_the_clock(app_db: Database, aiohttp_client: Any) -> None:
    clock = FixedClock(1_767_225_600.7)
    client = await start(aiohttp_client, wecom_settings(window=300), clock)
    status, body = await post(client, text_message("帮助"), timestamp="1767225500")
    assert status == 200 and field_of(body, "TimeStamp") == "1767225600"
    assert field_of(open_reply(body), "CreateTime") == "1767225600"
    clock.now += 0.2
    _, again = await post(client, text_message("帮助"), timestamp="1767225500")
    assert field_of(again, "TimeStamp") == "1767225600"


def test_app_events_of_one_member_in_the_same_second_have_their_own_keys() -> None:
    def key(**fields: str) -> str:
        xml = message_xml(LI, to=CORP_ID, kind="event", created=1_700_000_000, AgentID="1000002", **fields)
        return message_id(read_message(parse_xml(xml.encode())))

    opened, clicked = key(Event="enter_agent"), key(Event="click", EventKey="MY_EVENTS")
    assert len({opened, clicked, key(Event="click", EventKey="MY_PROPOSALS")}) == 3
    assert key(Event="enter_agent") == opened


# ---------------------------------------------------------------- hostile requests


@pytest.fixture
async def hostile(connect: Connect, app_db: Database) -> TestClient:
    await make_member(app_db, "10002", "李四")
    return await connect(wecom_settings(window=300))


async def refused(
    client: TestClient, db: Database, response: aiohttp.ClientResponse, status: int, reason: str
) -> None:
    assert response.status == status, await response.text()
    assert await metric(client, rejected("wecom", reason)) >= 1.0
    assert await stored(db) == Stored(records=0, accounts=0, outbox=0)


BIND = text_message("绑定 10002 李四")


async def test_a_wrong_signature_is_refused(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, CORP_ID, BIND)
    params = query(encrypted) | {"msg_signature": sign("guessed", "1", "2", encrypted)}
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 401, "bad_signature")


async def test_a_missing_signature_is_refused_before_reading(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, CORP_ID, BIND)
    params = {k: v for k, v in query(encrypted).items() if k != "msg_signature"}
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 400, "missing_params")


async def test_a_stale_timestamp_is_refused(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, CORP_ID, BIND)
    params = query(encrypted, timestamp=str(int(time.time()) - 3600))
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 403, "stale_timestamp")


async def test_the_published_url_check_replayed_today_is_stale(hostile: TestClient, app_db: Database) -> None:
    check = VECTORS["wecom_callback"]["verify_url"]
    params = {k: check[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    await refused(hostile, app_db, await hostile.get(PATH, params=params), 403, "stale_timestamp")


async def test_a_url_check_with_a_wrong_signature_or_broken_echostr_is_refused(
    hostile: TestClient, app_db: Database
) -> None:
    stamp, echo = str(int(time.time())), encrypt(KEY, CORP_ID, "12345")
    good = {"timestamp": stamp, "nonce": "n", "echostr": echo, "msg_signature": sign(TOKEN, stamp, "n", echo)}
    assert await (await hostile.get(PATH, params=good)).text() == "12345"
    wrong = good | {"msg_signature": sign(TOKEN, stamp, "m", echo)}
    await refused(hostile, app_db, await hostile.get(PATH, params=wrong), 401, "bad_signature")
    broken = echo[:-4]
    garbled = good | {"echostr": broken, "msg_signature": sign(TOKEN, stamp, "n", broken)}
    await refused(hostile, app_db, await hostile.get(PATH, params=garbled), 400, "bad_ciphertext")
    other = encrypt(KEY, "wwSomeOtherCorp", "12345")
    foreign = good | {"echostr": other, "msg_signature": sign(TOKEN, stamp, "n", other)}
    await refused(hostile, app_db, await hostile.get(PATH, params=foreign), 403, "wrong_receiver")


async def test_an_oversized_body_is_refused(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, CORP_ID, text_message("啊" * 20_000))
    response = await hostile.post(PATH, params=query(encrypted), data=envelope(encrypted))
    await refused(hostile, app_db, response, 413, "body_too_large")


async def test_only_the_encrypted_message_counts(hostile: TestClient, app_db: Database) -> None:
    stamp = str(int(time.time()))
    plain = {"msg_signature": sign(TOKEN, stamp, "n"), "timestamp": stamp, "nonce": "n"}
    await refused(hostile, app_db, await hostile.post(PATH, params=plain, data=BIND), 400, "missing_fields")
    encrypted = encrypt(KEY, CORP_ID, text_message("帮助"))
    outside = text_message("绑定 10002 李四", user="wangwu").replace(
        "</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    response = await hostile.post(PATH, params=query(encrypted), data=outside)
    inner = open_reply(await response.text())
    assert field_of(inner, "ToUserName") == LI and "你还没有绑定工号" in field_of(inner, "Content")
    assert await stored(app_db) == Stored(records=1, accounts=0, outbox=0)


@pytest.mark.parametrize(("body", "reason"), [
    (b"<xml><Encrypt>abc", "malformed_xml"),
    (b"<xml><ToUserName>x</ToUserName></xml>", "missing_fields"),
    (b"<xml><Encrypt>\xc3\x28</Encrypt></xml>", "bad_encoding"),
    (b'<!DOCTYPE x [<!ENTITY a "a"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>',
     "xml_declarations"),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "http://attacker.invalid/x">]><xml><Encrypt>&e;</Encrypt></xml>',
     "xml_declarations"),
    (b"<!doctype xml><xml><Encrypt>abc</Encrypt></xml>", "xml_declarations"),
], ids=["truncated", "no-encrypt", "utf8", "entity-bomb", "external-entity", "lowercase-doctype"])
async def test_bad_envelopes_are_refused(
    hostile: TestClient, app_db: Database, body: bytes, reason: str
) -> None:
    stamp = str(int(time.time()))
    params = {"msg_signature": "x" * 40, "timestamp": stamp, "nonce": "n"}
    await refused(hostile, app_db, await hostile.post(PATH, params=params, data=body), 400, reason)


@pytest.mark.parametrize(("xml", "reason"), [
    ('<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
     "xml_declarations"),
    ("<xml><Content>hi", "malformed_xml"),
    (message_xml(LI, to=CORP_ID, Content="你好"), "missing_fields"),
    (message_xml("Li Si", to=CORP_ID, Content="你好", MsgId="1"), "bad_user_id"),
], ids=["entity-bomb", "truncated", "no-msgid", "space-in-user"])
async def test_bad_messages_inside_a_good_envelope_are_refused(
    hostile: TestClient, app_db: Database, xml: str, reason: str
) -> None:
    status, _ = await post(hostile, xml)
    assert status == 400
    assert await metric(hostile, rejected("wecom", reason)) == 1.0
    assert (await stored(app_db)).records == 0


async def test_a_message_sealed_with_another_key_or_for_another_corp_is_refused(
    hostile: TestClient, app_db: Database
) -> None:
    assert (await post(hostile, BIND, key=OTHER_KEY))[0] in (400, 403)
    assert (await post(hostile, BIND, corp_id="wwSomeOtherCorp"))[0] == 403
    assert await metric(hostile, rejected("wecom", "wrong_receiver")) >= 1.0
    assert await stored(app_db) == Stored(records=0, accounts=0, outbox=0)


@pytest.mark.parametrize("damage", [
    lambda s: s[:-4], lambda s: ("B" if s[0] == "A" else "A") + s[1:], lambda s: s + "AAAA",
    lambda s: s.replace("+", "-").replace("/", "_") + "-", lambda s: "=" * 8,
], ids=["truncated", "flipped", "extra-block-chars", "urlsafe-alphabet", "only-padding"])
async def test_a_corrupted_ciphertext_is_refused(hostile: TestClient, app_db: Database, damage: Any) -> None:
    broken = damage(encrypt(KEY, CORP_ID, BIND))
    response = await hostile.post(PATH, params=query(broken), data=envelope(broken))
    assert response.status in (400, 403)
    assert await stored(app_db) == Stored(records=0, accounts=0, outbox=0)


# ---------------------------------------------------------------- fuzzing


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inner=st.binary(max_size=400)
    | st.text(max_size=200).map(lambda t: f"<xml>{t}</xml>".encode("utf-8", "replace")),
    outer=st.binary(max_size=400),
    ciphertext=st.text(max_size=300),
)
async def test_fuzzed_requests_never_cause_a_5xx_and_store_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, aiohttp_client: Any,
    inner: bytes, outer: bytes, ciphertext: str,
) -> None:
    use_database(monkeypatch, sqlite_db)
    client = await start(aiohttp_client, wecom_settings())
    try:
        before = await stored(sqlite_db)
        sealed = encrypt(KEY, CORP_ID, inner.decode("utf-8", "replace"))
        for encrypted, body in ((sealed, envelope(sealed).encode()), (ciphertext, outer),
                                (ciphertext, envelope(ciphertext).encode("utf-8", "replace"))):
            response = await client.post(PATH, params=query(encrypted), data=body)
            assert response.status < 500
            if response.status >= 400:
                assert await stored(sqlite_db) == before
        check = await client.get(PATH, params=query(ciphertext) | {"echostr": ciphertext})
        assert check.status < 500
    finally:
        await client.close()


# ---------------------------------------------------------------- splitting and flattening


def test_a_long_text_is_split_between_lines_within_2048_bytes() -> None:
    lines = [f"{i:03d}. 计算机学院分工会第{i}次活动报名名单" for i in range(120)]
    parts = split_parts("\n".join(lines))
    assert len(parts) > 1
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines
    # each part is as full as the next line allows
    assert all(len(f"{p}\n{nxt.splitlines()[0]}".encode()) > 2048 for p, nxt in itertools.pairwise(parts))


def test_a_single_overlong_line_is_cut_between_characters() -> None:
    line = "工会" * 700 + "😀" * 300  # 3-byte and 4-byte characters
    parts = split_parts(line)
    assert "".join(parts) == line
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert [len(p.encode()) for p in parts][:1] == [2046]


def test_blank_text_has_no_parts_and_short_text_one() -> None:
    assert split_parts(" \n ") == []
    assert split_parts("你好") == ["你好"]
    assert split_parts("a" * 2048) == ["a" * 2048]
    assert split_parts("a" * 2049) == ["a" * 2048, "a"]


def test_markdown_is_flattened_where_it_cannot_be_shown() -> None:
    text = '## 公告\n**周五**下午开会\n> 地点：<font color="warning">工会活动室</font>\n[报名](https://u.example/a)'
    assert plain(text) == "公告\n周五下午开会\n地点：工会活动室\n报名（https://u.example/a）"


# ---------------------------------------------------------------- the sender


@pytest.fixture
async def platform(aiohttp_server: Any) -> tuple[FakeWechat, str]:
    fake = FakeWechat()
    server = await aiohttp_server(fake.app())
    return fake, base_url(server)


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        yield session


def sender_for(base: str, http: aiohttp.ClientSession, **section: Any) -> WecomSender:
    return WecomSender(wecom_settings(api_base=base, **section).wecom, http)


MEMBER = Target("wecom", "user", LI)
APPCHAT = Target("wecom", "group", "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA")
ROBOT = Target("wecom", "robot", "计算机学院教职工群")


async def test_app_messages_carry_the_duplicate_check(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http, duplicate_check_seconds=3600)
    await sender.send(MEMBER, Reply("您报名的活动 A12 明天 14:00 开始。"), "k1")
    await sender.send(MEMBER, Reply("## 提醒\n**明天**开会", markdown=True), "k2")
    assert [s.path for s in fake.sends] == ["/cgi-bin/message/send"] * 2
    assert fake.sends[0].body == {
        "touser": LI, "msgtype": "text", "agentid": 1000002,
        "text": {"content": "您报名的活动 A12 明天 14:00 开始。"},
        "enable_duplicate_check": 1, "duplicate_check_interval": 3600,
    }
    assert fake.sends[1].body is not None
    assert fake.sends[1].body["msgtype"] == "markdown"
    assert fake.sends[1].body["markdown"] == {"content": "## 提醒\n**明天**开会"}
    assert len(fake.token_requests) == 1


async def test_app_group_chats_go_through_appchat(platform: Any, http: Any) -> None:
    fake, base = platform
    await sender_for(base, http).send(APPCHAT, Reply("端午节放假通知"), "k1")
    assert fake.sends[0].path == "/cgi-bin/appchat/send"
    assert fake.sends[0].body == {
        "chatid": APPCHAT.id, "msgtype": "text", "text": {"content": "端午节放假通知"}, "safe": 0}
    assert fake.sends[0].query == {"access_token": "TOKEN-1"}


async def test_robots_are_sent_to_by_name_without_a_token(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http, agent_id="", secret="")
    await sender.send(ROBOT, Reply("**广播**：周五开会", markdown=True), "k1")
    assert fake.token_requests == []
    assert fake.sends[0].path == "/cgi-bin/webhook/send"
    assert fake.sends[0].query == {"key": "robot-key-1"}
    assert fake.sends[0].body == {"msgtype": "markdown", "markdown": {"content": "**广播**：周五开会"}}
    with pytest.raises(Undeliverable) as info:
        await sender.send(Target("wecom", "robot", "没配置的群"), Reply("x"), "k2")
    assert info.value.reason == "配置中没有名为「没配置的群」的群机器人，请检查 [wecom.robots]"
    with pytest.raises(Undeliverable, match="agent_id 和 secret"):
        await sender.send(MEMBER, Reply("x"), "k3")


async def test_a_member_outside_the_app_is_undeliverable(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.answers.append({"errcode": 0, "errmsg": "ok", "invaliduser": LI})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(MEMBER, Reply("x"), "k1")
    assert info.value.reason == f"企业微信成员 {LI} 不存在，或不在应用的可见范围内"


@pytest.mark.parametrize("code", [40001, 40014, 42001])
async def test_an_expired_token_is_renewed_and_the_message_sent(platform: Any, http: Any, code: int) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await sender.send(APPCHAT, Reply("一"), "k1")
    fake.answers.append({"errcode": code, "errmsg": "invalid access_token"})
    await sender.send(APPCHAT, Reply("二"), "k2")
    assert [s.query["access_token"] for s in fake.sends] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert len(fake.token_requests) == 2


async def test_concurrent_sends_after_expiry_renew_the_token_once(platform: Any, http: Any) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    await sender.send(MEMBER, Reply("一"), "k0")
    fake.expire_tokens()
    await asyncio.gather(*(sender.send(MEMBER, Reply(f"第{i}条"), f"k{i}") for i in range(1, 6)))
    assert len(fake.token_requests) == 2
    assert sorted(s.query["access_token"] for s in fake.sends)[-5:] == ["TOKEN-2"] * 5


@pytest.mark.parametrize(("target", "code"), [
    (MEMBER, 45033), (MEMBER, 45009), (ROBOT, 45009), (APPCHAT, 45047),
])
async def test_rate_limit_codes_mean_retry_later(platform: Any, http: Any, target: Target, code: int) -> None:
    fake, base = platform
    fake.answers.append({"errcode": code, "errmsg": "api freq out of limit"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(target, Reply("通知"), "k1")
    assert info.value.after == 60.0
    assert info.value.reason == f"企业微信提示发送太频繁（错误码 {code}），稍后重试"


async def test_an_invalid_robot_key_is_undeliverable_with_a_hint(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.answers.append({"errcode": 93000, "errmsg": "invalid webhook url"})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(ROBOT, Reply("通知"), "k1")
    assert info.value.reason == (
        "企业微信拒绝发送（错误码 93000：invalid webhook url）："
        "机器人的 Webhook key 无效，机器人可能已被移出群聊")
    assert "robot-key-1" not in info.value.reason


@pytest.mark.parametrize("answer", [500, 503, SLOW], ids=["500", "503", "timeout"])
async def test_server_errors_and_timeouts_mean_retry_later(platform: Any, http: Any, answer: Any) -> None:
    fake, base = platform
    fake.answers.append(answer)
    with pytest.raises(RetryLater):
        await sender_for(base, http).send(ROBOT, Reply("通知"), "k1")


async def test_an_untrusted_server_ip_is_explained(platform: Any, http: Any) -> None:
    fake, base = platform
    fake.token_answers.append({"errcode": 60020, "errmsg": "not allow to access from your ip"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(MEMBER, Reply("通知"), "k1")
    assert "企业可信IP" in info.value.reason


async def test_a_long_robot_message_goes_in_ordered_parts_and_a_retry_resumes(
    platform: Any, http: Any
) -> None:
    fake, base = platform
    sender = sender_for(base, http)
    text = "\n".join(f"{i:03d} 计算机学院分工会教职工活动报名名单" for i in range(130))
    fake.answers.extend([{"errcode": 0}, {"errcode": 0}, {"errcode": 45009, "errmsg": "freq"}])
    with pytest.raises(RetryLater):
        await sender.send(ROBOT, Reply(text), "broadcast:1:robot")
    await sender.send(ROBOT, Reply(text), "broadcast:1:robot")
    contents = fake.contents()
    assert contents[2] == contents[3]  # only the refused part is sent again
    assert "\n".join(contents[:2] + contents[3:]) == text
    assert all(len(c.encode()) <= 2048 for c in contents)


def test_only_app_messages_may_be_resent_blindly() -> None:
    assert WecomSender.idempotent is False
    assert WecomSender.idempotent_kinds == frozenset({"user"})


async def test_the_worker_keeps_each_robot_within_20_messages_a_minute(
    platform: Any, http: Any, db: Database
) -> None:
    fake, base = platform
    settings = wecom_settings(api_base=base)
    async with db.write() as session:
        for i in range(25):
            await enqueue(session, settings=settings, key=f"n:{i}", target=ROBOT, reply=Reply(f"第{i}条"))
        await enqueue(session, settings=settings, key="other", target=Target("wecom", "robot", "全校工会群"),
                      reply=Reply("另一个群"))
    worker = OutboxWorker(db=db, settings=settings, senders={"wecom": WecomSender(settings.wecom, http)})
    assert await worker.run_once() == 21
    assert len([s for s in fake.sends if s.query["key"] == "robot-key-1"]) == 20
    assert [s.query["key"] for s in fake.sends].count("robot-key-2") == 1
    rows = await outbox_rows(db)
    waiting = [r for r in rows if r.status == QUEUED]
    assert len(waiting) == 5 and all(r.attempts == 0 for r in waiting)
    assert min(r.next_attempt_at.timestamp() for r in waiting) > time.time() + 30
