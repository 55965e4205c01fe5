"""The one check every officer command makes before it touches a branch's affairs.

``await require_reach(ctx, branch_id, what="活动 A3")`` refuses, naming whose the thing is,
unless the sender's reach (``models.scope``) covers ``branch_id`` (None: the whole union).
It runs before anything is changed, so a denial leaves everything as it was.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import PermissionDenied
from bot.render import say
from models.org import Branch, Role
from models.scope import Reach, reach_of


async def reach(ctx: Context) -> Reach:
    """The sender's reach; admins act union-wide."""
    assert ctx.member is not None
    return await reach_of(ctx.session, ctx.member.branch_id, admin=Role.ADMIN in ctx.roles)


async def may_manage(ctx: Context, branch_id: int | None) -> bool:
    """Whether the sender is an officer whose reach covers ``branch_id``."""
    return ctx.has_role(Role.OFFICER) and (await reach(ctx)).covers(branch_id)


async def require_reach(ctx: Context, branch_id: int | None, *, what: str | None = None) -> None:
    """Refuse unless ``branch_id`` is in the sender's reach; the denial says whose it is.

    ``what`` names the thing (``活动 A3``, ``本群``); without it the branch itself is meant.
    """
    mine = await reach(ctx)
    if mine.covers(branch_id):
        return
    owner = await _name(ctx, branch_id)
    raise PermissionDenied(say(
        "scope", "not_in_reach", what=what, owner=owner, home=await _name(ctx, mine.home),
        below=mine.has_branches_below,
    ))


async def _name(ctx: Context, branch_id: int | None) -> str | None:
    """A branch's name; None for the whole union."""
    if branch_id is None:
        return None
    branch = await ctx.session.get(Branch, branch_id)
    return branch.name if branch is not None else str(branch_id)
