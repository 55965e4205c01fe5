"""定期公开 — the recurring 院务公开 items of ``[[notices.recurring]]``.

Each entry names a disclosure that is due every month, quarter, half-year or year (on
``day`` of its ``month`` within the period, at ``time``). When one is due, the officers
of the entry's ``branches`` (the 校工会's when none is named; a branch without officers
passes to the branch above it) are reminded privately to publish it.

Key: ``notice:recurring:<title>:<date>:member:<member id>``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.config.notices import RecurringDisclosure
from bot.render import say
from scheduler.audience import Person, Roster
from scheduler.notices import fixed
from scheduler.occasions import Delivery, Occasion, World

SOURCE = "notice-recurring"
T = "disclosures"
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecurringOccasion:
    item: RecurringDisclosure
    day: date


def due_days(item: RecurringDisclosure, first: date, last: date) -> Iterator[date]:
    """The days from ``first`` through ``last`` on which ``item`` is due."""
    length = PERIOD_MONTHS[item.every]
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        if (month - 1) % length + 1 == item.month:
            day = date(year, month, item.day)
            if first <= day <= last:
                yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class RecurringDisclosures:
    """Reminders of the 定期公开 items to the officers responsible."""

    name = SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        tz = world.tz
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        found = []
        for item in world.settings.notices.recurring:
            for day in due_days(item, first, last):
                due = datetime.combine(day, _clock(item.time), tz).astimezone(UTC)
                if start < due <= end:
                    found.append(Occasion(
                        key=f"notice:recurring:{item.title}:{day.isoformat()}", source=SOURCE, due_at=due,
                        title=say(T, "recurring_title", item=item, period=_period(day)),
                        payload=RecurringOccasion(item, day),
                    ))
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        payload: RecurringOccasion = occasion.payload
        roster = await world.roster()
        people = _responsible(roster, payload.item)
        problem = say("reminders", "no_private_account")
        result = []
        for person in people:
            target = roster.target_of(world.settings, person.id)
            text = say(T, "recurring_reminder", item=payload.item, period=_period(payload.day),
                       name=person.name)
            result.append(Delivery(
                key=f"{occasion.key}:member:{person.id}", label=person.label, target=target,
                compose=fixed(text), problem=None if target else problem,
            ))
        return result


def _period(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _responsible(roster: Roster, item: RecurringDisclosure) -> list[Person]:
    """The officers of the entry's branches (the union's when it names none), by id."""
    if item.branches:
        branches, unknown = roster.named(item.branches)
        if unknown:
            logger.warning("notices.recurring %s: no branch named %s", item.title, "、".join(unknown))
    else:
        branches = roster.root_ids()
    people: dict[int, Person] = {}
    for branch_id in branches:
        people.update((person.id, person) for person in roster.officers_for(branch_id)[1])
    return [people[member_id] for member_id in sorted(people)]
