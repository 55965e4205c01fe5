"""The WeCom channel: /wechat/work, app messages, app group chats and group robots."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.channels.wechat_reply import plain, split_parts
from bot.channels.wechat_xml import message_id, parse_xml, read_message
from bot.channels.wecom import WecomSender
from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker, RetryLater, Undeliverable
from bot.render import say
from models.db import Database
from models.outbox import QUEUED
from tests.channels.vectors import VECTORS
from tests.channels.wechat_fakes import (
    Connect,
    FixedClock,
    Stored,
    encrypt,
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
from tests.channels.wecom_helpers import (
    APPCHAT,
    BIND,
    CORP_ID,
    KEY,
    LI,
    MEMBER,
    PATH,
    ROBOT,
    TOKEN,
    envelope,
    open_reply,
    post,
    query,
    text_message,
    wecom_settings,
)
from tests.factories import make_member, make_settings

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


async def test_a_missing_signature_is_refused_before_reading(hostile: TestClient, app_db: Database) -> None:
    encrypted = encrypt(KEY, CORP_ID, BIND)
    params = {k: v for k, v in query(encrypted).items() if k != "msg_signature"}
    response = await hostile.post(PATH, params=params, data=envelope(encrypted))
    await refused(hostile, app_db, response, 400, rejected("wecom", "missing_params"))


async def test_the_published_url_check_replayed_today_is_stale(hostile: TestClient, app_db: Database) -> None:
    check = VECTORS["wecom_callback"]["verify_url"]
    params = {k: check[k] for k in ("msg_signature", "timestamp", "nonce", "echostr")}
    response = await hostile.get(PATH, params=params)
    await refused(hostile, app_db, response, 403, rejected("wecom", "stale_timestamp"))


async def test_a_url_check_with_a_wrong_signature_or_broken_echostr_is_refused(
    hostile: TestClient, app_db: Database
) -> None:
    stamp, echo = str(int(time.time())), encrypt(KEY, CORP_ID, "12345")
    good = {"timestamp": stamp, "nonce": "n", "echostr": echo, "msg_signature": sign(TOKEN, stamp, "n", echo)}
    assert await (await hostile.get(PATH, params=good)).text() == "12345"
    wrong = good | {"msg_signature": sign(TOKEN, stamp, "m", echo)}
    response = await hostile.get(PATH, params=wrong)
    await refused(hostile, app_db, response, 401, rejected("wecom", "bad_signature"))
    broken = echo[:-4]
    garbled = good | {"echostr": broken, "msg_signature": sign(TOKEN, stamp, "n", broken)}
    response = await hostile.get(PATH, params=garbled)
    await refused(hostile, app_db, response, 400, rejected("wecom", "bad_ciphertext"))
    other = encrypt(KEY, "wwSomeOtherCorp", "12345")
    foreign = good | {"echostr": other, "msg_signature": sign(TOKEN, stamp, "n", other)}
    response = await hostile.get(PATH, params=foreign)
    await refused(hostile, app_db, response, 403, rejected("wecom", "wrong_receiver"))


async def test_only_the_encrypted_message_counts(hostile: TestClient, app_db: Database) -> None:
    stamp = str(int(time.time()))
    plain = {"msg_signature": sign(TOKEN, stamp, "n"), "timestamp": stamp, "nonce": "n"}
    response = await hostile.post(PATH, params=plain, data=BIND)
    await refused(hostile, app_db, response, 400, rejected("wecom", "missing_fields"))
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
    response = await hostile.post(PATH, params=params, data=body)
    await refused(hostile, app_db, response, 400, rejected("wecom", reason))


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


def sender_for(base: str, http: aiohttp.ClientSession, **section: Any) -> WecomSender:
    return WecomSender(wecom_settings(api_base=base, **section).wecom, http)


async def test_app_messages_carry_the_duplicate_check(wechat: Any, http: Any) -> None:
    fake, base = wechat
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


async def test_app_group_chats_go_through_appchat(wechat: Any, http: Any) -> None:
    fake, base = wechat
    await sender_for(base, http).send(APPCHAT, Reply("端午节放假通知"), "k1")
    assert fake.sends[0].path == "/cgi-bin/appchat/send"
    assert fake.sends[0].body == {
        "chatid": APPCHAT.id, "msgtype": "text", "text": {"content": "端午节放假通知"}, "safe": 0}
    assert fake.sends[0].query == {"access_token": "TOKEN-1"}


async def test_robots_are_sent_to_by_name_without_a_token(wechat: Any, http: Any) -> None:
    fake, base = wechat
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


async def test_a_member_outside_the_app_is_undeliverable(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": 0, "errmsg": "ok", "invaliduser": LI})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(MEMBER, Reply("x"), "k1")
    assert info.value.reason == f"企业微信成员 {LI} 不存在，或不在应用的可见范围内"


async def test_concurrent_sends_after_expiry_renew_the_token_once(wechat: Any, http: Any) -> None:
    fake, base = wechat
    sender = sender_for(base, http)
    await sender.send(MEMBER, Reply("一"), "k0")
    fake.expire_tokens()
    await asyncio.gather(*(sender.send(MEMBER, Reply(f"第{i}条"), f"k{i}") for i in range(1, 6)))
    assert len(fake.token_requests) == 2
    assert sorted(s.query["access_token"] for s in fake.sends)[-5:] == ["TOKEN-2"] * 5


@pytest.mark.parametrize(("target", "code"), [
    (MEMBER, 45033), (MEMBER, 45009), (ROBOT, 45009), (APPCHAT, 45047),
])
async def test_rate_limit_codes_mean_retry_later(wechat: Any, http: Any, target: Target, code: int) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": code, "errmsg": "api freq out of limit"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(target, Reply("通知"), "k1")
    assert info.value.after == 60.0
    assert info.value.reason == f"企业微信提示发送太频繁（错误码 {code}），稍后重试"


async def test_an_invalid_robot_key_is_undeliverable_with_a_hint(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.answers.append({"errcode": 93000, "errmsg": "invalid webhook url"})
    with pytest.raises(Undeliverable) as info:
        await sender_for(base, http).send(ROBOT, Reply("通知"), "k1")
    assert info.value.reason == (
        "企业微信拒绝发送（错误码 93000：invalid webhook url）："
        "机器人的 Webhook key 无效，机器人可能已被移出群聊")
    assert "robot-key-1" not in info.value.reason


async def test_an_untrusted_server_ip_is_explained(wechat: Any, http: Any) -> None:
    fake, base = wechat
    fake.token_answers.append({"errcode": 60020, "errmsg": "not allow to access from your ip"})
    with pytest.raises(RetryLater) as info:
        await sender_for(base, http).send(MEMBER, Reply("通知"), "k1")
    assert "企业可信IP" in info.value.reason


async def test_a_long_robot_message_goes_in_ordered_parts_and_a_retry_resumes(
    wechat: Any, http: Any
) -> None:
    fake, base = wechat
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
    wechat: Any, http: Any, db: Database
) -> None:
    fake, base = wechat
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
