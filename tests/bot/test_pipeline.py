"""The message path: routing, dedup, identity, permissions, errors, dialogs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.context import Context
from bot.errors import UserError
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.registry import Command
from handlers import build_registry
from models.audit import AuditLog
from models.db import Database
from models.dialog_state import DialogState
from models.inbound import InboundRecord
from models.org import Account, Chat, Role
from tests.clock import FrozenClock
from tests.factories import make_member, message


async def count(db: Database, table: type) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
async def zhang(db: Database) -> None:
    await make_member(db, "10001", "张三", roles=[Role.OFFICER], accounts=[("console", "u1")])
    await make_member(db, "10002", "李四", accounts=[("console", "u2")])


# ---------------------------------------------------------------- routing


async def test_unknown_word_in_group_is_ignored_without_touching_the_db(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    assert await pipeline.handle(message("大家中午好", chat_type="group")) is None
    assert await count(db, InboundRecord) == 0
    assert await count(db, Chat) == 0


async def test_unknown_word_in_private_gets_a_hint(pipeline: Pipeline, zhang: None) -> None:
    reply = await pipeline.handle(message("今天食堂开门吗"))
    assert reply is not None
    assert "帮助" in reply.text


async def test_mention_in_group_gets_a_hint_and_commands_are_answered(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    reply = await pipeline.handle(message("@工会助手 在吗", chat_type="group"))
    assert reply is not None and "帮助" in reply.text
    reply = await pipeline.handle(message("我", chat_type="group", mentions_bot=True))
    assert reply is not None and reply.text.startswith("张三（工号 10001）")
    assert reply.mention_sender is True
    async with db.read() as session:
        chat = await session.scalar(select(Chat))
    assert chat is not None and (chat.channel, chat.chat_id, chat.chat_type) == (
        "console", "group:g1", "group"
    )


async def test_full_width_prefix_and_digits_are_understood(pipeline: Pipeline, zhang: None) -> None:
    reply = await pipeline.handle(message("＃我的信息"))
    assert reply is not None and "工号 10001" in reply.text
    reply = await pipeline.handle(message("／帮助　绑定"))
    assert reply is not None and reply.text.startswith("绑定：")


async def test_emoji_and_mixed_width_text_never_crash(pipeline: Pipeline, zhang: None) -> None:
    for text in ("帮助😀", "😀😀😀", "我 🎉", "绑定 １０００１ 张三🎉", "帮助\u200b 我"):
        reply = await pipeline.handle(message(text))
        assert reply is not None
        assert "出了点问题" not in reply.text


async def test_a_10kb_message_is_refused_politely(pipeline: Pipeline, db: Database) -> None:
    reply = await pipeline.handle(message("帮助 " + "很" * 10_000))
    assert reply is not None and "太长" in reply.text
    assert await pipeline.handle(message("长" * 10_000, chat_type="group")) is None
    assert await count(db, InboundRecord) == 0


# ---------------------------------------------------------------- identity and roles


async def test_unbound_account_may_only_ask_for_help_and_bind(pipeline: Pipeline, zhang: None) -> None:
    reply = await pipeline.handle(message("我", sender="stranger"))
    assert reply is not None and "请先绑定" in reply.text
    reply = await pipeline.handle(message("帮助", sender="stranger"))
    assert reply is not None and "【基本】帮助、绑定" in reply.text and "、我" not in reply.text


async def test_inactive_member_is_treated_as_unbound(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "20001", "离职", active=False, accounts=[("console", "gone")])
    reply = await pipeline.handle(message("我", sender="gone"))
    assert reply is not None and "请先绑定" in reply.text


def _with_commands(pipeline: Pipeline, *commands: Command) -> Pipeline:
    registry = build_registry()
    for command in commands:
        registry.add(command)
    return Pipeline(db=pipeline.db, settings=pipeline.settings, registry=registry,
                    metrics=Metrics())


async def _write_audit_then(ctx: Context, args: str) -> str:
    await ctx.audit("test", "thing", after={"args": args})
    if args == "refuse":
        raise UserError("不行：例如 测试 ok")
    if args == "crash":
        raise RuntimeError("secret internals")
    return "好的"


TEST_COMMAND = Command(name="测试", handler=_write_audit_then, summary="测试", usage="测试",
                       example="测试 ok")
OFFICER_COMMAND = Command(name="干部命令", handler=_write_audit_then, summary="只给干部",
                          usage="干部命令", example="干部命令", role=Role.OFFICER)
PRIVATE_COMMAND = Command(name="私聊命令", handler=_write_audit_then, summary="私聊",
                          usage="私聊命令", example="私聊命令", scope="private")


async def test_role_is_checked_before_the_handler_runs(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    bot = _with_commands(pipeline, OFFICER_COMMAND)
    reply = await bot.handle(message("干部命令", sender="u2"))
    assert reply is not None and reply.text == "「干部命令」需要干部身份才能使用。如有疑问请联系工会干部。"
    assert await count(db, AuditLog) == 0
    reply = await bot.handle(message("干部命令", sender="u1"))
    assert reply is not None and reply.text == "好的"
    help_member = await bot.handle(message("帮助", sender="u2"))
    help_officer = await bot.handle(message("帮助", sender="u1"))
    assert help_member is not None and "干部命令" not in help_member.text
    assert help_officer is not None and "干部命令" in help_officer.text


async def test_private_only_command_in_a_group(pipeline: Pipeline, db: Database, zhang: None) -> None:
    bot = _with_commands(pipeline, PRIVATE_COMMAND)
    reply = await bot.handle(message("私聊命令", sender="u1", chat_type="group"))
    assert reply is not None and "只能私聊" in reply.text
    assert await count(db, AuditLog) == 0


# ---------------------------------------------------------------- errors and rollback


async def test_refusal_rolls_back_the_handlers_writes_but_is_remembered(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    bot = _with_commands(pipeline, TEST_COMMAND)
    first = await bot.handle(message("测试 refuse", sender="u1", message_id="r1"))
    assert first is not None and first.text == "不行：例如 测试 ok"
    assert await count(db, AuditLog) == 0
    again = await bot.handle(message("测试 refuse", sender="u1", message_id="r1"))
    assert again == first
    assert await count(db, InboundRecord) == 1


async def test_unexpected_error_answers_politely_and_logs_traceback(
    pipeline: Pipeline, db: Database, zhang: None, caplog: pytest.LogCaptureFixture
) -> None:
    bot = _with_commands(pipeline, TEST_COMMAND)
    with caplog.at_level(logging.ERROR):
        reply = await bot.handle(message("测试 crash", sender="u1", message_id="c1"))
    assert reply is not None and "出了点问题" in reply.text and "secret" not in reply.text
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
    assert await count(db, AuditLog) == 0
    assert await count(db, InboundRecord) == 0  # a retry may try again
    assert 'unionbot_handler_errors_total{command="测试"} 1.0' in bot.metrics.render().decode()


# ---------------------------------------------------------------- dedup


async def test_a_redelivery_gets_the_stored_reply_and_does_no_work(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    bot = _with_commands(pipeline, TEST_COMMAND)
    first = await bot.handle(message("测试 ok", sender="u1", message_id="d1"))
    second = await bot.handle(message("测试 ok", sender="u1", message_id="d1"))
    assert first == second
    assert await count(db, AuditLog) == 1
    assert b'unionbot_messages_duplicate_total{channel="console"} 1.0' in bot.metrics.render()


async def test_concurrent_retries_do_the_work_once(
    pipeline: Pipeline, db: Database, zhang: None
) -> None:
    bot = _with_commands(pipeline, TEST_COMMAND)
    replies = await asyncio.gather(
        *(bot.handle(message("测试 ok", sender="u1", message_id="same")) for _ in range(3))
    )
    assert [r.text if r else None for r in replies] == ["好的"] * 3
    assert await count(db, AuditLog) == 1
    assert await count(db, InboundRecord) == 1


async def test_a_retry_after_restart_gets_the_stored_reply(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await make_member(db, "10001", "张三")
    first = await pipeline.handle(message("绑定 10001 张三", sender="w1", message_id="b1"))
    restarted = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
    second = await restarted.handle(message("绑定 10001 张三", sender="w1", message_id="b1"))
    assert first is not None and first.text.startswith("绑定成功")
    assert second == first
    assert await count(db, Account) == 1


async def test_same_message_id_on_two_channels_is_two_messages(
    pipeline: Pipeline, db: Database
) -> None:
    await pipeline.handle(message("帮助", channel="console", message_id="x"))
    await pipeline.handle(message("帮助", channel="onebot", message_id="x"))
    assert await count(db, InboundRecord) == 2


# ---------------------------------------------------------------- dialogs


async def test_bind_dialog_asks_one_question_at_a_time(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await make_member(db, "10001", "张三")
    texts = []
    for text in ("绑定", "abc$%", "10001", "张三"):
        reply = await pipeline.handle(message(text, sender="w9"))
        assert reply is not None
        texts.append(reply.text)
    assert "请发送你的工号" in texts[0]
    assert "格式不对" in texts[1] and "请发送你的工号" in texts[1]
    assert texts[2].startswith("请发送你的姓名")
    assert texts[3].startswith("绑定成功")
    assert await count(db, DialogState) == 0


async def test_dialog_survives_a_restart_and_can_be_cancelled(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await make_member(db, "10001", "张三")
    await pipeline.handle(message("绑定 10001", sender="w9"))
    restarted = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())
    reply = await restarted.handle(message("取消", sender="w9"))
    assert reply is not None and reply.text == "已取消。"
    assert await count(db, DialogState) == 0
    assert await count(db, Account) == 0


async def test_dialog_is_keyed_per_user(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三")
    await pipeline.handle(message("绑定", sender="a", chat_id="shared"))
    reply = await pipeline.handle(message("10001", sender="b", chat_id="shared"))
    assert reply is not None and reply.text.startswith("你好！我是工会助手")
    reply = await pipeline.handle(message("10001", sender="a", chat_id="shared"))
    assert reply is not None and reply.text.startswith("请发送你的姓名")


async def test_dialog_times_out_when_idle(pipeline: Pipeline, db: Database, clock: FrozenClock) -> None:
    await make_member(db, "10001", "张三")
    await pipeline.handle(message("绑定", sender="w9"))
    clock.advance(minutes=11)
    reply = await pipeline.handle(message("10001", sender="w9"))
    assert reply is not None and reply.text.startswith("你好！我是工会助手")
    assert await count(db, DialogState) == 0


async def test_another_command_during_a_dialog_pauses_the_dialog(
    pipeline: Pipeline, db: Database
) -> None:
    await make_member(db, "10001", "张三")
    await pipeline.handle(message("绑定", sender="w9"))
    await pipeline.handle(message("10001", sender="w9"))
    reply = await pipeline.handle(message("帮助", sender="w9"))
    assert reply is not None and "可以使用的命令" in reply.text
    assert reply.text.endswith("发送「绑定」接着填，发送「取消」放弃。）")
    reply = await pipeline.handle(message("绑定", sender="w9"))
    assert reply is not None and reply.text.endswith("请发送你的姓名（与工会名册一致），例如：张三")
    reply = await pipeline.handle(message("张三", sender="w9"))
    assert reply is not None and reply.text.startswith("绑定成功")
    assert await count(db, DialogState) == 0


async def test_a_refused_dialog_ends_instead_of_looping(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三")
    for text in ("绑定", "10001"):
        await pipeline.handle(message(text, sender="w9"))
    reply = await pipeline.handle(message("王五", sender="w9"))
    assert reply is not None and "对不上" in reply.text
    assert await count(db, DialogState) == 0
    reply = await pipeline.handle(message("王五", sender="w9"))
    assert reply is not None and "请先绑定" in reply.text


async def test_a_stored_dialog_the_code_no_longer_has_is_dropped(
    pipeline: Pipeline, db: Database, clock: FrozenClock
) -> None:
    async with db.write() as session:
        session.add(DialogState(channel="console", chat_id="private:w9", user_id="w9",
                                dialog="retired", data="{}", updated_at=clock()))
    reply = await pipeline.handle(message("帮助", sender="w9"))
    assert reply is not None and "可以使用的命令" in reply.text
    assert await count(db, DialogState) == 0


async def test_restarting_a_dialog_and_commands_at_any_step(pipeline: Pipeline, db: Database) -> None:
    await make_member(db, "10001", "张三")
    for text in ("绑定", "绑定"):
        await pipeline.handle(message(text, sender="w9"))
    reply = await pipeline.handle(message("10001", sender="w9"))
    assert reply is not None and reply.text.startswith("请发送你的姓名")
    reply = await pipeline.handle(message("帮助", sender="w9"))  # at the name question
    assert reply is not None and "可以使用的命令" in reply.text
    for text in ("绑定", "帮助 我", "绑定"):
        await pipeline.handle(message(text, sender="w9"))
    reply = await pipeline.handle(message("取消", sender="w9"))
    assert reply is not None and reply.text == "已取消。"
    assert await count(db, DialogState) == 0
