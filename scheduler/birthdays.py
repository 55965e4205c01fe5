"""Birthdays — 生日慰问: each morning the officers of a branch get its birthday list.

At ``[scheduler] birthday_time`` the officers of each branch receive, privately, the
members of that branch whose birthday is that day (``birthday_range = "day"``), or, on
Mondays, those of the week Monday to Sunday (``"week"``). A branch without officers sends
its list to the officers of the nearest branch above it. No list when nobody has a
birthday. Members born on 29 February have their birthday on 28 February in common years.
With ``birthday_greeting = true`` each member also gets a private greeting on the day.
Birthdays are never posted in groups (DESIGN §8).

Idempotency keys: ``birthday:<day>:branch:<branch id>:member:<officer id>`` (weekly:
``birthday:week:<monday>:…``) and ``birthday:<day>:greeting:member:<member id>``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from bot.config import Settings
from bot.messages import Reply
from bot.render import say
from scheduler.audience import Person, Roster
from scheduler.occasions import Delivery, Occasion, World

SOURCE = "birthday"


@dataclass(frozen=True, slots=True)
class BirthdayOccasion:
    """A list for the days ``first``…``last``, or the greetings of ``first``."""

    kind: str  # "list" or "greeting"
    first: date
    last: date


def send_time(settings: Settings) -> time:
    hours, minutes = settings.scheduler.birthday_time.split(":")
    return time(int(hours), int(minutes))


class Birthdays:
    """The source of birthday lists and greetings."""

    name = SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        settings, tz = world.settings, world.tz
        at = send_time(settings)
        weekly = settings.scheduler.birthday_range == "week"
        found = []
        day = start.astimezone(tz).date()
        while day <= end.astimezone(tz).date():
            due = datetime.combine(day, at, tz).astimezone(UTC)
            if start < due <= end:
                if not weekly:
                    found.append(self._list(f"{SOURCE}:{day.isoformat()}", due, day, day))
                elif day.weekday() == 0:
                    found.append(self._list(f"{SOURCE}:week:{day.isoformat()}", due, day,
                                            day + timedelta(days=6)))
                if settings.scheduler.birthday_greeting:
                    found.append(Occasion(
                        key=f"{SOURCE}:{day.isoformat()}:greeting", source=SOURCE, due_at=due,
                        title=say("calendar", "greeting_title", day=day),
                        payload=BirthdayOccasion("greeting", day, day),
                    ))
            day += timedelta(days=1)
        return found

    def _list(self, key: str, due: datetime, first: date, last: date) -> Occasion:
        return Occasion(
            key=key, source=SOURCE, due_at=due,
            title=say("calendar", "birthday_title", first=first, last=last),
            payload=BirthdayOccasion("list", first, last),
        )

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: BirthdayOccasion = occasion.payload
        roster = await world.roster()
        if item.kind == "greeting":
            return [self._greeting(world, roster, occasion, person) for person in roster.born_on(item.first)]
        by_branch: dict[int, list[tuple[date, Person]]] = defaultdict(list)
        day = item.first
        while day <= item.last:
            for person in roster.born_on(day):
                by_branch[person.branch_id].append((day, person))
            day += timedelta(days=1)
        deliveries = []
        for branch_id in sorted(by_branch):
            deliveries.extend(self._lists(world, roster, occasion, item, branch_id, by_branch[branch_id]))
        return deliveries

    def _lists(
        self, world: World, roster: Roster, occasion: Occasion, item: BirthdayOccasion, branch_id: int,
        entries: list[tuple[date, Person]],
    ) -> list[Delivery]:
        branch = roster.branch_name(branch_id)
        _, officers = roster.officers_for(branch_id)
        key = f"{occasion.key}:branch:{branch_id}"

        @cache
        def compose() -> Reply:  # rendered once, and only when sent
            return Reply(say("calendar", "birthday_list", branch=branch, first=item.first, last=item.last,
                             entries=entries))

        if not officers:
            return [Delivery(key=f"{key}:nobody", label=branch, target=None, compose=compose,
                             problem=say("calendar", "no_officer", branch=branch))]
        result = []
        for officer in officers:
            target = roster.target_of(world.settings, officer.id)
            label = say("calendar", "officer_label", name=officer.name, staff_no=officer.staff_no,
                        branch=branch)
            result.append(Delivery(
                key=f"{key}:member:{officer.id}", label=label,
                target=target, compose=compose,
                problem=None if target else say("calendar", "no_private_account"),
            ))
        return result

    def _greeting(self, world: World, roster: Roster, occasion: Occasion, person: Person) -> Delivery:
        target = roster.target_of(world.settings, person.id)
        union = world.settings.union.name
        return Delivery(
            key=f"{occasion.key}:member:{person.id}", label=person.label, target=target,
            compose=lambda: Reply(say("calendar", "birthday_greeting", name=person.name, union=union)),
            problem=None if target else say("calendar", "no_private_account"),
        )
