"""Who scheduled messages go to: a snapshot of the roster and the audience filters.

The snapshot is read with five queries whatever the size of the union, then filtered in
memory: 女职工 (gender 女), members with a child under 14 on a given day, the members of
some branches (and the branches below them), the officers who receive a branch's lists.
"""

from __future__ import annotations

from calendar import isleap  # the standard library's
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.config import Settings
from bot.outbox.queue import MEMBER_CHANNELS, Target, unreachable_reason
from models.org import Account, Branch, Member, MemberChild, MemberRole, Role

AUDIENCES = ("all", "women", "parents_under_14")
CHILD_AGE_LIMIT = 14  # 六一: children under 14 (不满14周岁)

_BRANCHES = select(col(Branch.id), col(Branch.name), col(Branch.parent_id))
_MEMBERS = (
    select(col(Member.id), col(Member.staff_no), col(Member.name), col(Member.gender),
           col(Member.birth_date), col(Member.branch_id))
    .where(col(Member.active).is_(True))
    .order_by(col(Member.id))
)
_CHILDREN = select(col(MemberChild.member_id), col(MemberChild.birth_date))
_OFFICERS = select(col(MemberRole.member_id)).where(col(MemberRole.role) == Role.OFFICER.value)
_ACCOUNTS = select(col(Account.member_id), col(Account.channel), col(Account.external_id))


@dataclass(frozen=True, slots=True)
class Person:
    """An active member as the scheduler needs them."""

    id: int
    staff_no: str
    name: str
    gender: str | None
    birth_date: date | None
    branch_id: int

    @property
    def label(self) -> str:
        return f"{self.name}（{self.staff_no}）"


def age_on(born: date, day: date) -> int:
    """Full years (周岁) of someone born on ``born`` on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def birthday_in(born: date, year: int) -> date:
    """The day a birthday is kept in ``year``: 29 February falls on 28 February in common years."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


@dataclass
class Roster:
    """A snapshot of the organisation (active members only)."""

    branches: dict[int, tuple[str, int | None]]  # id → (name, parent id)
    people: list[Person]  # sorted by id
    children: dict[int, list[date]] = field(default_factory=dict)  # member id → birth dates
    officer_ids: frozenset[int] = frozenset()
    accounts: dict[int, dict[str, str]] = field(default_factory=dict)  # member → channel → id

    # ------------------------------------------------------------ branches

    def branch_name(self, branch_id: int | None) -> str:
        return self.branches.get(branch_id, ("", None))[0] if branch_id is not None else ""

    def root_ids(self) -> list[int]:
        """The whole union (校工会): the branches without a parent."""
        return sorted(b for b, (_, parent) in self.branches.items() if parent is None)

    def subtree(self, root: int) -> set[int]:
        """``root`` and every branch below it."""
        children: dict[int | None, list[int]] = defaultdict(list)
        for branch, (_, parent) in self.branches.items():
            children[parent].append(branch)
        found, todo = {root}, [root]
        while todo:
            for child in children[todo.pop()]:
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def named(self, names: Iterable[str]) -> tuple[list[int], list[str]]:
        """The ids of the branches named, and the names that match no branch."""
        by_name = {name: branch for branch, (name, _) in self.branches.items()}
        found = sorted({by_name[name] for name in names if name in by_name})
        return found, [name for name in names if name not in by_name]

    def subtrees(self, roots: Iterable[int]) -> set[int]:
        """The branches ``roots`` with every branch below them."""
        found: set[int] = set()
        for root in roots:
            found |= self.subtree(root)
        return found

    # ------------------------------------------------------------ people

    def members(self, audience: str, day: date, branches: set[int] | None = None) -> list[Person]:
        """The members of ``audience`` on ``day``, optionally only those of ``branches``."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        chosen = []
        for person in self.people:
            if branches is not None and person.branch_id not in branches:
                continue
            if audience == "women" and person.gender != "女":
                continue
            if audience == "parents_under_14" and not self.has_young_child(person.id, day):
                continue
            chosen.append(person)
        return chosen

    def has_young_child(self, member_id: int, day: date) -> bool:
        """Whether the member has a child already born and not yet 14 on ``day``."""
        return any(
            born <= day and age_on(born, day) < CHILD_AGE_LIMIT
            for born in self.children.get(member_id, ())
        )

    @cached_property
    def _by_birthday(self) -> dict[tuple[int, int], list[Person]]:
        index: dict[tuple[int, int], list[Person]] = defaultdict(list)
        for person in self.people:
            if person.birth_date is not None:
                index[(person.birth_date.month, person.birth_date.day)].append(person)
        return index

    def born_on(self, day: date) -> list[Person]:
        """Members whose birthday is kept on ``day`` (29 Feb on 28 Feb in common years), by id."""
        found = list(self._by_birthday.get((day.month, day.day), ()))
        if (day.month, day.day) == (2, 28) and not isleap(day.year):
            found = sorted(found + self._by_birthday.get((2, 29), []), key=lambda p: p.id)
        return found

    @cached_property
    def _officers_by_branch(self) -> dict[int, list[Person]]:
        by_branch: dict[int, list[Person]] = defaultdict(list)
        for person in self.people:
            if person.id in self.officer_ids:
                by_branch[person.branch_id].append(person)
        return by_branch

    def officers_for(self, branch_id: int) -> tuple[int | None, list[Person]]:
        """The officers who receive a branch's lists: its own, else the nearest ancestor's.

        Returns the branch whose officers they are (None when no branch up the tree has one).
        """
        by_branch = self._officers_by_branch
        current: int | None = branch_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            if by_branch.get(current):
                return current, by_branch[current]
            current = self.branches.get(current, ("", None))[1]
        return None, []

    # ------------------------------------------------------------ reaching people

    def target_of(self, settings: Settings, member_id: int) -> Target | None:
        """The account a member is best reached on privately (as ``bot.outbox.queue.notify_member``)."""
        accounts = self.accounts.get(member_id, {})
        for channel in MEMBER_CHANNELS:
            if channel in accounts and unreachable_reason(settings, channel, "user") is None:
                return Target(channel, "user", accounts[channel])
        return None


async def load_roster(session: AsyncSession) -> Roster:
    """Read the snapshot: branches, active members, children, officers, accounts."""
    branches = {
        int(row[0]): (str(row[1]), row[2]) for row in (await session.execute(_BRANCHES)).all()
    }
    people = [Person(*row) for row in (await session.execute(_MEMBERS)).all()]
    active = {person.id for person in people}
    children: dict[int, list[date]] = defaultdict(list)
    for member_id, born in (await session.execute(_CHILDREN)).all():
        if member_id in active:
            children[member_id].append(born)
    officers = frozenset(
        member_id for member_id in await session.scalars(_OFFICERS) if member_id in active
    )
    accounts: dict[int, dict[str, str]] = defaultdict(dict)
    for member_id, channel, external_id in (await session.execute(_ACCOUNTS)).all():
        if member_id in active:
            accounts[member_id][channel] = external_id
    return Roster(branches=branches, people=people, children=dict(children),
                  officer_ids=officers, accounts=dict(accounts))
