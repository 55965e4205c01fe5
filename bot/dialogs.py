"""Guided dialogs: one question per message, stored in the database.

A dialog is a list of steps; each step asks one question and parses the answer
(raising ``UserError`` to ask again). State is keyed by channel + chat + user,
so two people in a chat never mix answers, and it survives a restart. Another command
in the middle pauses the dialog; its command word alone takes it up again.
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
from bot.errors import UserError, complete
from bot.messages import Reply
from bot.render import say
from bot.text import strip_end_punctuation
from models.base import execute_core
from models.dialog_state import DialogState

CANCEL_WORDS = frozenset({"取消", "退出", "算了", "不填了", "放弃", "cancel"})
PAUSED_KEEP = timedelta(hours=24)  # how long a draft interrupted by a command is kept
_PAUSED = "_paused"  # in the stored answers: interrupted by a command
_ANSWERS = "_answers"  # in the stored answers: how a short answer completes the last one


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
    command: str  # the command word that starts the dialog (and resumes it)

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
    if is_paused(state):
        idle = max(idle, PAUSED_KEEP)
    if state.updated_at + idle < ctx.now:
        await _drop(ctx, state)
        return None
    return state


async def start(
    ctx: Context, dialog: Dialog, values: dict[str, Any] | None = None,
    *, asked: UserError | None = None,
) -> Reply:
    """Open ``dialog`` for the sender (replacing any open one) and ask its first question.

    ``asked``: the question about an answer already given that the next message answers.
    """
    values = dict(values or {})
    index = dialog.next_step(values)
    if index is None:
        return _as_reply(await dialog.finish(ctx, values))
    if asked is not None and asked.answers:
        values[_ANSWERS] = asked.answers
    state = await _stored(ctx)
    if state is None:
        channel, chat_id, user_id = _key(ctx)
        state = DialogState(channel=channel, chat_id=chat_id, user_id=user_id, dialog="")
        ctx.session.add(state)
    state.dialog = dialog.name
    _save(ctx, state, index, values)
    return Reply(say("basics", "dialog_started") + "\n" + dialog.steps[index].ask())


async def answer(ctx: Context, state: DialogState, dialog: Dialog, text: str) -> Reply:
    """Take ``text`` (not a command) as the answer to the open question.

    A short answer to a question the bot asked about the previous answer
    (``下午`` to ``「明天 3点」是上午还是下午？``) completes that answer. While the
    dialog is paused, the sender is reminded how to go on with it.
    """
    text = strip_end_punctuation(text)
    if text.lower() in CANCEL_WORDS:
        await _drop(ctx, state)
        return Reply(say("basics", "dialog_cancelled"))
    values: dict[str, Any] = json.loads(state.data)
    if values.get(_PAUSED):
        return Reply(say("basics", "dialog_waiting", command=dialog.command))
    step = dialog.steps[min(state.step, len(dialog.steps) - 1)]
    pending = values.pop(_ANSWERS, None)
    try:
        value = step.parse(complete(pending, text) if pending else text)
    except UserError as exc:
        _save(ctx, state, state.step, {**values, _ANSWERS: exc.answers} if exc.answers else values)
        return Reply(f"{exc.message}\n{step.ask()}" if not exc.answers else exc.message)
    values[step.key] = value
    index = dialog.next_step(values)
    if index is None:
        await _drop(ctx, state)
        return await _finish(ctx, dialog, values)
    _save(ctx, state, index, values)
    return Reply(dialog.steps[index].ask())


def pause(ctx: Context, state: DialogState) -> None:
    """Another command interrupts the dialog: keep the answers so far for later."""
    values = json.loads(state.data)
    values[_PAUSED] = True
    _save(ctx, state, state.step, values)


async def after_interruption(ctx: Context, dialog: Dialog) -> str:
    """What became of a dialog paused for a command: kept, or replaced by a new one."""
    state = await _stored(ctx)
    kept = state is not None and state.dialog == dialog.name and is_paused(state)
    return say("basics", "dialog_paused", command=dialog.command, kept=kept,
               hours=int(PAUSED_KEEP.total_seconds() // 3600))


def resume(ctx: Context, state: DialogState, dialog: Dialog) -> Reply:
    """The dialog's own command word, alone: go on with it where it stopped."""
    values = json.loads(state.data)
    values.pop(_PAUSED, None)
    _save(ctx, state, state.step, values)
    step = dialog.steps[min(state.step, len(dialog.steps) - 1)]
    return Reply(say("basics", "dialog_resumed") + "\n" + step.ask())


def is_paused(state: DialogState) -> bool:
    return bool(json.loads(state.data).get(_PAUSED))


def _save(ctx: Context, state: DialogState, index: int, values: dict[str, Any]) -> None:
    state.step = index
    state.data = json.dumps(values, ensure_ascii=False)
    state.updated_at = ctx.now


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
