"""Event reminders — 活动提醒: everyone with a place is reminded before an event starts.

For each of ``[scheduler] event_reminder_hours`` (default 24 and 2) every event that is
not cancelled has one reminder, due that many hours before its start. It goes privately
to each active member holding a place when it is sent — not to the waitlist (候补), not
to withdrawn sign-ups — and tells them the event, its time and place in the union's time
zone, the party size when they bring guests, and how to withdraw (取消报名 A12).

A reminder is left out when its time lies before the event was created, and, for an
event whose time or place was changed, before the last such change (``moved_at``): the
change notice has just told everyone. Other edits (capacity, note, audience) leave the
reminders alone. One caught up after a downtime is sent only while the event has not begun.
The start time is part of every key, so an event that moves gets new reminders for its
new time and the old time's are no longer planned; ``handlers.events.notify.recall_outdated`` takes back
the old time's reminders still waiting in the outbox when the event moves, and every
queued message of the event when it is cancelled.

Participants are read with one query for every event of the window (a whole year when
planning), shared by the window's occasions and read again in each new transaction.

Idempotency keys: ``event:A12:start-20270501T0600Z:remind-24h:member:<member id>``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from bot.outbox.queue import Target
from bot.render import say
from models.base import table_of
from models.events.keys import occasion_key
from models.events.tables import CANCELLED, CONFIRMED, Event, Signup, code_of
from models.org import Member
from scheduler.occasions import Delivery, Occasion, World

SOURCE = "event-reminder"
TEMPLATE = "reminders"

_e = table_of(Event)
_s = table_of(Signup)
_m = table_of(Member)

_IN_WINDOW = (
    _e.c.status != CANCELLED,
    _e.c.starts_at > bindparam("after"),
    _e.c.starts_at <= bindparam("until"),
)
_EVENTS = (
    select(_e.c.id, _e.c.number, _e.c.title, _e.c.place, _e.c.starts_at, _e.c.ends_at,
           _e.c.created_at, _e.c.moved_at)
    .where(*_IN_WINDOW)
    .order_by(_e.c.starts_at, _e.c.number)
)
_PARTIES = (
    select(_s.c.event_id, _e.c.starts_at, _s.c.member_id, _s.c.guests, _m.c.staff_no, _m.c.name)
    .join(_e, _e.c.id == _s.c.event_id)
    .join(_m, _m.c.id == _s.c.member_id)
    .where(*_IN_WINDOW, _s.c.status == CONFIRMED, _m.c.active.is_(True))
)


@dataclass(frozen=True, slots=True)
class Party:
    """A member holding a place, with the guests they bring and where they are reached."""

    member_id: int
    name: str
    label: str  # 张三（10001）
    guests: int
    target: Target | None


@dataclass(eq=False, slots=True)
class Window:
    """The events starting in ``(after, until]`` and, once asked, their parties.

    The parties are read for one session at a time: once for a whole plan (one query
    for the year, not one per reminder), afresh for each transaction of a run.
    """

    after: datetime
    until: datetime
    _session: AsyncSession | None = None
    _parties: dict[tuple[int, datetime], list[Party]] = field(default_factory=dict)

    async def parties(self, world: World, event_id: int, starts_at: datetime) -> list[Party]:
        """The parties of the event, by member id; none when it was cancelled or moved since."""
        if self._session is not world.session:
            rows = (await world.session.execute(
                _PARTIES, {"after": self.after, "until": self.until}
            )).tuples().all()
            roster = await world.roster() if rows else None
            targets: dict[int, Target | None] = {}
            found: dict[tuple[int, datetime], list[Party]] = defaultdict(list)
            for event, start, member_id, guests, staff_no, name in rows:
                if member_id not in targets:
                    assert roster is not None
                    targets[member_id] = roster.target_of(world.settings, member_id)
                found[(event, start)].append(
                    Party(member_id, name, f"{name}（{staff_no}）", guests, targets[member_id])
                )
            for parties in found.values():
                parties.sort(key=lambda party: party.member_id)
            self._parties, self._session = dict(found), world.session
        return self._parties.get((event_id, starts_at), [])


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder of one event, and the window it was found in."""

    event_id: int
    code: str
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime | None
    hours: int
    window: Window





class EventReminders:
    """The source of event reminders."""

    name = SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        hours = world.settings.scheduler.event_reminder_hours
        if not hours:
            return []
        window = Window(start + timedelta(hours=min(hours)), end + timedelta(hours=max(hours)))
        rows = await world.session.execute(_EVENTS, {"after": window.after, "until": window.until})
        tz = world.tz
        found = []
        for row in rows.tuples():
            event_id, number, title, place, starts_at, ends_at, created_at, moved_at = row
            code = code_of(number)
            for before in hours:
                due = starts_at - timedelta(hours=before)
                if not start < due <= end or due < created_at or (moved_at is not None and due < moved_at):
                    continue
                found.append(Occasion(
                    key=occasion_key(code, starts_at, before), source=SOURCE, due_at=due,
                    title=say(TEMPLATE, "event_title", code=code, title=title,
                              start=starts_at.astimezone(tz), hours=before),
                    payload=Reminder(event_id, code, title, place, starts_at, ends_at, before, window),
                ))
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: Reminder = occasion.payload
        if world.now >= item.starts_at:  # caught up too late: the event has begun
            return []
        parties = await item.window.parties(world, item.event_id, item.starts_at)
        if not parties:
            return []
        tz = world.tz
        start = item.starts_at.astimezone(tz)
        end = item.ends_at.astimezone(tz) if item.ends_at is not None else None
        today = max(world.now, occasion.due_at).astimezone(tz).date()
        problem = say(TEMPLATE, "no_private_account")

        def compose(party: Party) -> Reply:
            text = say(TEMPLATE, "event_reminder", name=party.name, code=item.code, title=item.title,
                       start=start, end=end, place=item.place, guests=party.guests, today=today)
            return Reply("\n".join(line for line in text.splitlines() if line.strip()))

        return [
            Delivery(key=f"{occasion.key}:member:{party.member_id}", label=party.label, target=party.target,
                     compose=partial(compose, party), problem=None if party.target else problem)
            for party in parties
        ]
