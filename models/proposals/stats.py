"""Proposal statistics — 提案统计, the figures of the 提案工作报告.

Definitions (the same in chat and in the XLSX export):

- 收到 (received): every proposal filed in the year or round, withdrawn ones included;
- 立案率 = 立案 / (收到 − 撤回);
- 已答复 (replied): 立案 proposals whose lead department has answered at least once;
- 答复率 = 已答复 / 立案;
- 逾期 (overdue): 办理中 proposals past their deadline without an answer in the current round;
- 满意率 = (满意 + 基本满意) / 已评价, counting the proposer's rating in force.

They always add up: 收到 = 征集附议 + 待审查 + 立案 + 不立案 + 转建议 + 撤回.
One GROUP BY over the proposal table gives every figure, per department too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.proposals.tables import ADMITTED, Proposal, Rating, Status


@dataclass(frozen=True, slots=True)
class Ratio:
    """``part`` of ``whole``, shown as a percentage (None when there is nothing to divide)."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return None if self.whole == 0 else round(100 * self.part / self.whole, 1)


@dataclass(slots=True)
class Figures:
    """The counts of one scope (the whole year or round, or one lead department)."""

    received: int = 0
    by_status: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    replied: int = 0
    overdue: int = 0
    ratings: dict[Rating, int] = field(default_factory=lambda: dict.fromkeys(Rating, 0))

    @property
    def pending(self) -> int:
        return self.by_status[Status.COSIGNING] + self.by_status[Status.REVIEW]

    @property
    def accepted(self) -> int:
        """立案: accepted and everything after it."""
        return sum(self.by_status[s] for s in ADMITTED)

    @property
    def rejected(self) -> int:
        return self.by_status[Status.REJECTED]

    @property
    def converted(self) -> int:
        return self.by_status[Status.CONVERTED]

    @property
    def withdrawn(self) -> int:
        return self.by_status[Status.WITHDRAWN]

    @property
    def satisfied(self) -> int:
        return self.ratings[Rating.SATISFIED]

    @property
    def fair(self) -> int:
        return self.ratings[Rating.FAIR]

    @property
    def unsatisfied(self) -> int:
        return self.ratings[Rating.UNSATISFIED]

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def acceptance_rate(self) -> Ratio:
        return Ratio(self.accepted, self.received - self.withdrawn)

    @property
    def reply_rate(self) -> Ratio:
        return Ratio(self.replied, self.accepted)

    @property
    def satisfaction_rate(self) -> Ratio:
        return Ratio(self.satisfied + self.fair, self.rated)

    def adds_up(self) -> bool:
        """The counts are consistent with each other (checked by the tests)."""
        return (
            self.received == sum(self.by_status.values())
            and self.replied <= self.accepted
            and self.overdue <= self.by_status[Status.ACCEPTED]
            and self.rated <= self.accepted
        )


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures of a year or a round, with one ``Figures`` per lead department."""

    total: Figures
    departments: dict[str, Figures]


def scope_clause(*, year: int | None = None, round_id: int | None = None) -> ColumnElement[bool]:
    if round_id is not None:
        return col(Proposal.round_id) == round_id
    assert year is not None
    return col(Proposal.year) == year


async def compute(
    session: AsyncSession, *, today: date, year: int | None = None, round_id: int | None = None
) -> Stats:
    """The statistics of ``year`` (by the year in the proposal number) or of a round."""
    replied = col(Proposal.replied_at).is_not(None)
    overdue = and_(col(Proposal.status) == Status.ACCEPTED.value, col(Proposal.deadline) < today)
    rows = await session.execute(
        select(
            col(Proposal.status), col(Proposal.rating), col(Proposal.lead_department),
            func.sum(case((replied, 1), else_=0)), func.sum(case((overdue, 1), else_=0)),
            func.count(),
        )
        .where(scope_clause(year=year, round_id=round_id))
        .group_by(col(Proposal.status), col(Proposal.rating), col(Proposal.lead_department))
    )
    total = Figures()
    departments: dict[str, Figures] = defaultdict(Figures)
    for status, rating, department, n_replied, n_overdue, count in rows.tuples():
        scopes = [total] if department is None else [total, departments[department]]
        for figures in scopes:
            figures.received += int(count)
            figures.by_status[Status(status)] += int(count)
            figures.replied += int(n_replied or 0)
            figures.overdue += int(n_overdue or 0)
            if rating is not None:
                figures.ratings[Rating(rating)] += int(count)
    return Stats(total, dict(sorted(departments.items())))
