"""金点子 rounds: the groups are reminded before a round closes, the officers told once it has.

Reminder: ``[ideas] reminder_days`` days before a round's last day, at ``reminder_time``,
each group chat of the round's branch (every group for a union-wide round) gets one
message with the close date and how many ideas have come in. Not for a round started
after that moment, nor once the round has closed.

Closed: when a round closes (its date passes, or an officer ends it), the officers who
started it — the branch's officers, the 校工会's for a union-wide round — get the round's
figures privately. Anonymous submitters are counted, never named.

Both keys carry the round's close time, so ending a round early replaces the planned
messages, and the outbox keeps the first row of each key: a second runner or a restart
queues nothing twice. Keys: ``idea-round:<id>:close-<UTC>:remind:chat:<chat id>`` and
``idea-round:<id>:close-<UTC>:closed:member:<member id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from bot.messages import Reply
from bot.outbox.queue import CHANNEL_LABELS, chat_target, unreachable_reason
from bot.render import say
from models.chats import all_group_chats, group_chats_of
from models.ideas.pseudonym import pseudonyms
from models.ideas.stats import compute
from models.ideas.tables import Idea, IdeaRound
from models.org import Chat
from scheduler.occasions import Delivery, Occasion, World
from scheduler.proposal_reminders import clock

REMINDER_SOURCE = "idea-round-reminder"
CLOSED_SOURCE = "idea-round-closed"
TEMPLATE = "ideas"

_CLOSING = (
    select(IdeaRound)
    .where(col(IdeaRound.closes_at) > bindparam("after"), col(IdeaRound.closes_at) <= bindparam("until"))
    .order_by(col(IdeaRound.closes_at), col(IdeaRound.id))
)


def last_day(found: IdeaRound, world: World) -> date:
    return (found.closes_at.astimezone(world.tz) - timedelta(microseconds=1)).date()


def stamp(found: IdeaRound) -> str:
    return found.closes_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


@dataclass(frozen=True, slots=True)
class RoundItem:
    round_id: int
    name: str
    branch_id: int | None
    closes: date
    closes_at: datetime


def _item(found: IdeaRound, world: World) -> RoundItem:
    return RoundItem(found.id or 0, found.name, found.branch_id, last_day(found, world), found.closes_at)


class IdeaRoundReminders:
    """The source of the reminders before a round closes."""

    name = REMINDER_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        rules = world.settings.ideas
        if not rules.reminder_days:
            return []
        ahead, at = timedelta(days=rules.reminder_days), clock(rules.reminder_time)
        rows = await world.session.scalars(_CLOSING, {"after": start + ahead - timedelta(days=2),
                                                      "until": end + ahead + timedelta(days=2)})
        found = []
        for row in rows:
            closes = last_day(row, world)
            due = datetime.combine(closes - ahead, at, world.tz).astimezone(UTC)
            if start < due <= end and row.opens_at <= due < row.closes_at:
                found.append(Occasion(
                    key=f"idea-round:{row.id}:close-{stamp(row)}:remind", source=REMINDER_SOURCE, due_at=due,
                    title=say(TEMPLATE, "reminder_title", name=row.name, closes=closes.isoformat()),
                    payload=_item(row, world),
                ))
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: RoundItem = occasion.payload
        if world.now >= item.closes_at:  # caught up too late: the round is over
            return []
        session = world.session
        chats = await (all_group_chats(session) if item.branch_id is None
                       else group_chats_of(session, item.branch_id))
        count = int(await session.scalar(
            select(func.count()).select_from(Idea).where(col(Idea.round_id) == item.round_id)) or 0)
        today = max(world.now, occasion.due_at).astimezone(world.tz).date()

        @cache
        def compose() -> Reply:
            return Reply(say(TEMPLATE, "reminder", name=item.name, closes=item.closes.isoformat(),
                             days=(item.closes - today).days + 1, count=count))

        return [self._delivery(world, occasion, chat, compose) for chat in sorted(chats, key=_chat_id)]

    @staticmethod
    def _delivery(world: World, occasion: Occasion, chat: Chat, compose: Callable[[], Reply]) -> Delivery:
        target = chat_target(chat)
        problem = unreachable_reason(world.settings, target.channel, target.kind)
        return Delivery(
            key=f"{occasion.key}:chat:{chat.id}",
            label=f"{chat.name or chat.chat_id}（{CHANNEL_LABELS.get(chat.channel, chat.channel)}）",
            target=None if problem else target, compose=compose, problem=problem, group=True,
        )


def _chat_id(chat: Chat) -> int:
    return chat.id or 0


class IdeaRoundClosed:
    """The source of the notices to the officers when a round has closed."""

    name = CLOSED_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        rows = await world.session.scalars(_CLOSING, {"after": start, "until": end})
        return [
            Occasion(key=f"idea-round:{row.id}:close-{stamp(row)}:closed", source=CLOSED_SOURCE,
                     due_at=row.closes_at, title=say(TEMPLATE, "closed_title", name=row.name),
                     payload=_item(row, world))
            for row in rows if row.opens_at < row.closes_at
        ]

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: RoundItem = occasion.payload
        roster = await world.roster()
        owners = roster.root_ids() if item.branch_id is None else [item.branch_id]
        officers = {p.id: p.label for owner in owners for p in roster.officers_for(owner)[1]}
        figures = await compute(world.session, col(Idea.round_id) == item.round_id,
                                pseudonyms(world.settings.ideas.key_file))

        @cache
        def compose() -> Reply:
            return Reply(say(TEMPLATE, "closed", name=item.name, total=figures.total))

        if not officers:
            return [Delivery(key=f"{occasion.key}:nobody", label=item.name, target=None, compose=compose,
                             problem=say(TEMPLATE, "closed_no_officer", name=item.name))]
        problem = say("reminders", "no_private_account")
        result = []
        for member_id in sorted(officers):
            target = roster.target_of(world.settings, member_id)
            result.append(Delivery(key=f"{occasion.key}:member:{member_id}", label=officers[member_id],
                                   target=target, compose=compose, problem=None if target else problem))
        return result
