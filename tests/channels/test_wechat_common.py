"""What the Official Account (safe mode) and WeCom channels share, run for both.

Both receive encrypted XML, answer passively within the budget, push a late reply
through the outbox and send through an access-token API. What only one of them does
is tested in ``test_wechat_mp`` and ``test_wecom``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.appkeys import PIPELINE
from bot.channels.wechat_mp import MpSender
from bot.channels.wecom import WecomSender
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target
from bot.outbox.worker import RetryLater, Sender
from models.db import Database
from models.outbox import SENT
from tests.channels import mp_helpers as mp
from tests.channels import wecom_helpers as wecom
from tests.channels.wechat_fakes import (
    SLOW,
    Connect,
    FakeWechat,
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
    stored,
)
from tests.factories import make_member


def _check_mp_late_send(platform: FakeWechat) -> None:
    send = platform.sends[0]
    assert send.path == "/cgi-bin/message/custom/send"
    assert send.query == {"access_token": "TOKEN-1"}
    assert send.body is not None and send.body["touser"] == mp.ZHANG and send.body["msgtype"] == "text"
    token = platform.token_requests[0]
    assert token.body == {"grant_type": "client_credential", "appid": mp.APP_ID, "secret": "app-secret",
                          "force_refresh": False}


def _check_wecom_late_send(platform: FakeWechat) -> None:
    assert platform.token_requests[0].query == {"corpid": wecom.CORP_ID, "corpsecret": "app-secret"}
    send = platform.sends[0]
    assert send.path == "/cgi-bin/message/send" and send.body is not None
    assert {k: v for k, v in send.body.items() if k != "text"} == {
        "touser": wecom.LI, "msgtype": "text", "agentid": 1000002,
        "enable_duplicate_check": 1, "duplicate_check_interval": 1800,
    }


@dataclass(frozen=True)
class Kind:
    """One channel as the shared tests see it."""

    channel: str
    path: str
    user: str
    key: str
    other_key: str
    receiver: str  # the AppID or CorpID a message is sealed for
    account: str  # who answers: the account's or the corp's id
    member: tuple[str, str]  # 工号, name
    bind_ok: str
    me: str  # the command that shows one's own record
    label: str  # how the channel is named in that record
    late_ack: str  # the body that acknowledges a late message
    other_types: tuple[str, ...]
    settings: Callable[..., Settings]
    query: Callable[..., dict[str, str]]
    envelope: Callable[[str], str]
    open_reply: Callable[[str], str]
    text_message: Callable[..., str]
    message: Callable[..., str]
    check_late_send: Callable[[FakeWechat], None]
    sender: Callable[[str, aiohttp.ClientSession], Sender]
    target: Target  # a target of the API that needs the access token
    busy_target: Target  # a target for the retry tests

    def encrypt(self, xml: str, *, key: str | None = None, receiver: str | None = None) -> str:
        return encrypt(key or self.key, receiver or self.receiver, xml)

    async def post(
        self, client: TestClient, xml: str, *, key: str | None = None, receiver: str | None = None,
        **kw: Any,
    ) -> tuple[int, str]:
        encrypted = self.encrypt(xml, key=key, receiver=receiver)
        response = await client.post(self.path, params=self.query(encrypted, **kw),
                                      data=self.envelope(encrypted))
        return response.status, await response.text()

    async def ask(self, client: TestClient, content: str) -> str:
        status, body = await self.post(client, self.text_message(content))
        assert status == 200, body
        inner = self.open_reply(body)
        assert field_of(inner, "ToUserName") == self.user
        assert field_of(inner, "FromUserName") == self.account
        return field_of(inner, "Content")

    def __str__(self) -> str:
        return self.channel


MP = Kind(
    channel="wechat_mp", path=mp.PATH, user=mp.ZHANG, key=mp.KEY, other_key=mp.OTHER_KEY,
    receiver=mp.APP_ID, account="gh_union", member=("10001", "张三"),
    bind_ok="绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。",
    me="我", label="微信公众号", late_ack="success",
    other_types=("image", "video", "location", "link", "voice"),
    settings=partial(mp.mp_settings, aes=True),
    query=lambda encrypted, **kw: mp.query(encrypted=encrypted, **kw),
    envelope=mp.envelope, open_reply=mp.open_reply, text_message=mp.text_message,
    message=message_xml, check_late_send=_check_mp_late_send,
    sender=lambda base, http: MpSender(mp.mp_settings(api_base=base).wechat_mp, http),
    target=mp.FOLLOWER, busy_target=mp.FOLLOWER,
)
WECOM = Kind(
    channel="wecom", path=wecom.PATH, user=wecom.LI, key=wecom.KEY, other_key=wecom.OTHER_KEY,
    receiver=wecom.CORP_ID, account=wecom.CORP_ID, member=("10002", "李四"), bind_ok=wecom.BIND_OK,
    me="我的信息", label="企业微信", late_ack="",
    other_types=("image", "voice", "video", "location", "link", "file"),
    settings=wecom.wecom_settings, query=wecom.query, envelope=wecom.envelope,
    open_reply=wecom.open_reply, text_message=wecom.text_message,
    message=partial(message_xml, to=wecom.CORP_ID), check_late_send=_check_wecom_late_send,
    sender=lambda base, http: WecomSender(wecom.wecom_settings(api_base=base).wecom, http),
    target=wecom.APPCHAT, busy_target=wecom.ROBOT,
)
KINDS = [MP, WECOM]


@pytest.fixture(params=KINDS, ids=str)
def kind(request: pytest.FixtureRequest) -> Kind:
    found: Kind = request.param
    return found


# ---------------------------------------------------------------- round trips


async def test_a_member_binds_and_asks_who_they_are(connect: Connect, app_db: Database, kind: Kind) -> None:
    number, name = kind.member
    await make_member(app_db, number, name)
    client = await connect(kind.settings())
    assert await kind.ask(client, f"绑定 {number} {name}") == kind.bind_ok
    me = await kind.ask(client, kind.me)
    assert me.startswith(f"{name}（工号 {number}）\n分工会：计算机学院分工会")
    assert f"已绑定：{kind.label}" in me
    help_text = await kind.ask(client, "帮助")
    assert "【基本】帮助、绑定" in help_text and "你还没有绑定工号" not in help_text
    assert await stored(app_db) == Stored(records=3, accounts=1, outbox=0)


@pytest.mark.parametrize(("kind", "message_type"), [
    (kind, message_type) for kind in KINDS for message_type in kind.other_types
], ids=str)
async def test_other_message_types_get_one_polite_sentence(
    connect: Connect, app_db: Database, kind: Kind, message_type: str
) -> None:
    client = await connect(kind.settings())
    xml = kind.message(kind.user, kind=message_type, MsgId="123", MediaId="m",
                       PicUrl="http://example.invalid/a.jpg")
    status, body = await kind.post(client, xml)
    assert status == 200
    answer = field_of(kind.open_reply(body), "Content")
    assert answer == "抱歉，我只看得懂文字消息。请直接发送文字，例如：帮助"
    assert (await stored(app_db)).records == 0


# ---------------------------------------------------------------- dedup


async def test_three_concurrent_retries_do_the_work_once_and_get_the_same_reply(
    connect: Connect, app_db: Database, kind: Kind
) -> None:
    await make_member(app_db, *kind.member)
    client = await connect(kind.settings())
    number, name = kind.member
    encrypted = kind.encrypt(kind.text_message(f"绑定 {number} {name}", msg_id="6054768590064713728"))
    params = kind.query(encrypted)
    responses = await asyncio.gather(*(
        client.post(kind.path, params=params, data=kind.envelope(encrypted)) for _ in range(3)))
    answers = [field_of(kind.open_reply(await r.text()), "Content") for r in responses]
    assert answers == [kind.bind_ok] * 3
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)
    assert await metric(client, f'unionbot_messages_duplicate_total{{channel="{kind.channel}"}}') == 2.0


async def test_a_retry_after_a_restart_gets_the_stored_reply(
    connect: Connect, app_db: Database, kind: Kind
) -> None:
    await make_member(app_db, *kind.member)
    number, name = kind.member
    xml = kind.text_message(f"绑定 {number} {name}", msg_id="42")
    first = await connect(kind.settings())
    assert field_of(kind.open_reply((await kind.post(first, xml))[1]), "Content") == kind.bind_ok
    await first.close()
    second = await connect(kind.settings())
    assert field_of(kind.open_reply((await kind.post(second, xml))[1]), "Content") == kind.bind_ok
    assert await stored(app_db) == Stored(records=1, accounts=1, outbox=0)


# ---------------------------------------------------------------- late replies


async def test_a_late_reply_is_acknowledged_and_sent_through_the_outbox(
    connect: Connect, aiohttp_server: Any, app_db: Database, kind: Kind
) -> None:
    platform = FakeWechat()
    server = await aiohttp_server(platform.app())
    client = await connect(kind.settings(budget=0.5, api_base=base_url(server)))
    pipeline = client.app[PIPELINE]
    handle = pipeline.handle

    async def slow(incoming: Incoming) -> Reply | None:
        await asyncio.sleep(1.0)
        return await handle(incoming)

    pipeline.handle = slow  # type: ignore[method-assign]
    started = time.monotonic()
    status, body = await kind.post(client, kind.text_message("帮助", msg_id="777"))
    assert (status, body) == (200, kind.late_ack)
    assert time.monotonic() - started < 0.9

    async def delivered() -> bool:
        return bool(platform.sends)

    await eventually(delivered)
    kind.check_late_send(platform)
    body_sent = platform.sends[0].body
    assert body_sent is not None and "你还没有绑定工号" in body_sent["text"]["content"]

    async def marked() -> bool:
        rows = await outbox_rows(app_db)
        return bool(rows) and rows[0].status == SENT

    await eventually(marked)
    assert [r.key for r in await outbox_rows(app_db)] == [f"late:{kind.channel}:777"]


# ---------------------------------------------------------------- hostile requests


@pytest.fixture
async def hostile(connect: Connect, app_db: Database, kind: Kind) -> TestClient:
    await make_member(app_db, *kind.member)
    return await connect(kind.settings(window=300))


def bind(kind: Kind) -> str:
    number, name = kind.member
    return kind.text_message(f"绑定 {number} {name}")


async def test_a_wrong_message_signature_is_refused(
    hostile: TestClient, app_db: Database, kind: Kind
) -> None:
    encrypted = kind.encrypt(bind(kind))
    params = kind.query(encrypted) | {"msg_signature": sign("guessed-token", "1", "2", encrypted)}
    response = await hostile.post(kind.path, params=params, data=kind.envelope(encrypted))
    await refused(hostile, app_db, response, 401, rejected(kind.channel, "bad_signature"))


async def test_a_stale_timestamp_is_refused_before_anything_is_read(
    hostile: TestClient, app_db: Database, kind: Kind
) -> None:
    encrypted = kind.encrypt(bind(kind))
    params = kind.query(encrypted, timestamp=str(int(time.time()) - 1000))
    response = await hostile.post(kind.path, params=params, data=kind.envelope(encrypted))
    await refused(hostile, app_db, response, 403, rejected(kind.channel, "stale_timestamp"))


async def test_an_oversized_body_is_refused(hostile: TestClient, app_db: Database, kind: Kind) -> None:
    encrypted = kind.encrypt(kind.text_message("绑定 10001 张三" + "啊" * 30_000))
    body = kind.envelope(encrypted)
    assert len(body.encode()) > 64 * 1024
    response = await hostile.post(kind.path, params=kind.query(encrypted), data=body)
    await refused(hostile, app_db, response, 413, rejected(kind.channel, "body_too_large"))


BAD_MESSAGES: list[tuple[Callable[[Kind], str], str]] = [
    (lambda k: '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
               "<xml><Content>&b;</Content></xml>", "xml_declarations"),
    (lambda k: "<xml><Content>hi", "malformed_xml"),
    (lambda k: k.message(k.user, Content="你好"), "missing_fields"),
    (lambda k: k.message("o bad id", Content="你好", MsgId="1"), "bad_user_id"),
    (lambda k: k.message(k.user, Content="你好", MsgId="12ab"), "bad_msg_id"),
    (lambda k: k.message(k.user, kind="event"), "missing_fields"),
    (lambda k: "<xml><Content>你好</Content></xml>", "missing_fields"),
]
BAD_MESSAGE_IDS = ["entity-bomb", "truncated", "no-msgid", "space-in-id", "msgid-letters",
                   "event-without-name", "no-sender"]


@pytest.mark.parametrize(("xml", "reason"), BAD_MESSAGES, ids=BAD_MESSAGE_IDS)
async def test_bad_messages_inside_a_good_envelope_are_refused(
    hostile: TestClient, app_db: Database, kind: Kind, xml: Callable[[Kind], str], reason: str
) -> None:
    status, _ = await kind.post(hostile, xml(kind))
    assert status == 400
    assert await metric(hostile, rejected(kind.channel, reason)) == 1.0
    assert (await stored(app_db)).records == 0


async def test_a_message_sealed_with_another_key_or_for_another_receiver_is_refused(
    hostile: TestClient, app_db: Database, kind: Kind
) -> None:
    status, _ = await kind.post(hostile, bind(kind), key=kind.other_key)
    assert status in (400, 403)
    wrong_receiver = rejected(kind.channel, "wrong_receiver")
    before = await metric(hostile, wrong_receiver)
    status, _ = await kind.post(hostile, bind(kind), receiver="wwSomeOtherReceiver")
    assert status == 403
    assert await metric(hostile, wrong_receiver) == before + 1
    assert await stored(app_db) == Stored(records=0, accounts=0, outbox=0)


@pytest.mark.parametrize("damage", [
    lambda s: s[:-8], lambda s: s[:-4], lambda s: ("B" if s[0] == "A" else "A") + s[1:],
    lambda s: s[: len(s) // 2 + 1], lambda s: s + "AAAA", lambda s: "!!!" + s,
    lambda s: s.replace("+", "-").replace("/", "_") + "-",
    lambda s: base64.b64encode(b"x" * 48).decode(), lambda s: "=" * 8, lambda s: "",
], ids=["truncated", "truncated-block", "flipped", "halved", "extra-block-chars", "not-base64",
        "urlsafe-alphabet", "random-blocks", "only-padding", "empty"])
async def test_a_corrupted_ciphertext_is_refused(
    hostile: TestClient, app_db: Database, kind: Kind, damage: Any
) -> None:
    broken = damage(kind.encrypt(bind(kind)))
    response = await hostile.post(kind.path, params=kind.query(broken), data=kind.envelope(broken))
    assert response.status in (400, 403)
    assert await stored(app_db) == Stored(records=0, accounts=0, outbox=0)


# ---------------------------------------------------------------- the senders


@pytest.mark.parametrize("code", [40001, 40014, 42001])
async def test_an_expired_token_is_renewed_once_and_the_message_sent(
    wechat: Any, http: aiohttp.ClientSession, kind: Kind, code: int
) -> None:
    fake, base = wechat
    sender = kind.sender(base, http)
    await sender.send(kind.target, Reply("一"), "k1")
    fake.answers.append({"errcode": code, "errmsg": "invalid credential"})
    await sender.send(kind.target, Reply("二"), "k2")
    assert [s.query["access_token"] for s in fake.sends] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert fake.contents() == ["一", "二", "二"]
    assert len(fake.token_requests) == 2


@pytest.mark.parametrize("answer", [500, 502, 503, 429, SLOW], ids=["500", "502", "503", "429", "timeout"])
async def test_server_errors_and_timeouts_mean_retry_later(
    wechat: Any, http: aiohttp.ClientSession, kind: Kind, answer: Any
) -> None:
    fake, base = wechat
    fake.answers.append(answer)
    with pytest.raises(RetryLater):
        await kind.sender(base, http).send(kind.busy_target, Reply("通知"), "k1")

