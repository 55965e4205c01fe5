"""Which branch a board page is about (``?branch=<id>``; none: the whole union)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.org import Branch
from models.scope import subtree


@dataclass(frozen=True, slots=True)
class BranchView:
    """The branch a page shows: ``above`` holds it and every branch above it (whose
    notices and events reach its members), ``below`` it and every branch under it
    (whose members' ideas it shows). ``id`` None: the whole union, everything."""

    id: int | None
    name: str
    above: frozenset[int]
    below: frozenset[int]
    branches: tuple[tuple[int, str], ...]  # every branch, for the chooser

    @property
    def query(self) -> str:
        """``?branch=<id>&`` or ``?``: the start of a link's query on this view."""
        return f"?branch={self.id}&" if self.id is not None else "?"


def branch_param(request: web.Request) -> int | None:
    """The ``branch`` query parameter as a number; 400 when it is not one."""
    text = request.query.get("branch", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise web.HTTPBadRequest()
    return int(text)


async def view_of(session: AsyncSession, branch_id: int | None, union: str) -> BranchView:
    """The view of ``branch_id``; 404 when no such branch exists."""
    rows = (await session.execute(
        select(col(Branch.id), col(Branch.name), col(Branch.parent_id)).order_by(col(Branch.id))
    )).all()
    tree = {int(r[0]): r[2] for r in rows}
    names = {int(r[0]): str(r[1]) for r in rows}
    chooser = tuple((i, n) for i, n in names.items() if tree[i] is not None)
    if branch_id is None:
        everything = frozenset(tree)
        return BranchView(None, union, everything, everything, chooser)
    if branch_id not in tree:
        raise web.HTTPNotFound()
    above = {branch_id}
    parent = tree[branch_id]
    while parent is not None and parent not in above:
        above.add(parent)
        parent = tree.get(parent)
    return BranchView(branch_id, names[branch_id], frozenset(above),
                      frozenset(subtree(tree, branch_id)), chooser)
