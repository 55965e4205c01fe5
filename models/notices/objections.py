"""异议 to a 公示: filed by a bound member while it is open, answered by an officer.

Refusals are ``Refused`` with a code naming the sentence to answer with; nothing is
stored when one is raised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.base import execute_core, table_of
from models.notices.numbers import next_number
from models.notices.tables import OBJECTION_PREFIX, Kind, Notice, NoticeObjection, Shown
from models.org import Member, MemberRole, Role
from models.scope import branch_tree

MAX_OBJECTION_CHARS = 2000

_o = table_of(NoticeObjection)
_ANSWER = (
    update(_o).where(_o.c.id == bindparam("objection_id"), _o.c.answered_at.is_(None))
    .values(answer=bindparam("answer"), answered_by=bindparam("by"), answered_at=bindparam("now"))
)


class Refused(Exception):
    """A refusal; ``code`` is the macro that says why, ``values`` its arguments."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def check_open(notice: Notice, now: datetime) -> None:
    """Refuse unless ``notice`` is a 公示 taking objections at ``now``."""
    if notice.kind != Kind.DISCLOSURE:
        raise Refused("objection_not_disclosure", number=notice.number)
    shown = notice.shown(now)
    if shown != Shown.OPEN:
        raise Refused("objection_closed", number=notice.number, shown=shown.value, ends_at=notice.ends_at)


async def file(
    session: AsyncSession, notice: Notice, member_id: int, text: str, now: datetime,
) -> NoticeObjection:
    """Store an objection to an open 公示 and give it its number."""
    check_open(notice, now)
    if len(text) > MAX_OBJECTION_CHARS:
        raise Refused("objection_too_long", limit=MAX_OBJECTION_CHARS)
    assert notice.id is not None
    _, number = await next_number(session, OBJECTION_PREFIX)
    objection = NoticeObjection(number=number, notice_id=notice.id, member_id=member_id, text=text,
                                created_at=now)
    session.add(objection)
    await session.flush()
    return objection


async def by_number(session: AsyncSession, number: str) -> NoticeObjection | None:
    found: NoticeObjection | None = await session.scalar(
        select(NoticeObjection).where(col(NoticeObjection.number) == number)
    )
    return found


async def answer(
    session: AsyncSession, objection: NoticeObjection, text: str, by: int | None, now: datetime,
) -> None:
    """Record the answer to an objection; refused when it was answered already."""
    assert objection.id is not None
    result = await execute_core(session, _ANSWER, {
        "objection_id": objection.id, "answer": text, "by": by, "now": now,
    })
    if not result.rowcount:
        raise Refused("objection_answered", number=objection.number)
    await session.refresh(objection)


async def officers_for(session: AsyncSession, branch_id: int) -> list[int]:
    """The active officers of ``branch_id``, else of the nearest branch above it that has any."""
    tree = await branch_tree(session)
    current: int | None = branch_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        found = list(await session.scalars(
            select(col(Member.id)).join(MemberRole, col(MemberRole.member_id) == col(Member.id))
            .where(col(Member.branch_id) == current, col(Member.active).is_(True))
            .where(col(MemberRole.role) == Role.OFFICER.value).order_by(col(Member.id))
        ))
        if found:
            return [int(member_id) for member_id in found]
        current = tree.get(current)
    return []
