"""Running events — 发起、修改、取消活动: the officer's side of the domain."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.events.queries import Participant, most_guests, outside_audience, participants
from models.events.signups import Promotion, promote
from models.events.tables import CANCELLED, Event, EventRefusal, Timing, over, phase

logger = logging.getLogger(__name__)

NUMBER_ATTEMPTS = 5
MOVING_FIELDS = ("starts_at", "ends_at", "place")  # changes everyone signed up is told of


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an officer fills in to create an event."""

    title: str
    place: str
    starts_at: datetime
    capacity: int
    ends_at: datetime | None = None
    deadline: datetime | None = None
    max_guests: int = 0
    audience_branch_id: int | None = None
    audience_gender: str | None = None
    note: str | None = None
    fields: tuple[str, ...] = field(default_factory=tuple)


def _check_times(
    starts_at: datetime, ends_at: datetime | None, deadline: datetime | None, now: datetime,
    *, start_changed: bool = True, deadline_changed: bool = True,
) -> None:
    if start_changed and starts_at <= now:
        raise EventRefusal("start_in_past", starts_at=starts_at)
    if ends_at is not None and ends_at <= starts_at:
        raise EventRefusal("end_before_start", starts_at=starts_at, ends_at=ends_at)
    if deadline is not None and deadline > starts_at:
        raise EventRefusal("deadline_after_start", starts_at=starts_at, deadline=deadline)
    if deadline_changed and deadline is not None and deadline <= now:
        raise EventRefusal("deadline_in_past", deadline=deadline)


def snapshot(event: Event) -> dict[str, Any]:
    """The event's settings, for the audit log."""
    return {
        "title": event.title, "place": event.place, "starts_at": event.starts_at,
        "ends_at": event.ends_at, "deadline": event.deadline, "capacity": event.capacity,
        "max_guests": event.max_guests, "audience_branch_id": event.audience_branch_id,
        "audience_gender": event.audience_gender, "note": event.note,
        "fields": event.field_names, "status": event.status,
    }


async def create_event(
    session: AsyncSession, *, draft: EventDraft, created_by: int | None, now: datetime
) -> Event:
    """Store a new event with the next free code ``A<n>``.

    Two officers creating events at once may pick the same number; the loser retries
    in a savepoint with the number after the winner's.
    """
    _check_times(draft.starts_at, draft.ends_at, draft.deadline, now)
    for _attempt in range(NUMBER_ATTEMPTS):
        last = await session.scalar(select(func.coalesce(func.max(col(Event.number)), 0)))
        event = Event(
            number=int(last or 0) + 1, title=draft.title, place=draft.place,
            starts_at=draft.starts_at, ends_at=draft.ends_at, deadline=draft.deadline,
            capacity=draft.capacity, max_guests=draft.max_guests,
            audience_branch_id=draft.audience_branch_id, audience_gender=draft.audience_gender,
            note=draft.note, fields=json.dumps(list(draft.fields), ensure_ascii=False),
            created_by=created_by, created_at=now, updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(event)
                await session.flush()
        except IntegrityError:
            logger.info("event number %s taken meanwhile; trying the next", event.number)
            continue
        return event
    raise RuntimeError("could not allocate an event number")


@dataclass(frozen=True, slots=True)
class Modification:
    before: dict[str, Any]
    after: dict[str, Any]
    changed: tuple[str, ...]  # names of the fields that changed
    promoted: tuple[Promotion, ...]

    @property
    def moved(self) -> bool:
        """Time or place changed: everyone signed up should be told."""
        return any(name in MOVING_FIELDS for name in self.changed)


def _refuse_unless_running(event: Event, now: datetime, tz: ZoneInfo, timing: Timing) -> None:
    """Refuse to change a cancelled (also: cancel again) or finished event."""
    if (refusal := over(event, phase(event, now, tz, timing))) is not None:
        raise refusal


async def _check_changes(
    session: AsyncSession, event: Event, changes: dict[str, Any], now: datetime
) -> None:
    assert event.id is not None
    merged = {**snapshot(event), **changes}
    _check_times(
        merged["starts_at"], merged["ends_at"], merged["deadline"], now,
        start_changed="starts_at" in changes, deadline_changed="deadline" in changes,
    )
    if "capacity" in changes and changes["capacity"] < event.places_taken:
        raise EventRefusal("capacity_below_taken", code=event.code, taken=event.places_taken)
    if "max_guests" in changes and changes["max_guests"] < (most := await most_guests(session, event.id)):
        raise EventRefusal("guests_below_taken", code=event.code, most=most)
    if "audience_branch_id" in changes or "audience_gender" in changes:
        names = await outside_audience(
            session, event.id, merged["audience_branch_id"], merged["audience_gender"]
        )
        if names:
            raise EventRefusal("audience_excludes", code=event.code, names=names)


async def modify_event(
    session: AsyncSession, *, event: Event, changes: dict[str, Any], now: datetime,
    tz: ZoneInfo, timing: Timing,
) -> Modification:
    """Change an event's settings (修改活动); the event row must be locked.

    Lowering the capacity below the places already taken is refused, never dropping
    anyone; raising it promotes from the waitlist.
    """
    _refuse_unless_running(event, now, tz, timing)
    await _check_changes(session, event, changes, now)
    before = snapshot(event)
    for name, value in changes.items():
        stored = json.dumps(list(value), ensure_ascii=False) if name == "fields" else value
        setattr(event, name, stored)
    after = snapshot(event)
    changed = tuple(name for name in after if after[name] != before[name])
    if any(name in MOVING_FIELDS for name in changed):
        event.revision += 1
        event.moved_at = now
    event.updated_at = now
    await session.flush()
    promoted = await promote(session, event, now) if "capacity" in changed else ()
    return Modification(before, after, changed, promoted)


async def cancel_event(
    session: AsyncSession, *, event: Event, reason: str | None, now: datetime, tz: ZoneInfo,
    timing: Timing,
) -> list[Participant]:
    """Call an event off (取消活动); returns everyone who was signed up, to be told."""
    assert event.id is not None
    _refuse_unless_running(event, now, tz, timing)
    event.status = CANCELLED
    event.cancel_reason = reason
    event.cancelled_at = now
    event.updated_at = now
    await session.flush()
    return await participants(session, event.id)
