"""Guided dialogs: one question per message, stored in the database.

A dialog is a list of steps; each step asks one question and parses the answer
(raising ``UserError`` to ask again). State is keyed by channel + chat + user,
so two people in a chat never mix answers, and it survives a restart.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.render import say
from models.base import execute_core
from models.dialog_state import DialogState

CANCEL_WORDS = frozenset({"取消", "退出", "算了", "cancel"})


@dataclass(frozen=True, slots=True)
class Step:
    """One question: ``prompt`` names a macro as (template, macro)."""

    key: str
    prompt: tuple[str, str]
    parse: Callable[[str], Any]

    def ask(self) -> str:
        return say(*self.prompt)


@dataclass(frozen=True, slots=True)
class Dialog:
    name: str
    steps: tuple[Step, ...]
    finish: Callable[[Context, dict[str, Any]], Awaitable[Reply | str]]

    def next_step(self, values: dict[str, Any]) -> int | None:
        for index, step in enumerate(self.steps):
            if step.key not in values:
                return index
        return None


def _key(ctx: Context) -> tuple[str, str, str]:
    m = ctx.incoming
    return m.channel, m.chat_id, m.sender_id


_STATE_ID = (
    select(DialogState.id)
    .where(col(DialogState.channel) == bindparam("channel"))
    .where(col(DialogState.chat_id) == bindparam("chat_id"))
    .where(col(DialogState.user_id) == bindparam("user_id"))
)


async def _stored(ctx: Context) -> DialogState | None:
    """The sender's stored dialog; a cheap id lookup first, as most messages have none."""
    channel, chat_id, user_id = _key(ctx)
    state_id = (await execute_core(
        ctx.session, _STATE_ID, {"channel": channel, "chat_id": chat_id, "user_id": user_id}
    )).scalar()
    if state_id is None:
        return None
    return await ctx.session.get(DialogState, state_id)


async def load_state(ctx: Context, state_id: int) -> DialogState | None:
    """The sender's open dialog ``state_id`` in this chat; an idle one is dropped."""
    state = await ctx.session.get(DialogState, state_id)
    if state is None:
        return None
    idle = timedelta(minutes=ctx.settings.dialog.idle_timeout_minutes)
    if state.updated_at + idle < ctx.now:
        await _drop(ctx, state)
        return None
    return state


async def start(ctx: Context, dialog: Dialog, values: dict[str, Any] | None = None) -> Reply:
    """Open ``dialog`` for the sender (replacing any open one) and ask its first question."""
    values = dict(values or {})
    index = dialog.next_step(values)
    if index is None:
        return _as_reply(await dialog.finish(ctx, values))
    state = await _stored(ctx)
    if state is None:
        channel, chat_id, user_id = _key(ctx)
        state = DialogState(channel=channel, chat_id=chat_id, user_id=user_id, dialog="")
        ctx.session.add(state)
    state.dialog = dialog.name
    state.step = index
    state.data = json.dumps(values, ensure_ascii=False)
    state.updated_at = ctx.now
    return Reply(say("basics", "dialog_started") + "\n" + dialog.steps[index].ask())


async def answer(
    ctx: Context, state: DialogState, dialog: Dialog, text: str, *, is_command: bool
) -> Reply | None:
    """Take ``text`` as the answer to the open question.

    A command word leaves the dialog: None is returned and the command runs instead.
    """
    if text.strip().lower() in CANCEL_WORDS:
        await _drop(ctx, state)
        return Reply(say("basics", "dialog_cancelled"))
    if is_command:
        await _drop(ctx, state)
        return None
    step = dialog.steps[min(state.step, len(dialog.steps) - 1)]
    try:
        value = step.parse(text)
    except UserError as exc:
        return Reply(f"{exc.message}\n{step.ask()}")
    values: dict[str, Any] = json.loads(state.data)
    values[step.key] = value
    index = dialog.next_step(values)
    if index is None:
        await _drop(ctx, state)
        return await _finish(ctx, dialog, values)
    state.step = index
    state.data = json.dumps(values, ensure_ascii=False)
    state.updated_at = ctx.now
    return Reply(dialog.steps[index].ask())


async def _drop(ctx: Context, state: DialogState) -> None:
    await ctx.session.delete(state)
    await ctx.session.flush()


async def _finish(ctx: Context, dialog: Dialog, values: dict[str, Any]) -> Reply:
    """Run the dialog's action; a refusal ends the dialog (its state stays deleted)."""
    try:
        async with ctx.session.begin_nested():
            return _as_reply(await dialog.finish(ctx, values))
    except UserError as exc:
        return Reply(exc.message)


def _as_reply(result: Reply | str) -> Reply:
    return Reply(result) if isinstance(result, str) else result
