"""Lookups of members and their accounts, used on every message.

The statements are built once with bind parameters: building a statement costs
SQLAlchemy several times more than running it on SQLite.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.org import Account, Branch, Member, MemberRole, Role

_IDENTITY = (
    select(Member, MemberRole.role)
    .join(Account, col(Account.member_id) == col(Member.id))
    .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
    .where(col(Account.channel) == bindparam("channel"))
    .where(col(Account.external_id) == bindparam("external_id"))
)
_MEMBER_BY_STAFF_NO = select(Member).where(col(Member.staff_no) == bindparam("staff_no"))
_ACCOUNT_BY_EXTERNAL = (
    select(Account)
    .where(col(Account.channel) == bindparam("channel"))
    .where(col(Account.external_id) == bindparam("external_id"))
)
_ACCOUNT_OF_MEMBER = (
    select(Account)
    .where(col(Account.channel) == bindparam("channel"))
    .where(col(Account.member_id) == bindparam("member_id"))
)
_CHANNELS_OF_MEMBER = (
    select(Account.channel)
    .where(col(Account.member_id) == bindparam("member_id"))
    .order_by(col(Account.channel))
)
_BRANCH_NAME = select(Branch.name).where(col(Branch.id) == bindparam("branch_id"))


async def identify(
    session: AsyncSession, channel: str, external_id: str
) -> tuple[Member | None, frozenset[Role]]:
    """The active member bound to a chat account, with their roles (always incl. 会员)."""
    rows = (
        await session.execute(_IDENTITY, {"channel": channel, "external_id": external_id})
    ).all()
    if not rows or not rows[0][0].active:
        return None, frozenset()
    roles = frozenset(Role(role) for _, role in rows if role) | {Role.MEMBER}
    return rows[0][0], roles


async def member_by_staff_no(session: AsyncSession, staff_no: str) -> Member | None:
    member: Member | None = await session.scalar(_MEMBER_BY_STAFF_NO, {"staff_no": staff_no})
    return member


async def account_by_external(
    session: AsyncSession, channel: str, external_id: str
) -> Account | None:
    account: Account | None = await session.scalar(
        _ACCOUNT_BY_EXTERNAL, {"channel": channel, "external_id": external_id}
    )
    return account


async def account_of_member(session: AsyncSession, member_id: int, channel: str) -> Account | None:
    account: Account | None = await session.scalar(
        _ACCOUNT_OF_MEMBER, {"channel": channel, "member_id": member_id}
    )
    return account


async def channels_of_member(session: AsyncSession, member_id: int) -> list[str]:
    return list(await session.scalars(_CHANNELS_OF_MEMBER, {"member_id": member_id}))


async def branch_name(session: AsyncSession, branch_id: int) -> str:
    name: str | None = await session.scalar(_BRANCH_NAME, {"branch_id": branch_id})
    return name or ""
