"""Queueing messages: idempotency keys, reachability, choosing a member's account."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from bot.messages import Reply
from bot.outbox.queue import Target, Unreachable, enqueue, notify_member, recall, unreachable_reason
from models.db import Database
from models.outbox import OutboxMessage
from tests.factories import make_member, make_settings

SETTINGS = make_settings(
    onebot={"enabled": True, "api_url": "http://127.0.0.1:9"},
    wecom={"enabled": True, "corp_id": "ww1", "token": "t", "encoding_aes_key": "k" * 43},
    qq_official={"enabled": True, "app_id": "1", "secret": "s"},
)


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_same_key_is_queued_once(db: Database) -> None:
    target = Target("onebot", "group", "123456")
    async with db.write() as session:
        first = await enqueue(session, settings=SETTINGS, key="k1", target=target, reply=Reply("一"))
        second = await enqueue(session, settings=SETTINGS, key="k1", target=target, reply=Reply("二"))
    assert (first, second) == (True, False)
    [row] = await rows(db)
    assert (row.channel, row.target_kind, row.target, row.status, row.attempts) == (
        "onebot", "group", "123456", "queued", 0)
    assert Reply.from_json(row.payload) == Reply("一")


async def test_a_rolled_back_transaction_queues_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await enqueue(session, settings=SETTINGS, key="k", target=Target("onebot", "user", "1"),
                          reply=Reply("x"))
            raise RuntimeError("the work failed")
    assert await rows(db) == []


@pytest.mark.parametrize(("channel", "kind", "words"), [
    ("qq_official", "group", "只能被动回复"),
    ("qq_official", "user", "只能被动回复"),
    ("wechat_mp", "group", "没有群聊"),
    ("console", "user", "不能主动发消息"),
    ("wechat_mp", "user", "未在配置中启用"),
    ("onebot", "robot", "不能主动向这类对象发消息"),
])
async def test_unreachable_targets_are_refused_with_a_reason(
    db: Database, channel: str, kind: str, words: str
) -> None:
    reason = unreachable_reason(SETTINGS, channel, kind)
    assert reason is not None and words in reason
    async with db.write() as session:
        with pytest.raises(Unreachable) as caught:
            await enqueue(session, settings=SETTINGS, key="k", target=Target(channel, kind, "x"),  # type: ignore[arg-type]
                          reply=Reply("x"))
    assert caught.value.reason == reason
    assert await rows(db) == []


async def test_notify_member_prefers_wecom_then_onebot(db: Database) -> None:
    both = await make_member(db, "1", "甲", accounts=[("onebot", "qq1"), ("wecom", "wx1")])
    qq_only = await make_member(db, "2", "乙", accounts=[("onebot", "qq2"), ("console", "2")])
    passive = await make_member(db, "3", "丙", accounts=[("qq_official", "openid3")])
    async with db.write() as session:
        got = [await notify_member(session, settings=SETTINGS, member_id=m.id or 0,
                                   key=f"n:{m.staff_no}", reply=Reply("你好"))
               for m in (both, qq_only, passive)]
    assert got == [Target("wecom", "user", "wx1"), Target("onebot", "user", "qq2"), None]
    assert [(r.key, r.channel, r.target) for r in await rows(db)] == [
        ("n:1", "wecom", "wx1"), ("n:2", "onebot", "qq2")]


async def test_a_key_over_255_characters_is_a_programming_error(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(ValueError):
            await enqueue(session, settings=SETTINGS, key="k" * 256,
                          target=Target("onebot", "user", "1"), reply=Reply("x"))
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 0


async def test_recall_takes_back_only_queued_messages_whose_key_starts_exactly_so(db: Database) -> None:
    target = Target("onebot", "user", "1")
    keys = [
        "event:A1:start-20270501T0600Z:remind-24h:member:1",
        "event:A1:start-20270501T0600Z:remind-24h:member:2",  # being sent
        "event:A1:start-20270501T0600Z:remind-24h:member:3",  # sent
        "event:A1:start-20270503T0600Z:remind-24h:member:1",  # another start time
        "event:A12:start-20270501T0600Z:remind-24h:member:1",  # another event
        "event:a1:start-20270501T0600Z:remind-24h:member:1",  # another case
        "event:A1:changed:1:member:1",
        "100%_off:1", "100%Xoff:1", "100Y_off:1",  # LIKE wildcards in the prefix are plain text
    ]
    async with db.write() as session:
        for key in keys:
            await enqueue(session, settings=SETTINGS, key=key, target=target, reply=Reply("提醒"))
        for key, status in ((keys[1], "sending"), (keys[2], "sent")):
            await session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(status=status))
    async with db.write() as session:
        assert await recall(session, "event:A1:start-20270501T0600Z:remind-", "活动改了时间") == 1
        assert await recall(session, "100%_off:", "作废") == 1
        assert await recall(session, "event:A1:start-20270501T0600Z:remind-", "再撤一次") == 0
    found = {r.key: (r.status, r.last_error) for r in await rows(db)}
    assert found == {
        keys[0]: ("recalled", "活动改了时间"), keys[1]: ("sending", None), keys[2]: ("sent", None),
        **{key: ("queued", None) for key in keys[3:7]},
        "100%_off:1": ("recalled", "作废"), "100%Xoff:1": ("queued", None), "100Y_off:1": ("queued", None),
    }


async def test_a_recall_rolled_back_with_its_transaction_recalls_nothing(db: Database) -> None:
    async with db.write() as session:
        await enqueue(session, settings=SETTINGS, key="event:A1:start-x:1",
                      target=Target("onebot", "user", "1"), reply=Reply("x"))
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            assert await recall(session, "event:A1:start-", "活动已取消") == 1
            raise RuntimeError("the cancellation failed")
    assert [r.status for r in await rows(db)] == ["queued"]


async def test_an_empty_prefix_is_a_programming_error(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(ValueError):
            await recall(session, "", "全部作废")
