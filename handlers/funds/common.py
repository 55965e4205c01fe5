"""What the fund handlers share: refusals, the day, whose ledger, people, figures as text."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam
from sqlmodel import col, select

from bot.context import Context
from bot.errors import UserError
from bot.registry import answers_refusals
from bot.render import say
from bot.scope import require_reach
from models.funds.checkpoints import KeyProblem
from models.funds.refusals import Refused
from models.org import Branch, Member, MemberRole, Role
from models.scope import branch_tree

T = "funds"  # the template of every sentence here
_BRANCH_BY_NAME = select(Branch).where(col(Branch.name) == bindparam("name"))


def _answer(ctx: Context, exc: Refused | KeyProblem) -> UserError:
    return UserError(say(T, exc.code, **exc.values))


speaks = answers_refusals(Refused, KeyProblem, answer=_answer)


def local_today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def me(ctx: Context) -> Member:
    assert ctx.member is not None and ctx.member.id is not None
    return ctx.member


async def union_branch(ctx: Context) -> int:
    """The root branch: the union's own (校工会) ledger."""
    tree = await branch_tree(ctx.session)
    return next(branch for branch, parent in sorted(tree.items()) if parent is None)


async def branch_named(ctx: Context, name: str) -> Branch | None:
    return await ctx.session.scalar(_BRANCH_BY_NAME, {"name": name})


async def leading_branch(ctx: Context, words: list[str]) -> tuple[Branch | None, list[str]]:
    """A branch name at the start of ``words`` (and the rest), when the first word is one."""
    if words:
        branch = await branch_named(ctx, words[0])
        if branch is not None:
            return branch, words[1:]
    return None, words


async def managed_branch(ctx: Context, branch: Branch | None) -> int:
    """The ledger an officer acts on: ``branch`` if named (and in reach), else their own."""
    if branch is None or branch.id is None:
        return me(ctx).branch_id
    await require_reach(ctx, branch.id)
    return branch.id


async def branch_label(ctx: Context, branch_id: int) -> str:
    branch = await ctx.session.get(Branch, branch_id)
    return branch.name if branch is not None else str(branch_id)


async def with_role(ctx: Context, branch_id: int, role: Role) -> list[Member]:
    """Active members of ``branch_id`` holding ``role``."""
    query = (select(Member).join(MemberRole, col(MemberRole.member_id) == col(Member.id))
             .where(col(Member.branch_id) == branch_id, col(Member.active).is_(True),
                    col(MemberRole.role) == role.value).order_by(col(Member.id)))
    return list((await ctx.session.execute(query)).scalars())
