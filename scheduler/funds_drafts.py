"""经费公示 drafts — on the first working day of each period (``[funds] publish``), at
``publish_time``, the previous period's statement of every ledger is drafted and its
branch's officers (else the nearest officers above) get the draft privately. Nothing is
published: an officer checks it and sends ``经费公示 <期间> 发布``.

Drafting is idempotent (one statement per ledger and period, a unique key), so a second
server running the same minute, or a rerun, adds nothing. A plan (``scheduler plan``)
creates no draft for an occasion that is not yet due. Keys:
``funds-draft:<period>:ledger:<ledger id>:member:<officer id>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import col, select

from bot.messages import Reply
from bot.render import say
from models.funds import statements as flow
from models.funds.figures import figure_values, figures
from models.funds.periods import Kind, Period, period_of
from models.funds.tables import FundLedger, statement_number
from scheduler.audience import Roster
from scheduler.occasions import Delivery, Occasion, World

SOURCE = "funds-draft"
KINDS: dict[str, Kind] = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}


def is_working_day(day: date) -> bool:
    """A working day on the statutory calendar (weekends otherwise, where it has no data)."""
    import chinese_calendar  # type: ignore[import-untyped]

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def first_working_day(start: date) -> date:
    day = start
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class DraftOccasion:
    period: Period  # the period that just ended


class FundDrafts:
    """The source of the periodic statement drafts."""

    name = SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        kind = KINDS.get(world.settings.funds.publish)
        if kind is None:
            return []
        hours, minutes = world.settings.funds.publish_time.split(":")
        at, tz = time(int(hours), int(minutes)), world.tz
        found = []
        day = start.astimezone(tz).date()
        while day <= end.astimezone(tz).date():
            current = period_of(kind, day)
            due = datetime.combine(day, at, tz).astimezone(UTC)
            if start < due <= end and first_working_day(current.start) == day:
                ended = current.previous()
                found.append(Occasion(key=f"{SOURCE}:{ended.key}", source=SOURCE, due_at=due,
                                      title=say("funds", "draft_title", label=ended.label),
                                      payload=DraftOccasion(ended)))
            day += timedelta(days=1)
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: DraftOccasion = occasion.payload
        ledgers = (await world.session.execute(select(FundLedger).order_by(col(FundLedger.id)))).scalars()
        roster = await world.roster()
        result = []
        for ledger in list(ledgers):
            assert ledger.id is not None
            if occasion.due_at <= world.now:
                await flow.ensure_draft(world.session, ledger.id, item.period, world.now)
            result += await self._tell(world, roster, occasion, ledger, item.period)
        return result

    async def _tell(
        self, world: World, roster: Roster, occasion: Occasion, ledger: FundLedger, period: Period,
    ) -> list[Delivery]:
        branch = roster.branch_name(ledger.branch_id)
        values = figure_values(await figures(world.session, world.settings.funds.tree, ledger, period))
        number = statement_number(period.key)
        text = say("funds", "n_drafted", number=number, period=period.key, text=say(
            "funds", "statement_text", s=values | {"ledger": branch, "number": number, "checkpoint": None,
                                                  "maker": ""}))
        key = f"{occasion.key}:ledger:{ledger.id}"
        _, officers = roster.officers_for(ledger.branch_id)
        if not officers:
            return [Delivery(key=f"{key}:nobody", label=branch, target=None, compose=lambda: Reply(text),
                             problem=say("calendar", "no_officer", branch=branch))]
        return [Delivery(
            key=f"{key}:member:{officer.id}", label=f"{officer.name}（{officer.staff_no}，{branch}）",
            target=(target := roster.target_of(world.settings, officer.id)), compose=lambda: Reply(text),
            problem=None if target else say("calendar", "no_private_account"),
        ) for officer in officers]
