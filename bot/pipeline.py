"""The one path every message takes (DESIGN §3).

normalise → (groups: ignore what is not for the bot) → dedup → identify → open dialog?
→ route command → check scope and role → handler → Reply.

All database work of one message, including its dedup record, happens in one write
transaction. When a handler refuses bad input (``UserError``), its changes are rolled
back and the refusal is stored as the reply, so a redelivery gets the same answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Insert, bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot import dialogs
from bot.config import Settings
from bot.context import Context
from bot.dialogs import Dialog
from bot.errors import PermissionDenied, UserError
from bot.messages import Incoming, Reply
from bot.metrics import Metrics
from bot.registry import Command, Registry, fitted_example
from bot.render import say
from bot.text import normalize, shown, strip_mention
from models.base import PerDialect, execute_core, insert_for, table_of, utcnow
from models.db import Database
from models.fixed_sql import FixedInsert
from models.inbound import InboundRecord
from models.members import identify_sender
from models.org import Chat, role_allows

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4000


class _Duplicate(Exception):
    """The dedup record of this message exists: it was handled before."""


PASSIVE: Final = "passive"  # the reply goes in the answer to the platform's request
PUSHED: Final = "pushed"  # the request was answered empty; the reply goes through the outbox


class AnswerRoute:
    """How the reply of one copy of a message reaches the chat, chosen once.

    The channel that waits for the reply and the pipeline that makes it share this:
    the pipeline chooses ``passive`` when it stores the reply, the channel chooses
    ``pushed`` when its time is up; whichever comes first holds.
    """

    __slots__ = ("chosen",)

    def __init__(self) -> None:
        self.chosen: str | None = None

    def choose(self, route: str) -> str:
        if self.chosen is None:
            self.chosen = route
        return self.chosen


# set by a channel around starting ``Pipeline.handle``; absent: the reply is always passive
ANSWER_ROUTE: ContextVar[AnswerRoute | None] = ContextVar("answer_route", default=None)


def _choose_passive() -> str:
    route = ANSWER_ROUTE.get()
    return PASSIVE if route is None else route.choose(PASSIVE)


_CLAIM = FixedInsert(
    table_of(InboundRecord), ("dedup_key", "channel", "received_at", "reply", "answered")
)
_CHAT_KNOWN = select(Chat.id).where(
    col(Chat.channel) == bindparam("channel"), col(Chat.chat_id) == bindparam("chat_id")
)


def _remember_chat(dialect: str) -> Insert:
    return insert_for(dialect)(table_of(Chat)).values(
        channel=bindparam("channel"), chat_id=bindparam("chat_id"), chat_type="group",
        name=bindparam("name"), first_seen=bindparam("first_seen"),
    ).on_conflict_do_nothing(index_elements=["channel", "chat_id"])


_REMEMBER_CHAT = PerDialect(_remember_chat)
_STORED_REPLY = select(col(InboundRecord.reply), col(InboundRecord.answered)).where(
    col(InboundRecord.dedup_key) == bindparam("dedup_key")
)


@dataclass(frozen=True, slots=True)
class Routed:
    """The cleaned text of a message and the command it names, if any."""

    text: str
    match: tuple[Command, str] | None
    mentioned: bool


class Pipeline:
    """Turns an ``Incoming`` into a ``Reply`` (or None: stay silent)."""

    def __init__(
        self, *, db: Database, settings: Settings, registry: Registry, metrics: Metrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self.clock = clock  # the time a message is handled at (aware, UTC): ``Context.now``
        self._known_chats: set[tuple[str, str]] = set()  # group chats already recorded

    def route(self, incoming: Incoming) -> Routed:
        text, mentioned = strip_mention(normalize(incoming.text), self.settings.union.bot_name)
        return Routed(text, self.registry.match(text), mentioned or incoming.mentions_bot)

    async def handle(self, incoming: Incoming) -> Reply | None:
        channel = incoming.channel
        self.metrics.received.labels(channel).inc()
        routed = self.route(incoming)
        if incoming.is_group and routed.match is None and not routed.mentioned:
            self.metrics.ignored.labels(channel).inc()
            return None
        if len(routed.text) > MAX_TEXT_CHARS:
            self.metrics.rejected.labels(channel, "too_long").inc()
            return Reply(say("basics", "too_long", limit=MAX_TEXT_CHARS))
        label = routed.match[0].name if routed.match else "-"
        started = time.perf_counter()
        try:
            reply = await self._once(incoming, routed)
        except Exception:
            logger.exception("error handling %s message %s", channel, incoming.message_id)
            self.metrics.errors.labels(label).inc()
            reply = Reply(say("basics", "internal_error"))
        self.metrics.latency.labels(label).observe(time.perf_counter() - started)
        self.metrics.handled.labels(channel).inc()
        return reply

    async def _once(self, incoming: Incoming, routed: Routed) -> Reply | None:
        """Do the work of a message at most once; a redelivery gets the stored reply.

        The dedup record is inserted with the reply at the end of the message's
        transaction. A duplicate delivered concurrently (another replica, a platform
        retry) fails on the record's unique key, so its transaction, and with it
        all of its work, is rolled back, and it answers with the stored reply.
        When the handler refuses the input, everything it did is rolled back and
        the refusal is stored in a transaction of its own.
        """
        try:
            try:
                async with self.db.write() as session:
                    ctx, dialog_id = await self._context(session, incoming)
                    if incoming.is_group:
                        await self._remember_chat(session, incoming)
                    reply = await self._dispatch(ctx, routed, dialog_id)
                    await self._claim(session, incoming, reply)
            except UserError as exc:
                refusal = Reply(exc.message, mention_sender=incoming.is_group)
                async with self.db.write() as session:
                    await self._claim(session, incoming, refusal)
                return refusal
        except _Duplicate:
            return await self._stored(incoming)
        if incoming.is_group:
            if len(self._known_chats) > 100_000:
                self._known_chats.clear()
            self._known_chats.add((incoming.channel, incoming.chat_id))
        return reply

    async def _claim(
        self, session: AsyncSession, incoming: Incoming, reply: Reply | None
    ) -> None:
        """Insert the dedup record; ``_Duplicate`` when the message was handled before.

        The record says how the reply reaches the chat: passive if this copy can still
        answer the platform's request, else pushed (the channel queues it when it is
        back). The insert and the choice stand or fall together.
        """
        try:
            await _CLAIM.run(session, {
                "dedup_key": incoming.dedup_key, "channel": incoming.channel,
                "received_at": self.clock(), "reply": reply.to_json() if reply else None,
                "answered": _choose_passive(),
            })
        except IntegrityError:
            raise _Duplicate from None

    async def _stored(self, incoming: Incoming) -> Reply | None:
        """The stored reply, for a copy that may answer it passively; else None.

        A reply pushed through the outbox is sent by the copy that did the work, and
        a copy whose request was already answered empty leaves the answer to it."""
        self.metrics.duplicates.labels(incoming.channel).inc()
        async with self.db.read() as session:
            found = (await session.execute(_STORED_REPLY, {"dedup_key": incoming.dedup_key})).first()
        if found is None or found[0] is None or found[1] == PUSHED or _choose_passive() == PUSHED:
            return None
        return Reply.from_json(found[0])

    async def _dispatch(
        self, ctx: Context, routed: Routed, dialog_id: int | None
    ) -> Reply | None:
        interrupted: Dialog | None = None
        if not ctx.is_group and dialog_id is not None:
            state = await dialogs.load_state(ctx, dialog_id)
            dialog = self.registry.dialog(state.dialog) if state else None
            if state is not None and dialog is None:  # a dialog this version no longer has
                await ctx.session.delete(state)
            elif state is not None and dialog is not None:
                if routed.match is None:
                    return await dialogs.answer(ctx, state, dialog, routed.text)
                if routed.match[0].name == dialog.command and not routed.match[1]:
                    return dialogs.resume(ctx, state, dialog)
                if not dialogs.is_paused(state):
                    dialogs.pause(ctx, state)
                    interrupted = dialog
        if routed.match is None:
            return self._unknown(ctx, routed.text)
        reply = await self._run(ctx, *routed.match)
        if interrupted is not None:
            note = await dialogs.after_interruption(ctx, interrupted)
            reply = Reply(f"{reply.text}\n\n{note}", reply.markdown, reply.file_url,
                          mention_sender=reply.mention_sender)
        return reply

    async def _run(self, ctx: Context, command: Command, args: str) -> Reply:
        self._check(ctx, command)
        if not args and command.needs_args:
            raise UserError(say("basics", "missing_args", command=command))
        result = await command.handler(ctx, args)
        reply = Reply(result) if isinstance(result, str) else result
        if ctx.is_group and not reply.mention_sender:
            reply = Reply(reply.text, reply.markdown, reply.file_url, mention_sender=True)
        return reply

    def _unknown(self, ctx: Context, text: str) -> Reply:
        """Private chat (or an @-mention): the nearest commands, or a planned capability."""
        if ctx.member is None:
            return Reply(say("basics", "unknown_unbound", bot_name=self.settings.union.bot_name))
        guess = self.registry.guess(text, lambda command: self._may_use(ctx, command))
        examples = {command.name: fitted_example(command, text) for command in guess.commands}
        return Reply(say("basics", "unknown_command", text=shown(text), guess=guess, examples=examples),
                     mention_sender=ctx.is_group)

    @staticmethod
    def _may_use(ctx: Context, command: Command) -> bool:
        return command.allow_unbound or role_allows(command.role, ctx.roles)

    def _check(self, ctx: Context, command: Command) -> None:
        if command.scope == "private" and ctx.is_group:
            raise UserError(say("basics", "private_only", command=command.name))
        if command.scope == "group" and not ctx.is_group:
            raise UserError(say("basics", "group_only", command=command.name))
        if command.allow_unbound:
            return
        if ctx.member is None:
            raise UserError(say("basics", "bind_first"))
        if not ctx.has_role(command.role):
            raise PermissionDenied(
                say("basics", "denied", command=command.name, role=command.role.label)
            )

    async def _context(
        self, session: AsyncSession, incoming: Incoming
    ) -> tuple[Context, int | None]:
        """The handler's context, and the id of the sender's open dialog in this chat."""
        sender = await identify_sender(
            session, incoming.channel, incoming.sender_id, incoming.chat_id
        )
        ctx = Context(
            session=session, incoming=incoming, member=sender.member, roles=sender.roles,
            settings=self.settings, now=self.clock(),
        )
        return ctx, sender.dialog_id

    async def _remember_chat(self, session: AsyncSession, incoming: Incoming) -> None:
        """Record a group chat the first time the bot is addressed in it."""
        if (incoming.channel, incoming.chat_id) in self._known_chats:
            return
        key = {"channel": incoming.channel, "chat_id": incoming.chat_id}
        if await session.scalar(_CHAT_KNOWN, key) is None:
            insert_chat = _REMEMBER_CHAT["sqlite" if self.db.is_sqlite else "postgresql"]
            await execute_core(session, insert_chat, {
                **key, "name": incoming.chat_name, "first_seen": self.clock(),
            })
