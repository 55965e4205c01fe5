"""An officer's reach — 管理范围: whose affairs an officer may manage.

One rule for every officer command: officers of the whole union (校工会, the branch
without a parent) and admins act union-wide; a 分工会 officer manages what belongs to
their own branch and to the branches below it. What belongs to the whole union (no
branch, e.g. a 全校 event) is the 校工会's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from models.org import Branch

_TREE = select(Branch.id, Branch.parent_id)


async def branch_tree(session: AsyncSession) -> dict[int, int | None]:
    """Every branch id with its parent id (None for the whole union, 校工会)."""
    rows = (await session.execute(_TREE)).all()
    return {int(row[0]): row[1] for row in rows}


def subtree(tree: dict[int, int | None], root: int) -> set[int]:
    """``root`` and every branch below it."""
    found = {root}
    changed = True
    while changed:
        changed = False
        for branch, parent in tree.items():
            if parent in found and branch not in found:
                found.add(branch)
                changed = True
    return found


@dataclass(frozen=True, slots=True)
class Reach:
    """The branches an officer of ``home`` manages (all of them when ``union_wide``)."""

    home: int
    union_wide: bool
    branches: frozenset[int]

    def covers(self, branch_id: int | None) -> bool:
        """Whether something belonging to ``branch_id`` (None: the whole union) is in reach."""
        return self.union_wide or (branch_id is not None and branch_id in self.branches)

    @property
    def has_branches_below(self) -> bool:
        return len(self.branches) > 1


async def reach_of(session: AsyncSession, branch_id: int, *, admin: bool = False) -> Reach:
    """The reach of an officer of ``branch_id``; admins act union-wide."""
    tree = await branch_tree(session)
    union_wide = admin or tree.get(branch_id, 0) is None
    return Reach(branch_id, union_wide, frozenset(subtree(tree, branch_id)))
