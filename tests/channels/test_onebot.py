"""QQ through OneBot v11: events in at /qq/onebot, replies out as quick operations or API calls."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import create_app
from bot.appkeys import PIPELINE
from bot.channels import onebot_api
from bot.channels.base import Rejected, json_object
from bot.channels.onebot import expected_signature
from bot.channels.onebot_api import OnebotSender
from bot.channels.onebot_cq import escape, parse_string, read_message, unescape
from bot.channels.onebot_events import parse_event
from bot.config import Settings
from bot.messages import Incoming, Reply
from bot.outbox.queue import Target, enqueue
from bot.outbox.worker import OutboxWorker
from models.db import Database
from models.org import Account, Role
from models.outbox import OutboxMessage
from tests.channels.qq_fakes import (
    FakePlatform,
    onebot_platform,
    onebot_signature,
    settle,
    stored,
    use_database,
)
from tests.channels.vectors import VECTORS
from tests.factories import make_member, make_settings

SELF = 10000
SECRET = "onebot-secret"
TOKEN = "api-token"
BIND_OK = "绑定成功！你好，张三（计算机学院分工会）。发送「帮助」查看能用的命令。"


def settings_for(url: str, **onebot: object) -> Settings:
    section: dict[str, object] = {"enabled": True, "secret": SECRET, "api_url": url,
                                  "access_token": TOKEN}
    section.update(onebot)
    return make_settings(onebot=section)


@pytest.fixture
async def platform(aiohttp_server: Any) -> FakePlatform:
    fake = onebot_platform()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url(""))
    return fake


@pytest.fixture
async def client(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The app on the test's database; ``db`` and ``platform`` come first so that they
    close after the app."""
    use_database(monkeypatch, db)
    return await aiohttp_client(create_app(settings_for(platform.url)))


def event(
    message: str | list[dict[str, Any]], *, group: int | None = None, user: int = 123,
    message_id: int = 1, card: str = "", **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "time": 1725442341, "self_id": SELF, "post_type": "message",
        "message_type": "group" if group else "private",
        "sub_type": "normal" if group else "friend",
        "message_id": message_id, "user_id": user, "message": message,
        "raw_message": message if isinstance(message, str) else "", "font": 0,
        "sender": {"user_id": user, "nickname": "小张", "card": card},
    }
    if group:
        payload["group_id"] = group
    payload.update(extra)
    return payload


async def post(
    client: TestClient, payload: dict[str, Any] | bytes, *, secret: str | None = SECRET,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json", "X-Self-ID": str(SELF)}
    if secret is not None:
        sent["X-Signature"] = onebot_signature(secret, body)
    sent.update(headers or {})
    return await client.post("/qq/onebot", data=body, headers=sent)


async def reply_of(client: TestClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await post(client, payload)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def accounts(db: Database) -> list[tuple[str, str, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Account.channel, Account.external_id, Account.member_id).order_by(Account.id)
        )
        return [(c, e, m) for c, e, m in rows]


async def metrics_text(client: TestClient) -> str:
    return (await (await client.get("/metrics")).text())


# ---------------------------------------------------------------- signature


def test_signature_matches_the_published_onebot_vector() -> None:
    vector = VECTORS["onebot_v11_http_post"]
    assert expected_signature(vector["secret"], vector["body"].encode()) == vector["x_signature"]


async def test_published_vector_passes_the_signature_check(
    db: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    vector = VECTORS["onebot_v11_http_post"]
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(settings_for("", secret=vector["secret"])))
    body = vector["body"].encode()
    good = await client.post("/qq/onebot", data=body, headers={"X-Signature": vector["x_signature"]})
    tampered = await client.post("/qq/onebot", data=body + b" ",
                                 headers={"X-Signature": vector["x_signature"]})
    # the signature is right; the sample body itself is not a whole event (no self_id)
    assert (good.status, await good.text()) == (400, "bad_self_id")
    assert (tampered.status, await tampered.text()) == (403, "bad_signature")


async def test_missing_and_wrong_signatures_are_refused_and_counted(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    payload = event("绑定 10001 张三")
    missing = await post(client, payload, secret=None)
    wrong = await post(client, payload, secret="guessed")
    uppercase_hex = await post(client, payload, headers={
        "X-Signature": onebot_signature("guessed", b"x").upper()})
    assert [missing.status, wrong.status, uppercase_hex.status] == [401, 403, 403]
    assert await stored(db) == (0, 0)
    body = await metrics_text(client)
    assert 'unionbot_messages_rejected_total{channel="onebot",reason="missing_signature"} 1.0' in body
    assert 'unionbot_messages_rejected_total{channel="onebot",reason="bad_signature"} 2.0' in body
    refusals = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refusals) == 3
    assert not any(SECRET in m or "张三" in m for m in refusals)


async def test_without_a_secret_unsigned_events_are_accepted(
    db: Database, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    client = await aiohttp_client(create_app(settings_for("", secret="")))
    answer = await reply_of(client, event("帮助"))
    assert "【基本】帮助、绑定" in answer["reply"]


# ---------------------------------------------------------------- round trips


async def test_group_bind_then_me_through_quick_operations(client: TestClient, db: Database) -> None:
    zhang = await make_member(db, "10001", "张三")
    bound = await reply_of(client, event("绑定 10001 张三", group=456, message_id=1))
    assert bound == {"reply": BIND_OK, "auto_escape": True, "at_sender": True}
    assert await accounts(db) == [("onebot", "123", zhang.id)]
    me = await reply_of(client, event("我", group=456, message_id=2))
    assert me["at_sender"] is True
    assert me["reply"].startswith("张三（工号 10001）\n分工会：计算机学院分工会")
    assert "13800000000" not in me["reply"]  # no phone numbers in a group


async def test_private_help_and_me(client: TestClient, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "123")])
    help_answer = await reply_of(client, event("/帮助", message_id=7))
    assert "at_sender" not in help_answer
    assert help_answer["auto_escape"] is True
    assert "【基本】帮助、绑定" in help_answer["reply"]
    me = await reply_of(client, event("我", message_id=8))
    assert "手机：13800000000" in me["reply"]


async def test_group_chatter_is_ignored_without_storing_anything(
    client: TestClient, db: Database
) -> None:
    response = await post(client, event("今天食堂的饭不错", group=456))
    assert response.status == 204
    assert await response.read() == b""
    assert await stored(db) == (0, 0)


async def test_at_the_bot_as_cq_code_and_as_segment_array(client: TestClient, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "123")])
    as_string = await reply_of(client, event(f"[CQ:at,qq={SELF}] 随便聊聊", group=456, message_id=1))
    as_array = await reply_of(client, event([
        {"type": "at", "data": {"qq": str(SELF)}},
        {"type": "text", "data": {"text": " 随便聊聊"}},
    ], group=456, message_id=2))
    hint = "没看懂「随便聊聊」。发送「帮助」查看能用的命令，例如：帮助 活动"
    assert as_string["reply"] == as_array["reply"] == hint
    someone_else = await post(client, event("[CQ:at,qq=99999] 随便聊聊", group=456, message_id=3))
    assert someone_else.status == 204


async def test_an_officer_binds_the_member_they_at(client: TestClient, db: Database) -> None:
    await make_member(db, "20001", "王干部", roles=[Role.OFFICER], accounts=[("onebot", "123")])
    li = await make_member(db, "10002", "李四")
    answer = await reply_of(client, event([
        {"type": "text", "data": {"text": "绑定 10002 李四 "}},
        {"type": "at", "data": {"qq": 555}},
    ], group=456))
    assert answer["reply"] == "已为李四（计算机学院分工会）绑定账号 555。"
    assert ("onebot", "555", li.id) in await accounts(db)


async def test_pictures_alone_get_a_text_only_hint_in_private_and_silence_in_groups(
    client: TestClient, db: Database
) -> None:
    private = await reply_of(client, event("[CQ:image,file=abc.jpg,url=https://x/y&#44;z]"))
    assert private["reply"].startswith("目前只看得懂文字消息")
    group = await post(client, event("[CQ:face,id=14]", group=456, message_id=2))
    assert group.status == 204
    assert await stored(db) == (0, 0)


async def test_meta_events_notices_requests_and_own_messages_get_204(
    client: TestClient, db: Database
) -> None:
    for payload in (
        {"time": 1, "self_id": SELF, "post_type": "meta_event", "meta_event_type": "heartbeat",
         "status": {"online": True, "good": True}, "interval": 5000},
        {"time": 1, "self_id": SELF, "post_type": "meta_event", "meta_event_type": "lifecycle",
         "sub_type": "connect"},
        {"time": 1, "self_id": SELF, "post_type": "notice", "notice_type": "group_increase",
         "group_id": 456, "user_id": 9},
        {"time": 1, "self_id": SELF, "post_type": "request", "request_type": "friend",
         "user_id": 9, "comment": "hi", "flag": "f"},
        {**event("帮助"), "post_type": "message_sent"},
        event("帮助", group=456, sub_type="anonymous", anonymous={"id": 1, "name": "匿名"}),
    ):
        response = await post(client, payload)
        assert response.status == 204, payload
    assert await stored(db) == (0, 0)


# ---------------------------------------------------------------- dedup


async def test_three_concurrent_deliveries_do_the_work_once(client: TestClient, db: Database) -> None:
    zhang = await make_member(db, "10001", "张三")
    await reply_of(client, event("帮助", group=456, message_id=41))  # the bot knows the group
    payload = event("绑定 10001 张三", group=456, message_id=42)
    answers = await asyncio.gather(*(reply_of(client, payload) for _ in range(3)))
    assert [a["reply"] for a in answers] == [BIND_OK] * 3
    assert await accounts(db) == [("onebot", "123", zhang.id)]
    assert await stored(db) == (2, 1)
    assert 'unionbot_messages_duplicate_total{channel="onebot"} 2.0' in await metrics_text(client)


async def test_three_concurrent_first_messages_in_a_new_group(
    client: TestClient, db: Database
) -> None:
    payload = event("帮助", group=789, message_id=44)
    answers = await asyncio.gather(*(reply_of(client, payload) for _ in range(3)))
    assert answers[0]["reply"].startswith("你还没有绑定工号")
    assert answers[1:] == answers[:1] * 2
    assert await stored(db) == (1, 0)


async def test_a_retry_after_a_restart_gets_the_stored_reply(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_member(db, "10001", "张三")
    use_database(monkeypatch, db)
    payload = event("绑定 10001 张三", message_id=43)
    first = await aiohttp_client(create_app(settings_for(platform.url)))
    assert (await reply_of(first, payload))["reply"] == BIND_OK
    await first.close()
    second = await aiohttp_client(create_app(settings_for(platform.url)))
    assert (await reply_of(second, payload))["reply"] == BIND_OK
    assert await stored(db) == (1, 1)


async def test_the_same_message_id_from_another_bot_account_is_a_new_message(
    client: TestClient, db: Database
) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "123")])
    await reply_of(client, event("我", message_id=5))
    other = {**event("我", message_id=5), "self_id": 20000}
    response = await post(client, other, headers={"X-Self-ID": "20000"})
    assert response.status == 200
    assert (await stored(db))[0] == 2


async def test_the_same_message_id_in_another_chat_is_a_new_message(client: TestClient, db: Database) -> None:
    await make_member(db, "10001", "张三", accounts=[("onebot", "123")])
    first = await reply_of(client, event("我", group=456, message_id=77))
    second = await reply_of(client, event("帮助", group=789, message_id=77))
    private = await reply_of(client, event("帮助", message_id=77))
    assert first["reply"].startswith("张三（工号 10001）")
    assert "【基本】帮助、绑定" in second["reply"] and second["reply"] == private["reply"]
    assert (await stored(db))[0] == 3


# ---------------------------------------------------------------- late replies


def slow_down(app: web.Application) -> None:
    """Make the pipeline answer after the reply budget is spent."""
    pipeline = app[PIPELINE]
    handle = pipeline.handle

    async def slow(incoming: Incoming) -> Reply | None:
        await asyncio.sleep(0.2)
        return await handle(incoming)

    pipeline.handle = slow  # type: ignore[method-assign]


async def test_a_slow_answer_gets_204_and_goes_out_through_the_api(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_member(db, "10001", "张三")
    use_database(monkeypatch, db)
    client = await aiohttp_client(
        create_app(settings_for(platform.url, reply_budget_seconds=0.05))
    )
    slow_down(client.app)
    response = await post(client, event("绑定 10001 张三", group=456, message_id=9))
    assert response.status == 204
    await settle(client.app)
    [sent] = await platform.wait_for(1, "/send_group_msg")
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body == {"group_id": 456, "message": f"[CQ:at,qq=123] {BIND_OK}",
                         "auto_escape": False}


async def test_a_slow_private_answer_is_sent_as_a_private_message(
    db: Database, platform: FakePlatform, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(monkeypatch, db)
    client = await aiohttp_client(
        create_app(settings_for(platform.url, reply_budget_seconds=0.05))
    )
    slow_down(client.app)
    assert (await post(client, event("帮助 绑定", message_id=10))).status == 204
    await settle(client.app)
    [sent] = await platform.wait_for(1, "/send_private_msg")
    assert sent.body["user_id"] == 123 and sent.body["auto_escape"] is True
    assert sent.body["message"].startswith("绑定：把本平台账号绑定到你的工号")


# ---------------------------------------------------------------- CQ codes


def test_cq_escaping_round_trips() -> None:
    text = "名单[1]&[2],完"
    assert escape(text) == "名单&#91;1&#93;&amp;&#91;2&#93;,完"
    assert escape(text, in_param=True) == "名单&#91;1&#93;&amp;&#91;2&#93;&#44;完"
    assert unescape(escape(text)) == text
    assert unescape("&amp;#91;") == "&#91;"  # decoded once, not twice


def test_cq_strings_split_into_text_and_codes() -> None:
    segments = parse_string("绑定&#91;x&#93; [CQ:at,qq=10000][CQ:image,file=a&#44;b.jpg] 尾")
    assert [(s.type, s.data) for s in segments] == [
        ("text", {"text": "绑定[x] "}), ("at", {"qq": "10000"}),
        ("image", {"file": "a,b.jpg"}), ("text", {"text": " 尾"}),
    ]


def test_mentions_of_the_bot_of_others_and_of_everyone() -> None:
    parsed = read_message("[CQ:at,qq=all][CQ:at,qq=10000]绑定 10002 李四[CQ:at,qq=555][CQ:at,qq=555]",
                          "10000")
    assert parsed.mentions_bot is True
    assert parsed.mentions == ("555",)
    assert parsed.text.split() == ["绑定", "10002", "李四"]


def test_segment_arrays_carry_text_unescaped() -> None:
    parsed = read_message([{"type": "text", "data": {"text": "&#91;原样&#93;"}},
                           {"type": "reply", "data": {"id": "5"}}], "10000")
    assert parsed.text == "&#91;原样&#93;"
    assert parsed.only_media is False


def test_a_broken_cq_code_is_read_as_text() -> None:
    assert read_message("[CQ:at,qq=1", "10000").text == "[CQ:at,qq=1"


async def test_cq_codes_in_a_reply_are_sent_literally(platform: FakePlatform) -> None:
    async with aiohttp.ClientSession() as http:
        sender = OnebotSender(settings_for(platform.url).onebot, lambda: http)
        await sender.send(Target("onebot", "group", "456"),
                          Reply("[CQ:at,qq=all] 名单&", mention_sender=True), "late:onebot:1:2:at:123")
        await sender.send(Target("onebot", "group", "456"), Reply("[CQ:at,qq=all]"), "notice:1")
    first, second = platform.to("/send_group_msg")
    assert first.body["message"] == "[CQ:at,qq=123] &#91;CQ:at,qq=all&#93; 名单&amp;"
    assert first.body["auto_escape"] is False
    assert second.body == {"group_id": 456, "message": "[CQ:at,qq=all]", "auto_escape": True}


# ---------------------------------------------------------------- outbound through the outbox


async def _deliver(db: Database, platform: FakePlatform, target: Target, key: str = "k1") -> OutboxMessage:
    settings = settings_for(platform.url)
    async with aiohttp.ClientSession() as http:
        worker = OutboxWorker(db=db, settings=settings,
                              senders={"onebot": OnebotSender(settings.onebot, lambda: http)})
        async with db.write() as session:
            await enqueue(session, settings=settings, key=key, target=target,
                          reply=Reply("公告：周五下午开会"))
        await worker.run_once()
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    assert row is not None
    return row


async def test_outbox_sends_to_a_group_and_a_person(db: Database, platform: FakePlatform) -> None:
    group = await _deliver(db, platform, Target("onebot", "group", "456"), "notice:1:group")
    person = await _deliver(db, platform, Target("onebot", "user", "123"), "notice:1:user")
    assert (group.status, person.status) == ("sent", "sent")
    [to_group] = platform.to("/send_group_msg")
    [to_person] = platform.to("/send_private_msg")
    assert to_group.body == {"group_id": 456, "message": "公告：周五下午开会", "auto_escape": True}
    assert to_person.body == {"user_id": 123, "message": "公告：周五下午开会", "auto_escape": True}
    assert to_group.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(("status", "body", "outcome", "words"), [
    (200, {"status": "failed", "retcode": 1401, "data": None}, "dead", "access_token"),
    (200, {"status": "failed", "retcode": 1403, "data": None}, "dead", "access_token"),
    (200, {"status": "failed", "retcode": 1400, "data": None}, "dead", "1400"),
    (200, {"status": "failed", "retcode": 1404, "data": None}, "dead", "send_group_msg"),
    (401, None, "dead", "access_token"),
    (403, None, "dead", "access_token"),
    (404, None, "dead", "api_url"),
    (200, {"status": "failed", "retcode": 100, "wording": "发送频率过快"}, "queued", "发送频率过快"),
    (200, {"status": "async", "retcode": 1, "data": None}, "queued", "async"),
    (502, None, "queued", "HTTP 502"),
    (429, None, "queued", "HTTP 429"),
    (200, "not onebot", "queued", "OneBot"),
])
async def test_api_answers_decide_between_retry_and_dead(
    db: Database, platform: FakePlatform, status: int, body: Any, outcome: str, words: str
) -> None:
    platform.then("/send_group_msg", status, body)
    row = await _deliver(db, platform, Target("onebot", "group", "456"))
    assert row.status == outcome
    assert row.attempts == 1
    assert row.last_error is not None and words in row.last_error
    assert TOKEN not in row.last_error


async def test_a_timeout_is_retried_later(
    db: Database, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onebot_api, "REQUEST_TIMEOUT", aiohttp.ClientTimeout(total=0.2))
    platform.then("/send_group_msg", 200, {"status": "ok", "retcode": 0}, delay=1.0)
    row = await _deliver(db, platform, Target("onebot", "group", "456"))
    assert (row.status, row.last_error) == ("queued", "网络错误：TimeoutError")


async def test_without_api_url_pushing_is_refused_clearly(db: Database) -> None:
    settings = settings_for("")
    worker = OutboxWorker(db=db, settings=settings,
                          senders={"onebot": OnebotSender(settings.onebot, aiohttp.ClientSession)})
    async with db.write() as session:
        await enqueue(session, settings=settings, key="k", target=Target("onebot", "group", "456"),
                      reply=Reply("x"))
    await worker.run_once()
    async with db.read() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "dead"
    assert row.last_error == "没有配置 [onebot] api_url，QQ（OneBot）无法主动发消息"


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe{}", "malformed_json"),
    (b"[1, 2]", "not_an_object"),
    (b'{"self_id": 10000}', "no_post_type"),
    (b'{"post_type": "message", "self_id": "abc"}', "bad_self_id"),
    (b'{"post_type": "message", "self_id": 10000, "message_type": "channel"}', "bad_message_type"),
    (b'{"post_type": "message", "self_id": 10000, "message_type": "private", "user_id": true}',
     "bad_user_id"),
    (b'{"post_type": "message", "self_id": 10000, "message_type": "private", "user_id": 1,'
     b' "message_id": 1, "message": {"text": "x"}}', "bad_message"),
    (b'{"post_type": "message", "self_id": 10000, "message_type": "group", "user_id": 1,'
     b' "message_id": 1, "message": "x"}', "bad_group_id"),
    (b'{"post_type": "message", "self_id": 10000, "message_type": "private", "user_id": 1,'
     b' "message_id": 1, "message": [{"type": "text", "data": "x"}]}', "bad_message"),
])
async def test_malformed_events_are_400_and_change_nothing(
    client: TestClient, db: Database, body: bytes, reason: str
) -> None:
    response = await post(client, body)
    assert (response.status, await response.text()) == (400, reason)
    assert await stored(db) == (0, 0)


async def test_deeply_nested_json_is_400(client: TestClient) -> None:
    response = await post(client, b"[" * 30_000 + b"]" * 30_000)
    assert (response.status, await response.text()) == (400, "malformed_json")


async def test_a_body_over_64_kib_is_413(client: TestClient, db: Database) -> None:
    big = json.dumps(event("帮助" + "啊" * 40_000)).encode()
    response = await post(client, big)
    assert response.status == 413
    assert 'reason="body_too_large"' in await metrics_text(client)


async def test_x_self_id_must_match_the_event(client: TestClient, db: Database) -> None:
    response = await post(client, event("帮助"), headers={"X-Self-ID": "99999"})
    assert (response.status, await response.text()) == (400, "self_id_mismatch")
    assert await stored(db) == (0, 0)


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                       st.text(max_size=30))


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4))


_json = st.recursive(_json_leaf, _nested, max_leaves=12)
_segment = st.fixed_dictionaries({"type": st.sampled_from(["text", "at", "image", "reply", "x"]),
                                  "data": st.one_of(st.dictionaries(st.text(max_size=5), _json_leaf),
                                                    _json_leaf)})
_events = st.fixed_dictionaries({
    "post_type": st.one_of(st.sampled_from(["message", "notice", "meta_event"]), _json_leaf),
    "self_id": st.one_of(st.just(SELF), st.just(str(SELF)), _json_leaf),
    "message_type": st.one_of(st.sampled_from(["group", "private"]), _json_leaf),
    "user_id": st.one_of(st.integers(min_value=-5, max_value=10**22), _json_leaf),
    "group_id": st.one_of(st.integers(min_value=-5, max_value=10**22), _json_leaf),
    "message_id": st.one_of(st.integers(), st.text(max_size=80), _json_leaf),
    "message": st.one_of(st.text(max_size=60), st.lists(_segment, max_size=5), _json),
    "sender": _json,
})


@given(body=st.one_of(st.binary(max_size=300), _json.map(lambda v: json.dumps(v).encode()),
                      _events.map(lambda v: json.dumps(v).encode())))
@settings(max_examples=300, deadline=None)
def test_fuzzed_bodies_only_ever_parse_or_get_a_4xx(body: bytes) -> None:
    try:
        parse_event(json_object(body), None)
    except Rejected as exc:
        assert 400 <= exc.status < 500


@given(payload=_events)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_fuzzed_signed_events_never_get_a_5xx(client: TestClient, db: Database,
                                                    payload: dict[str, Any]) -> None:
    before = await stored(db)
    response = await post(client, json.dumps(payload).encode())
    assert response.status in (200, 204, 400), await response.text()
    if response.status != 200:
        assert await stored(db) == before
