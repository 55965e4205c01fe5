"""Events — 活动: the tables and the rules every event command shares.

An event (``Event``) has a short code ``A<n>``, a start, a place and a capacity counted
in persons: a member who signs up (``Signup`` — 报名) takes one place plus one for each
guest they bring (家属). A party that does not fit waits (候补) in sign-up order and is
promoted when places free up (``models.events.signups``).

The rules here refuse a request by raising ``EventRefusal``; its ``reason`` names a macro
of ``templates/notices/events.txt.j2``, so the wording stays with the other sentences.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

OPEN = "open"  # taking sign-ups (until its deadline)
CANCELLED = "cancelled"  # called off by an officer (取消活动)

CONFIRMED = "confirmed"  # has a place (正式报名)
WAITLIST = "waitlist"  # waits for a place (候补)
WITHDRAWN = "cancelled"  # took their sign-up back (取消报名)
ACTIVE = (CONFIRMED, WAITLIST)

GENDERS = ("女", "男")
CODE_PREFIX = "A"
_CODE = re.compile(r"^[Aa]0*([1-9][0-9]{0,8})$")


class EventRefusal(Exception):
    """A rule refuses the request; ``reason`` is a macro of ``notices/events.txt.j2``."""

    def __init__(self, reason: str, /, **values: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


class Event(SQLModel, table=True):
    """Event — 活动, with its sign-up rules."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)  # the n of the code A<n>
    title: str = Field(max_length=64)  # 名称
    place: str = Field(max_length=128)  # 地点
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)  # 时间
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # 结束
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)  # 截止; None: the default
    capacity: int  # 名额, in persons
    max_guests: int = 0  # 可带: guests one member may bring
    audience_branch_id: int | None = Field(  # 对象: a branch, or None for the whole union
        default=None,
        sa_column=Column(Integer, ForeignKey("branch.id"), nullable=True),
    )
    audience_gender: str | None = Field(default=None, max_length=4)  # 对象: 女职工 → "女"
    note: str | None = Field(default=None, sa_type=Text)  # 备注
    fields: str = Field(default="[]", sa_type=Text)  # 填写: JSON list of field names
    status: str = Field(default=OPEN, max_length=16)
    cancel_reason: str | None = Field(default=None, max_length=200)
    revision: int = 0  # counts changes of time or place, for notification keys
    moved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # last change of time or place
    # kept with every sign-up change, under the event's row lock (models.events.signups)
    places_taken: int = 0  # persons holding a place, guests included
    confirmed_count: int = 0  # sign-ups holding a place
    waiting_count: int = 0  # sign-ups on the waitlist
    last_seq: int = 0  # the last sign-up number handed out
    last_place: int = 0  # the last place number handed out
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def code(self) -> str:
        return code_of(self.number)

    @property
    def field_names(self) -> list[str]:
        names = json.loads(self.fields or "[]")
        return [str(name) for name in names]


class Signup(SQLModel, table=True):
    """Sign-up — 报名 of one member (with guests) for one event.

    One row per member and event: signing up again after withdrawing reuses the row
    with a new ``seq`` (a place at the end of the queue). Both counters are taken under
    the event's row lock, so they follow the order in which sign-ups were processed.
    """

    __tablename__ = "event_signup"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", name="uq_event_signup_member"),
        UniqueConstraint("event_id", "seq", name="uq_event_signup_seq"),
        UniqueConstraint("event_id", "place_seq", name="uq_event_signup_place"),
        Index("ix_event_signup_event_status", "event_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(foreign_key="member.id", index=True)
    seq: int  # order of signing up within the event, 1, 2, 3, …
    place_seq: int | None = None  # order in which places were given; None while waiting
    status: str = Field(max_length=16)
    guests: int = 0  # 家属 brought along
    note: str | None = Field(default=None, max_length=200)  # 备注
    answers: str = Field(default="{}", sa_type=Text)  # JSON: field name → answer
    signed_up_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def party(self) -> int:
        return 1 + self.guests


def code_of(number: int) -> str:
    """``12`` → ``"A12"``."""
    return f"{CODE_PREFIX}{number}"


def parse_code(text: str) -> int | None:
    """``"A12"`` / ``"a12"`` → 12; None when the text is not an event code."""
    match = _CODE.match(text.strip())
    return int(match.group(1)) if match else None


def looks_like_code(text: str) -> bool:
    """A word meant as a code (``A12``, ``A0``, ``A99999999999``), valid or not."""
    return re.fullmatch(r"[Aa][0-9]+", text.strip()) is not None


# ---------------------------------------------------------------- times


@dataclass(frozen=True, slots=True)
class Timing:
    """The configured margins: when sign-ups close by default and check-in opens."""

    default_deadline_before: timedelta = timedelta(0)
    checkin_margin: timedelta = timedelta(minutes=30)


def signup_deadline(event: Event, timing: Timing) -> datetime:
    """When sign-ups close: the event's own 截止, else its start minus the default margin."""
    return event.deadline or event.starts_at - timing.default_deadline_before


def closes_at(event: Event, tz: ZoneInfo) -> datetime:
    """When the event is over: its end, else the end of the day it starts on."""
    if event.ends_at is not None:
        return event.ends_at
    day = event.starts_at.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


def phase(event: Event, now: datetime, tz: ZoneInfo, timing: Timing) -> str:
    """``cancelled``, ``finished``, ``closed`` (sign-ups over, not yet ended) or ``open``."""
    if event.status == CANCELLED:
        return "cancelled"
    if now >= closes_at(event, tz):
        return "finished"
    if now >= signup_deadline(event, timing):
        return "closed"
    return "open"


def cancelled_refusal(event: Event) -> EventRefusal:
    """Acting on a cancelled event: names when it was called off and why."""
    return EventRefusal("event_cancelled", code=event.code, reason=event.cancel_reason, at=event.cancelled_at)


def finished_refusal(event: Event) -> EventRefusal:
    """Acting on an event that is over: names its end when it has one."""
    return EventRefusal("event_finished", code=event.code, ended=event.ends_at)


def over(event: Event, state: str) -> EventRefusal | None:
    """The refusal for an event in ``state`` when it is cancelled or finished, else None."""
    if state == "cancelled":
        return cancelled_refusal(event)
    if state == "finished":
        return finished_refusal(event)
    return None


def refuse_unless_open(event: Event, now: datetime, tz: ZoneInfo, timing: Timing) -> None:
    """Refuse sign-ups for a cancelled or finished event, or after the deadline."""
    state = phase(event, now, tz, timing)
    if (refusal := over(event, state)) is not None:
        raise refusal
    if state == "closed":
        raise EventRefusal("signup_closed", code=event.code, deadline=signup_deadline(event, timing))


# ---------------------------------------------------------------- audience


def admits(event: Event, branch_id: int, gender: str | None) -> bool:
    """Whether a member of ``branch_id`` with ``gender`` is in the event's audience (对象)."""
    if event.audience_branch_id is not None and event.audience_branch_id != branch_id:
        return False
    return event.audience_gender is None or event.audience_gender == gender
