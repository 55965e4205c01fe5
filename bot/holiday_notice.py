"""A festival's 慰问 notice: its effective settings (``[holidays.<name>]`` over the built-in
defaults) and its text, exactly as the scheduler sends it and ``节日 预览`` shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

from bot.config import HolidaySettings, Settings
from bot.messages import Reply
from bot.render import say
from models.calendar.arrangements import WEEKDAYS, library_knows
from models.calendar.festivals import KEYS, Festival

GENERIC_TEMPLATE = "holiday"


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


def days_off(festival: Festival) -> str:
    """What ``festival`` means for days off, in one phrase (its 放假安排 where known)."""
    known_year = library_knows(date(festival.date.year, 7, 1))
    return say("calendar", "days_off", festival=festival, known_year=known_year)


def notice_values(
    settings: Settings, festival: Festival, config: NoticeConfig, *, recipient: str | None, issued: date
) -> NoticeValues:
    note = days_off(festival)
    arrangement = None
    if festival.key == "除夕":
        arrangement = note if festival.arrangement is not None else None
    elif festival.arrangement is not None:
        arrangement = say("calendar", "arrangement", a=festival.arrangement)
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
