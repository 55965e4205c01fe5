"""The one path every message takes (DESIGN §3).

normalise → (groups: ignore what is not for the bot) → dedup → identify → open dialog?
→ route command → check scope and role → handler → Reply.

All database work of one message, including its dedup record, happens in one write
transaction. A handler's changes sit in a savepoint: when it refuses bad input
(``UserError``) they are rolled back, and the refusal is still stored as the reply.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from bot import dialogs
from bot.config import Settings
from bot.context import Context
from bot.errors import UserError
from bot.messages import Incoming, Reply
from bot.metrics import Metrics
from bot.registry import Command, Registry, role_allows
from bot.render import say
from bot.text import normalize, strip_mention
from models.base import utcnow
from models.db import Database
from models.org import Account, Chat, Member, MemberRole, Role
from models.records import InboundRecord

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Routed:
    """The cleaned text of a message and the command it names, if any."""

    text: str
    match: tuple[Command, str] | None
    mentioned: bool


class Pipeline:
    """Turns an ``Incoming`` into a ``Reply`` (or None: stay silent)."""

    def __init__(
        self, *, db: Database, settings: Settings, registry: Registry, metrics: Metrics
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.metrics = metrics

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
        """Do the work of a message at most once; a redelivery gets the stored reply."""
        key = incoming.dedup_key
        try:
            async with self.db.write() as session:
                record = await session.scalar(
                    select(InboundRecord).where(InboundRecord.dedup_key == key)
                )
                if record is not None:
                    self.metrics.duplicates.labels(incoming.channel).inc()
                    return _stored(record)
                record = InboundRecord(dedup_key=key, channel=incoming.channel)
                session.add(record)
                await session.flush()
                reply = await self._work(session, incoming, routed)
                record.reply = reply.to_json() if reply is not None else None
                return reply
        except IntegrityError:
            # another replica or a concurrent retry committed this message first
            async with self.db.read() as session:
                record = await session.scalar(
                    select(InboundRecord).where(InboundRecord.dedup_key == key)
                )
            if record is None:
                raise
            self.metrics.duplicates.labels(incoming.channel).inc()
            return _stored(record)

    async def _work(
        self, session: AsyncSession, incoming: Incoming, routed: Routed
    ) -> Reply | None:
        ctx = await self._context(session, incoming)
        if incoming.is_group:
            await self._remember_chat(session, incoming)
        savepoint = await session.begin_nested()
        try:
            reply = await self._dispatch(ctx, routed)
        except UserError as exc:
            await savepoint.rollback()
            return Reply(exc.message, mention_sender=incoming.is_group)
        await savepoint.commit()
        return reply

    async def _dispatch(self, ctx: Context, routed: Routed) -> Reply | None:
        if not ctx.is_group:
            state = await dialogs.load_state(ctx)
            dialog = self.registry.dialog(state.dialog) if state else None
            if state is not None and dialog is not None:
                reply = await dialogs.answer(
                    ctx, state, dialog, routed.text, is_command=routed.match is not None
                )
                if reply is not None:
                    return reply
        if routed.match is None:
            if ctx.member is None:
                return Reply(say("basics", "unknown_unbound"))
            return Reply(say("basics", "unknown_command"), mention_sender=ctx.is_group)
        command, args = routed.match
        self._check(ctx, command)
        result = await command.handler(ctx, args)
        reply = Reply(result) if isinstance(result, str) else result
        if ctx.is_group and not reply.mention_sender:
            reply = Reply(reply.text, reply.markdown, reply.file_url, mention_sender=True)
        return reply

    def _check(self, ctx: Context, command: Command) -> None:
        if command.scope == "private" and ctx.is_group:
            raise UserError(say("basics", "private_only", command=command.name))
        if command.scope == "group" and not ctx.is_group:
            raise UserError(say("basics", "group_only", command=command.name))
        if command.allow_unbound:
            return
        if ctx.member is None:
            raise UserError(say("basics", "bind_first"))
        if not role_allows(command.role, ctx.roles):
            raise UserError(
                say("basics", "denied", command=command.name, role=command.role.label)
            )

    async def _context(self, session: AsyncSession, incoming: Incoming) -> Context:
        member = await session.scalar(
            select(Member)
            .join(Account, col(Account.member_id) == col(Member.id))
            .where(Account.channel == incoming.channel, Account.external_id == incoming.sender_id)
        )
        roles: frozenset[Role] = frozenset()
        if member is not None and not member.active:
            member = None
        if member is not None:
            rows = await session.scalars(
                select(MemberRole.role).where(MemberRole.member_id == member.id)
            )
            roles = frozenset(Role(r) for r in rows) | {Role.MEMBER}
        return Context(
            session=session, incoming=incoming, member=member, roles=roles,
            settings=self.settings, registry=self.registry, now=utcnow(),
        )

    async def _remember_chat(self, session: AsyncSession, incoming: Incoming) -> None:
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        await session.execute(
            insert(Chat)
            .values(
                channel=incoming.channel, chat_id=incoming.chat_id, chat_type="group",
                name=incoming.chat_name, first_seen=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["channel", "chat_id"])
        )


def _stored(record: InboundRecord) -> Reply | None:
    return Reply.from_json(record.reply) if record.reply else None
