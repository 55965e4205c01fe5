"""Proposal reminders — 提案答复提醒 and the weekly 逾期提案周报.

Reply deadlines: ``[scheduler] proposal_reminder_days`` days before a proposal's reply
deadline (答复期限), at ``proposal_reminder_time``, the 承办人 of every department handling
it (主办 or 协办) get a private reminder — while the proposal is 办理中 and their department
has not answered in the current handling round. A 承办人 gets one message listing every
proposal of their department due that day. Proposals accepted after the reminder time
are left out: the assignment notice has just told the department. A reminder caught up
late counts the days left from the day it really goes out, and is dropped once the deadline
has passed (the overdue digest takes over).

Overdue digest: on ``overdue_digest_weekday`` at ``overdue_digest_time`` the officers of
the union (校工会干部) get the list of proposals past their deadline whose lead
department has not answered (as ``提案列表 逾期``); nothing when none is overdue.

Idempotency keys: ``proposal:deadline-<deadline>:member:<member id>`` and
``proposal:overdue-<day>:member:<member id>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Generic, TypeVar

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from bot.render import say
from models.base import table_of
from models.org import Member, MemberRole, Role
from models.proposals.queries import overdue_clause
from models.proposals.tables import Proposal, ProposalAssignment, ProposalReply, Status
from scheduler.occasions import Delivery, Occasion, World

DEADLINE_SOURCE = "proposal-deadline"
OVERDUE_SOURCE = "proposal-overdue"
TEMPLATE = "reminders"
DIGEST_LIMIT = 50  # proposals listed in one digest; the rest are counted

T = TypeVar("T")

_p = table_of(Proposal)
_a = table_of(ProposalAssignment)
_r = table_of(ProposalReply)
_m = table_of(Member)
_mr = table_of(MemberRole)

_DEADLINES = (
    select(_p.c.deadline).distinct()
    .where(_p.c.status == Status.ACCEPTED.value)
    .where(_p.c.deadline >= bindparam("first"), _p.c.deadline <= bindparam("last"))
    .order_by(_p.c.deadline)
)
_ANSWERED = exists().where(
    _r.c.proposal_id == _p.c.id, _r.c.department == _a.c.department,
    _r.c.handling_round == _p.c.handling_round,
)
_WAITING = (
    select(_p.c.deadline, _p.c.decided_at, _a.c.department, _a.c.lead, _p.c.number, _p.c.title,
           _p.c.lead_department)
    .join(_a, _a.c.proposal_id == _p.c.id)
    .where(_p.c.status == Status.ACCEPTED.value, ~_ANSWERED)
    .where(_p.c.deadline >= bindparam("first"), _p.c.deadline <= bindparam("last"))
    .order_by(_p.c.year, _p.c.seq)
)
_HANDLERS = (
    select(_m.c.id, _m.c.department, _m.c.staff_no, _m.c.name)
    .join(_mr, and_(_mr.c.member_id == _m.c.id, _mr.c.role == Role.HANDLER.value))
    .where(_m.c.active.is_(True), _m.c.department.is_not(None))
    .order_by(_m.c.id)
)
_OVERDUE_COLUMNS = (_p.c.number, _p.c.title, _p.c.lead_department, _p.c.deadline)


def clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True, slots=True)
class Item:
    """A proposal as a reminder lists it."""

    number: str
    title: str
    lead: bool  # the department reminded is its 主办
    lead_department: str | None
    deadline: date | None = None


def _clean(text: str) -> Reply:
    return Reply("\n".join(line for line in text.splitlines() if line.strip()))


class PerSession(Generic[T]):
    """What ``load`` reads, kept for one session: read once for a whole plan (all the
    occasions of a window share it), afresh in each transaction of a run."""

    def __init__(self, load: Callable[[AsyncSession], Awaitable[T]]) -> None:
        self._load = load
        self._session: AsyncSession | None = None
        self._value: T | None = None

    async def get(self, session: AsyncSession) -> T:
        if self._session is not session or self._value is None:
            self._value, self._session = await self._load(session), session
        return self._value


# ---------------------------------------------------------------- 提案答复提醒


@dataclass(frozen=True, slots=True)
class Waiting:
    """The proposals of a window waiting for an answer, and the 承办人 of every department."""

    items: dict[date, list[tuple[datetime | None, str, Item]]]  # deadline → (立案 at, department, item)
    handlers: list[tuple[int, str, str, str]]  # member id, department, staff no, name; by id


def _waiting(first: date, last: date) -> Callable[[AsyncSession], Awaitable[Waiting]]:
    async def load(session: AsyncSession) -> Waiting:
        items: dict[date, list[tuple[datetime | None, str, Item]]] = defaultdict(list)
        rows = await session.execute(_WAITING, {"first": first, "last": last})
        for deadline, decided_at, department, lead, number, title, lead_department in rows.tuples():
            items[deadline].append((decided_at, department, Item(number, title, bool(lead), lead_department)))
        handlers = []
        if items:
            rows = await session.execute(_HANDLERS)
            handlers = [(int(i), str(d), str(s), str(n)) for i, d, s, n in rows.tuples()]
        return Waiting(dict(items), handlers)

    return load


@dataclass(frozen=True, slots=True)
class DeadlineOccasion:
    deadline: date
    waiting: PerSession[Waiting]


class ProposalDeadlines:
    """The source of reply-deadline reminders to the handling departments."""

    name = DEADLINE_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        scheduler, tz = world.settings.scheduler, world.tz
        days = scheduler.proposal_reminder_days
        if not days:
            return []
        ahead = timedelta(days=days)
        at = clock(scheduler.proposal_reminder_time)
        first, last = start.astimezone(tz).date() + ahead, end.astimezone(tz).date() + ahead
        waiting = PerSession(_waiting(first, last))
        found = []
        for deadline in await world.session.scalars(_DEADLINES, {"first": first, "last": last}):
            day = deadline - ahead
            due = datetime.combine(day, at, tz).astimezone(UTC)
            if start < due <= end:
                found.append(Occasion(
                    key=f"proposal:deadline-{deadline.isoformat()}", source=DEADLINE_SOURCE, due_at=due,
                    title=say(TEMPLATE, "deadline_title", deadline=deadline, days=days),
                    payload=DeadlineOccasion(deadline, waiting),
                ))
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: DeadlineOccasion = occasion.payload
        today = max(world.now, occasion.due_at).astimezone(world.tz).date()  # when it goes out
        if today > item.deadline:  # caught up too late: the deadline has passed
            return []
        waiting = await item.waiting.get(world.session)
        by_department: dict[str, list[Item]] = defaultdict(list)
        for decided_at, department, proposal in waiting.items.get(item.deadline, ()):
            if decided_at is None or decided_at <= occasion.due_at:  # accepted later: just told
                by_department[department].append(proposal)
        if not by_department:
            return []
        handlers = [h for h in waiting.handlers if h[1] in by_department]
        roster = await world.roster()
        problem = say(TEMPLATE, "no_private_account")
        result = []
        for member_id, department, staff_no, name in handlers:
            target = roster.target_of(world.settings, member_id)
            result.append(Delivery(
                key=f"{occasion.key}:member:{member_id}", label=f"{name}（{staff_no}，{department}）",
                target=target, problem=None if target else problem,
                compose=self._composer(name, department, item.deadline, today, by_department[department]),
            ))
        staffed = {department for _, department, _, _ in handlers}
        for department in sorted(set(by_department) - staffed):
            result.append(Delivery(
                key=f"{occasion.key}:department:{department}:nobody", label=department, target=None,
                compose=self._composer("", department, item.deadline, today, by_department[department]),
                problem=say(TEMPLATE, "no_handler", department=department),
            ))
        return result

    @staticmethod
    def _composer(
        name: str, department: str, deadline: date, today: date, items: list[Item]
    ) -> Callable[[], Reply]:
        def compose() -> Reply:
            return _clean(say(TEMPLATE, "deadline_reminder", name=name, department=department,
                              deadline=deadline, today=today, items=items))

        return compose


# ---------------------------------------------------------------- 逾期提案周报


def _overdue_before(last: date) -> Callable[[AsyncSession], Awaitable[list[Item]]]:
    """Proposals overdue on ``last`` (so also every earlier day's), by deadline and number."""

    async def load(session: AsyncSession) -> list[Item]:
        rows = await session.execute(
            select(*_OVERDUE_COLUMNS).where(overdue_clause(last)).order_by(_p.c.deadline, _p.c.year, _p.c.seq)
        )
        return [Item(number, title, True, lead, deadline) for number, title, lead, deadline in rows.tuples()]

    return load


@dataclass(frozen=True, slots=True)
class DigestOccasion:
    day: date
    overdue: PerSession[list[Item]]


class OverdueDigest:
    """The source of the weekly list of overdue proposals for the union's officers."""

    name = OVERDUE_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        scheduler, tz = world.settings.scheduler, world.tz
        if not scheduler.overdue_digest_weekday:
            return []
        weekday = scheduler.overdue_digest_weekday - 1  # date.weekday(): Monday is 0
        at = clock(scheduler.overdue_digest_time)
        day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        day += timedelta(days=(weekday - day.weekday()) % 7)
        overdue = PerSession(_overdue_before(last))
        found = []
        while day <= last:
            due = datetime.combine(day, at, tz).astimezone(UTC)
            if start < due <= end:
                found.append(Occasion(
                    key=f"proposal:overdue-{day.isoformat()}", source=OVERDUE_SOURCE, due_at=due,
                    title=say(TEMPLATE, "digest_title", day=day), payload=DigestOccasion(day, overdue),
                ))
            day += timedelta(days=7)
        return found

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: DigestOccasion = occasion.payload
        day = item.day
        items = [i for i in await item.overdue.get(world.session) if i.deadline and i.deadline < day]
        if not items:
            return []
        roster = await world.roster()
        union = world.settings.union.name

        @cache
        def compose() -> Reply:  # rendered once, and only when sent
            return _clean(say(TEMPLATE, "overdue_digest", union=union, today=day, items=items,
                              limit=DIGEST_LIMIT))

        officers: dict[int, str] = {}
        for root in roster.root_ids():  # the union itself (校工会): its officers, not the branches'
            officers.update((person.id, person.label) for person in roster.officers_for(root)[1])
        if not officers:
            names = "、".join(roster.branch_name(root) for root in roster.root_ids()) or union
            return [Delivery(key=f"{occasion.key}:nobody", label=names, target=None, compose=compose,
                             problem=say(TEMPLATE, "no_officer", branch=names))]
        problem = say(TEMPLATE, "no_private_account")
        result = []
        for member_id in sorted(officers):
            target = roster.target_of(world.settings, member_id)
            result.append(Delivery(
                key=f"{occasion.key}:member:{member_id}", label=officers[member_id],
                target=target, compose=compose, problem=None if target else problem,
            ))
        return result
