"""Holiday notices — 节日慰问通知: one notice per festival and year, sent before the day.

Each festival's settings (``[holidays."<key>"]``) are laid over built-in defaults: 春节,
端午 and 中秋 go to every member, 三八 to 女职工, 六一 to members with a child under 14;
the other festivals are off. A notice is sent ``days_before`` the festival at ``send_at``
(the union's time zone), to the group chats of the audience's branches or privately.

The text comes from ``templates/notices/holiday_<key>.txt.j2`` when it exists, else from
the generic ``holiday.txt.j2`` (or from the template named in the settings); each has a
``notice(n)`` macro, ``n`` being a :class:`NoticeValues`.

Idempotency keys: ``holiday:<year>-<key>:chat:<chat id>`` and
``holiday:<year>-<key>:member:<member id>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.holiday_notice import NoticeConfig, notice_config, render_notice
from bot.messages import Reply
from bot.outbox.queue import CHANNEL_LABELS, chat_target, unreachable_reason
from bot.render import say
from models.calendar.festivals import Festival, festivals_between
from models.chats import all_group_chats, group_chats_of, sync_robots
from models.org import Chat
from scheduler.audience import Person, Roster
from scheduler.occasions import Delivery, Occasion, World

logger = logging.getLogger(__name__)

SOURCE = "holiday"
MAX_DAYS_BEFORE = 60  # as bot.config.HolidaySettings allows


def occasion_key(festival: Festival) -> str:
    return f"{SOURCE}:{festival.date.year}-{festival.key}"


# ---------------------------------------------------------------- the source


@dataclass(frozen=True, slots=True)
class HolidayOccasion:
    festival: Festival
    config: NoticeConfig


class HolidayNotices:
    """The source of holiday notices."""

    name = SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        tz = world.tz
        first = start.astimezone(tz).date()
        last = end.astimezone(tz).date() + timedelta(days=MAX_DAYS_BEFORE)
        found = []
        for festival in festivals_between(first, last):
            config = notice_config(world.settings, festival.key)
            due = config.due_at(festival.date, tz)
            if config.enabled and start < due <= end:
                found.append(Occasion(
                    key=occasion_key(festival), source=SOURCE, due_at=due,
                    title=say("calendar", "notice_title", festival=festival,
                              audience=config.audience_label, delivery=config.delivery),
                    payload=HolidayOccasion(festival, config),
                ))
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: HolidayOccasion = occasion.payload
        roster = await world.roster()
        named: list[int] | None = None
        unknown: list[str] = []
        if item.config.branches:
            named, unknown = roster.named(item.config.branches)
            if unknown:
                logger.warning("%s: no branch named %s (holidays.%s.branches)",
                               occasion.key, "、".join(unknown), item.festival.key)
        if item.config.delivery == "private":
            within = None if named is None else roster.subtrees(named)
            people = roster.members(item.config.audience, item.festival.date, within)
            return [self._private(world, roster, occasion, item, person) for person in people]
        chats = await self._chats(world, named)
        if not chats:
            return [self._no_group(occasion, item, unknown)]
        return [self._group(world, occasion, item, chat) for chat in chats]

    async def _chats(self, world: World, branches: list[int] | None) -> list[Chat]:
        """The group chats of ``branches`` (and of the branches below them), by id;
        every group chat when ``branches`` is None (the whole union)."""
        settings = world.settings
        session = world.session
        await sync_robots(session, settings.wecom.robots if settings.wecom.enabled else ())
        found = (
            await all_group_chats(session) if branches is None
            else [chat for branch_id in branches for chat in await group_chats_of(session, branch_id)]
        )
        chats = {chat.id: chat for chat in found if chat.id is not None}
        return [chats[chat_id] for chat_id in sorted(chats)]

    def _group(self, world: World, occasion: Occasion, item: HolidayOccasion, chat: Chat) -> Delivery:
        target = chat_target(chat)
        problem = unreachable_reason(world.settings, target.channel, target.kind)
        settings = world.settings
        return Delivery(
            key=f"{occasion.key}:chat:{chat.id}",
            label=f"{chat.name or chat.chat_id}（{CHANNEL_LABELS.get(chat.channel, chat.channel)}）",
            target=None if problem else target,
            compose=lambda: render_notice(settings, item.festival, item.config),
            problem=problem,
            group=True,
        )

    def _no_group(self, occasion: Occasion, item: HolidayOccasion, unknown: list[str]) -> Delivery:
        """A notice for groups while none is registered: shown in the plan, never sent."""
        branches = list(item.config.branches)
        return Delivery(
            key=f"{occasion.key}:chat:none",
            label=say("calendar", "no_group_label", branches=branches),
            target=None,
            compose=lambda: Reply(""),
            problem=say("calendar", "no_group", branches=branches, unknown=unknown,
                        festival=item.festival.key),
            group=True,
            nobody=True,
        )

    def _private(
        self, world: World, roster: Roster, occasion: Occasion, item: HolidayOccasion, person: Person,
    ) -> Delivery:
        target = roster.target_of(world.settings, person.id)
        settings = world.settings
        return Delivery(
            key=f"{occasion.key}:member:{person.id}",
            label=person.label,
            target=target,
            compose=lambda: render_notice(settings, item.festival, item.config, recipient=person.name),
            problem=None if target else say("calendar", "no_private_account"),
        )
