"""Writing a checked roster: members upserted by 工号 in the caller's transaction, with
their branches, roles and children; members missing from the file optionally deactivated."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, table_of, utcnow
from models.fixed_sql import FixedStatement
from models.org import Branch, Member, MemberChild, MemberRole
from models.roster.rows import RosterEntry

logger = logging.getLogger(__name__)

ROOT_ALIASES = frozenset({"校工会"})  # a 分工会 cell meaning the whole union
CHUNK = 500  # rows written per batch, and how often progress is reported
_IN_LIMIT = 1000  # ids per ``IN (...)`` list

_T = TypeVar("_T")


@dataclass(slots=True)
class Counts:
    """What the writes did: members created, updated, left alone, deactivated."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

@dataclass(slots=True)
class _Stored:
    """A member as stored, in the shape an entry is compared with."""

    id: int
    active: bool
    values: dict[str, Any]
    roles: frozenset[str] = frozenset()
    children: tuple[date, ...] = ()


_COMPARED = ("name", "gender", "birth_date", "branch_id", "department", "phone", "hire_date")
_member = table_of(Member)
_role = table_of(MemberRole)
_child = table_of(MemberChild)
# Core executemany: one compiled statement, no ORM bookkeeping per row
_UPDATE_MEMBER = FixedStatement(
    update(_member)
    .where(_member.c.id == bindparam("b_id"))
    .values({**{name: bindparam(f"v_{name}") for name in (*_COMPARED, "updated_at")}, "active": True})
)


def _values(entry: RosterEntry, branch_id: int) -> dict[str, Any]:
    return {
        "name": entry.name, "gender": entry.gender, "birth_date": entry.birth_date,
        "branch_id": branch_id, "department": entry.department, "phone": entry.phone,
        "hire_date": entry.hire_date,
    }


def _role_values(entry: RosterEntry) -> frozenset[str]:
    return frozenset(role.value for role in entry.roles)


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def _branch_key(name: str, union_name: str) -> str:
    return union_name if name == union_name or name in ROOT_ALIASES else name


async def _branch_ids(
    *, session: AsyncSession, union_name: str, names: Iterable[str]
) -> dict[str, int]:
    """Branch name → id for the root and every named branch, creating missing ones."""
    rows = (await session.execute(select(col(Branch.id), col(Branch.name)))).all()
    ids: dict[str, int] = {name: id_ for id_, name in rows}
    if union_name not in ids:
        ids[union_name] = await _add_branch(session=session, name=union_name, parent_id=None)
    for name in sorted({_branch_key(name, union_name) for name in names} - ids.keys()):
        ids[name] = await _add_branch(session=session, name=name, parent_id=ids[union_name])
    return ids


async def _add_branch(*, session: AsyncSession, name: str, parent_id: int | None) -> int:
    branch = Branch(name=name, parent_id=parent_id)
    session.add(branch)
    await session.flush()
    assert branch.id is not None
    logger.info("roster: created branch %s", name)
    return branch.id


Stored = dict[str, _Stored]  # every member as stored, by 工号
_MARK = (
    select(func.count(), func.max(_member.c.id), func.max(_member.c.updated_at)),
    select(func.count()).select_from(_role),
    select(func.count(), func.max(_child.c.id)),
)


async def roster_mark(session: AsyncSession) -> tuple[Any, ...]:
    """What changes whenever members, their roles or children do (only imports write
    them): read with ``stored_members`` outside the write lock, compared again inside it."""
    return tuple([tuple((await execute_core(session, query)).one()) for query in _MARK])


async def stored_members(session: AsyncSession) -> Stored:
    """Every member by 工号, with roles and children: three Core queries, whatever the size
    (the ORM would build a row object per member, ten times slower inside the write lock)."""
    query = select(_member.c.id, _member.c.staff_no, _member.c.active,
                   *(_member.c[name] for name in _COMPARED))
    stored: dict[str, _Stored] = {}
    by_id: dict[int, _Stored] = {}
    for id_, staff_no, active, *values in (await execute_core(session, query)).all():
        values_by_name = dict(zip(_COMPARED, values, strict=True))
        stored[staff_no] = by_id[id_] = _Stored(id_, active, values_by_name)
    roles: dict[int, set[str]] = defaultdict(set)
    role_query = select(_role.c.member_id, _role.c.role)
    for member_id, role in (await execute_core(session, role_query)).all():
        roles[member_id].add(role)
    children: dict[int, list[date]] = defaultdict(list)
    child_query = select(_child.c.member_id, _child.c.birth_date)
    for member_id, birth_date in (await execute_core(session, child_query)).all():
        children[member_id].append(birth_date)
    for id_, member in by_id.items():
        member.roles = frozenset(roles.get(id_, ()))
        member.children = tuple(sorted(children.get(id_, ())))
    return stored


@dataclass(slots=True)
class _Batch:
    """The writes one chunk of entries needs."""

    new: list[tuple[RosterEntry, dict[str, Any]]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # id + values
    roles: dict[int, RosterEntry] = field(default_factory=dict)  # member id → entry
    children: dict[int, RosterEntry] = field(default_factory=dict)
    unchanged: int = 0


def _plan(
    entries: Iterable[RosterEntry],
    *,
    stored: Mapping[str, _Stored],
    branch_of: Callable[[str], int],
    columns: frozenset[str],
) -> _Batch:
    """What to write for ``entries``; an optional column the file lacks keeps what is stored."""
    batch = _Batch()
    for entry in entries:
        values = _values(entry, branch_of(entry.branch))
        member = stored.get(entry.staff_no)
        if member is None:
            batch.new.append((entry, values))
            continue
        for column, key in (("部门", "department"), ("入职日期", "hire_date")):
            if column not in columns:
                values[key] = member.values[key]
        same_roles = member.roles == _role_values(entry)
        same_children = "子女出生日期" not in columns or member.children == entry.children
        if member.active and member.values == values and same_roles and same_children:
            batch.unchanged += 1
            continue
        batch.changed.append({"id": member.id, **values})
        if not same_roles:
            batch.roles[member.id] = entry
        if not same_children:
            batch.children[member.id] = entry
    return batch


async def _write(*, session: AsyncSession, batch: _Batch, now: datetime) -> None:
    if batch.new:
        rows = [
            {"staff_no": entry.staff_no, **values, "active": True,
             "created_at": now, "updated_at": now}
            for entry, values in batch.new
        ]
        query = insert(_member).returning(_member.c.id, _member.c.staff_no)
        found = await execute_core(session, query.execution_options(render_nulls=True), rows)
        ids = {staff_no: id_ for id_, staff_no in found.all()}
        for entry, _ in batch.new:
            batch.roles[ids[entry.staff_no]] = entry
            batch.children[ids[entry.staff_no]] = entry
    if batch.changed:
        changes = [
            {"b_id": change["id"], "v_updated_at": now, **{f"v_{name}": change[name] for name in _COMPARED}}
            for change in batch.changed
        ]
        await _UPDATE_MEMBER.execute_many(session, changes)
    await _replace_roles(session=session, entries=batch.roles)
    await _replace_children(session=session, entries=batch.children)


async def _replace_roles(*, session: AsyncSession, entries: Mapping[int, RosterEntry]) -> None:
    ids = list(entries)
    for chunk in _chunks(ids, _IN_LIMIT):
        await execute_core(session, delete(_role).where(_role.c.member_id.in_(chunk)))
    rows = [
        {"member_id": id_, "role": role.value}
        for id_, entry in entries.items()
        for role in sorted(entry.roles)
    ]
    if rows:
        await execute_core(session, insert(_role), rows)


async def _replace_children(*, session: AsyncSession, entries: Mapping[int, RosterEntry]) -> None:
    ids = list(entries)
    for chunk in _chunks(ids, _IN_LIMIT):
        await execute_core(session, delete(_child).where(_child.c.member_id.in_(chunk)))
    rows = [
        {"member_id": id_, "birth_date": birth_date}
        for id_, entry in entries.items()
        for birth_date in entry.children
    ]
    if rows:
        await execute_core(session, insert(_child), rows)


async def _deactivate(*, session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(ids, _IN_LIMIT):
        await session.execute(
            update(Member)
            .where(col(Member.id).in_(chunk))
            .values(active=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def apply(
    *,
    session: AsyncSession,
    entries: Sequence[RosterEntry],
    union_name: str,
    listed: frozenset[str],
    columns: frozenset[str],
    deactivate_missing: bool,
    progress: Callable[[int, int], None] | None,
    counts: Counts,
    stored: Stored | None = None,
) -> None:
    """All the writes of one import, in the caller's transaction; adds up in ``counts``.
    ``stored``: what ``stored_members`` read before the write lock, still the same."""
    now = utcnow()
    branches = await _branch_ids(session=session, union_name=union_name, names=(e.branch for e in entries))
    stored = stored if stored is not None else await stored_members(session)

    def branch_of(name: str) -> int:
        return branches[_branch_key(name, union_name)]

    for done, chunk in enumerate(_chunks(entries, CHUNK), start=1):
        batch = _plan(chunk, stored=stored, branch_of=branch_of, columns=columns)
        await _write(session=session, batch=batch, now=now)
        counts.created += len(batch.new)
        counts.updated += len(batch.changed)
        counts.unchanged += batch.unchanged
        if progress is not None:
            progress(min(done * CHUNK, len(entries)), len(entries))
    if progress is not None and not entries:
        progress(0, 0)
    if deactivate_missing:
        if not entries:
            logger.warning("roster: no row accepted, so no member is deactivated")
            return
        gone = [m.id for no, m in stored.items() if m.active and no not in listed]
        await _deactivate(session=session, ids=gone, now=now)
        counts.deactivated = len(gone)
