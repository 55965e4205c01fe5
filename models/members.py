"""Lookups of members and their accounts, used on every message.

The statements are built once with bind parameters: building a statement costs
SQLAlchemy several times more than running it on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, literal
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.base import snapshot, table_of
from models.dialog_state import DialogState
from models.fixed_sql import FixedStatement
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
_CHANNELS_OF_MEMBER = FixedStatement(
    core_select(col(Account.channel))
    .where(col(Account.member_id) == bindparam("member_id"))
    .order_by(col(Account.channel))
)
_BRANCH_NAME = FixedStatement(core_select(col(Branch.name)).where(col(Branch.id) == bindparam("branch_id")))


# Who sent a message, and whether they have a dialog open in that chat, in one
# statement (see ``models.fixed_sql``: this runs for every message): outer joins from
# a one-row anchor, so an unbound sender still gets a row.
_MEMBER_COLUMNS = tuple(table_of(Member).c)
_ROLE = table_of(MemberRole).c.role
_DIALOG_ID = table_of(DialogState).c.id.label("dialog_id")
_ANCHOR = select(literal(1).label("one")).subquery("anchor")
_SENDER = FixedStatement(
    core_select(*_MEMBER_COLUMNS, _ROLE, _DIALOG_ID)
    .select_from(_ANCHOR)
    .outerjoin(Account, and_(
        col(Account.channel) == bindparam("channel"),
        col(Account.external_id) == bindparam("external_id"),
    ))
    .outerjoin(Member, col(Member.id) == col(Account.member_id))
    .outerjoin(MemberRole, col(MemberRole.member_id) == col(Member.id))
    .outerjoin(DialogState, and_(
        col(DialogState.channel) == bindparam("channel"),
        col(DialogState.chat_id) == bindparam("chat_id"),
        col(DialogState.user_id) == bindparam("external_id"),
    ))
)
_MEMBER_KEYS = tuple(column.key for column in _MEMBER_COLUMNS)
_MEMBER_COUNT = len(_MEMBER_KEYS)
_ID, _ACTIVE = _MEMBER_KEYS.index("id"), _MEMBER_KEYS.index("active")


@dataclass(frozen=True, slots=True)
class Sender:
    """The member behind a message (None: unbound or inactive) and their open dialog.

    ``member`` is a read-only snapshot, not attached to the session: load the
    row through the session to change it.
    """

    member: Member | None
    roles: frozenset[Role]
    dialog_id: int | None


async def identify_sender(
    session: AsyncSession, channel: str, external_id: str, chat_id: str
) -> Sender:
    """``identify`` plus the id of the sender's open dialog in ``chat_id``, in one query."""
    rows = await _SENDER.rows(session, {
        "channel": channel, "external_id": external_id, "chat_id": chat_id,
    })
    first = rows[0]
    member_values, dialog_id = first[:_MEMBER_COUNT], first[-1]
    if member_values[_ID] is None or not member_values[_ACTIVE]:
        return Sender(None, frozenset(), dialog_id)
    member = snapshot(Member, dict(zip(_MEMBER_KEYS, member_values, strict=True)))
    roles = frozenset(Role(row[_MEMBER_COUNT]) for row in rows if row[_MEMBER_COUNT]) | {Role.MEMBER}
    return Sender(member, roles, dialog_id)


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
    return [channel for channel, in await _CHANNELS_OF_MEMBER.rows(session, {"member_id": member_id})]


async def branch_name(session: AsyncSession, branch_id: int) -> str:
    rows = await _BRANCH_NAME.rows(session, {"branch_id": branch_id})
    return str(rows[0][0]) if rows else ""


async def member_is_active(session: AsyncSession, member_id: int) -> bool:
    """Whether ``member_id`` is a member still marked active (false for an unknown id)."""
    active = await session.scalar(
        core_select(col(Member.active)).where(col(Member.id) == bindparam("member_id")),
        {"member_id": member_id},
    )
    return bool(active)
