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
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import HolidaySettings, Settings
from bot.messages import Reply
from bot.outbox import CHANNEL_LABELS, chat_target, unreachable_reason
from bot.render import say
from models.chats import all_group_chats, group_chats_of, sync_robots
from models.org import Chat
from scheduler.arrangements import WEEKDAYS, HolidayDataError, library_knows
from scheduler.audience import Person, Roster
from scheduler.calendar import KEYS, MAX_YEAR, MIN_YEAR, Festival, arrangement_text, festivals
from scheduler.occasions import Delivery, Occasion, World

logger = logging.getLogger(__name__)

SOURCE = "holiday"
GENERIC_TEMPLATE = "holiday"
MAX_DAYS_BEFORE = 60  # as bot.config.HolidaySettings allows
NO_DATA_DIR = Path(__file__).with_name("holidays") / "__none__"


@dataclass(frozen=True, slots=True)
class Builtin:
    """A festival's default notice settings."""

    enabled: bool
    days_before: int
    audience: str


DEFAULT_SEND_AT = time(9, 0)
DEFAULT_DELIVERY = "groups"
BUILTIN: dict[str, Builtin] = {
    key: Builtin(enabled=False, days_before=3, audience="all") for key in KEYS
} | {
    "春节": Builtin(enabled=True, days_before=7, audience="all"),
    "端午": Builtin(enabled=True, days_before=3, audience="all"),
    "中秋": Builtin(enabled=True, days_before=3, audience="all"),
    "三八": Builtin(enabled=True, days_before=3, audience="women"),
    "六一": Builtin(enabled=True, days_before=3, audience="parents_under_14"),
}

AUDIENCE_LABELS = {
    "all": "会员",
    "women": "女职工",
    "parents_under_14": "有不满14周岁子女的会员",
}


@dataclass(frozen=True, slots=True)
class NoticeConfig:
    """A festival's notice settings with the defaults filled in."""

    key: str
    enabled: bool
    days_before: int
    send_at: time
    audience: str
    branches: tuple[str, ...]
    delivery: str
    gift: str
    pickup_place: str
    pickup_time: str
    note: str
    template: str  # the file under templates/notices, without .txt.j2

    def due_at(self, festival_date: date, tz: ZoneInfo) -> datetime:
        """When the notice goes out, in UTC."""
        local = datetime.combine(festival_date - timedelta(days=self.days_before), self.send_at, tz)
        return local.astimezone(UTC)

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]


def notice_config(settings: Settings, key: str) -> NoticeConfig:
    """The effective notice settings of festival ``key``."""
    given = settings.holidays.get(key) or HolidaySettings()
    builtin = BUILTIN[key]
    send_at = DEFAULT_SEND_AT
    if given.send_at is not None:
        hours, minutes = given.send_at.split(":")
        send_at = time(int(hours), int(minutes))
    return NoticeConfig(
        key=key,
        enabled=builtin.enabled if given.enabled is None else given.enabled,
        days_before=builtin.days_before if given.days_before is None else given.days_before,
        send_at=send_at,
        audience=given.audience or builtin.audience,
        branches=tuple(given.branches),
        delivery=given.delivery or DEFAULT_DELIVERY,
        gift=given.gift.strip(),
        pickup_place=given.pickup_place.strip(),
        pickup_time=given.pickup_time.strip(),
        note=given.note.strip(),
        template=given.template or default_template(key),
    )


def default_template(key: str) -> str:
    """``holiday_<key>`` when that file exists, else the generic ``holiday``."""
    name = f"holiday_{key}"
    if (files("templates") / "notices" / f"{name}.txt.j2").is_file():
        return name
    return GENERIC_TEMPLATE


# ---------------------------------------------------------------- the calendar


@lru_cache(maxsize=32)
def _year(year: int, _stamp: int) -> tuple[Festival, ...]:
    try:
        return tuple(festivals(year))
    except HolidayDataError:
        logger.exception("holiday data of %d unreadable; notices go out without its arrangements", year)
        return tuple(festivals(year, NO_DATA_DIR))


def year_festivals(year: int) -> tuple[Festival, ...]:
    """The festivals of ``year``, re-read from the data files every ten minutes."""
    return _year(year, int(clock.monotonic() // 600))


def festivals_between(first: date, last: date) -> list[Festival]:
    """Festivals dated from ``first`` through ``last``, by date."""
    found: list[Festival] = []
    for year in range(max(first.year, MIN_YEAR), min(last.year, MAX_YEAR) + 1):
        found.extend(f for f in year_festivals(year) if first <= f.date <= last)
    return found


def next_festival(key: str, today: date) -> Festival:
    """The next occurrence of festival ``key`` on or after ``today``."""
    for year in (today.year, today.year + 1):
        for item in year_festivals(year):
            if item.key == key and item.date >= today:
                return item
    raise AssertionError(key)  # pragma: no cover - every festival comes once a year


def occasion_key(festival: Festival) -> str:
    return f"{SOURCE}:{festival.date.year}-{festival.key}"


# ---------------------------------------------------------------- the text


@dataclass(frozen=True, slots=True)
class NoticeValues:
    """What a notice template sees as ``n`` (documented in holiday.txt.j2)."""

    union: str
    key: str
    festival: str
    date: date
    date_text: str
    weekday: str
    lunar: str | None
    statutory: bool
    arrangement: str | None
    arrangement_note: str
    audience: str
    audience_label: str
    recipient: str | None
    gift: str
    pickup_place: str
    pickup_time: str
    note: str
    issued: str


def _date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def notice_values(
    settings: Settings, festival: Festival, config: NoticeConfig, *, recipient: str | None, issued: date
) -> NoticeValues:
    note = arrangement_text(festival, library_knows(date(festival.date.year, 7, 1)))
    arrangement = None
    if festival.arrangement is not None:
        arrangement = note if festival.key == "除夕" else festival.arrangement.description
    return NoticeValues(
        union=settings.union.name, key=festival.key, festival=festival.name, date=festival.date,
        date_text=_date_text(festival.date), weekday=WEEKDAYS[festival.date.weekday()],
        lunar=festival.lunar, statutory=festival.statutory, arrangement=arrangement,
        arrangement_note=note, audience=config.audience, audience_label=config.audience_label,
        recipient=recipient, gift=config.gift, pickup_place=config.pickup_place,
        pickup_time=config.pickup_time, note=config.note, issued=_date_text(issued),
    )


def render_notice(
    settings: Settings, festival: Festival, config: NoticeConfig, *, recipient: str | None = None,
) -> Reply:
    """The notice exactly as it is sent (``recipient``: the member's name when private)."""
    issued = festival.date - timedelta(days=config.days_before)
    values = notice_values(settings, festival, config, recipient=recipient, issued=issued)
    text = say(config.template, "notice", n=values)
    return Reply("\n".join(line.rstrip() for line in text.splitlines() if line.strip()))


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
