"""Test factories: members, branches and messages with concrete values."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, load_settings
from bot.messages import ChatType, Incoming
from models.db import Database
from models.org import Account, Branch, Member, MemberRole, Role

_ids = itertools.count(1)


def make_settings(**sections: dict[str, object]) -> Settings:
    data: dict[str, object] = {
        "union": {"name": "示范大学工会"}, "security": {"replay_window_seconds": 0},
        "scheduler": {"enabled": False},  # tests run scheduled jobs explicitly, at fixed times
    }
    data.update(sections)
    return load_settings(data=data)


async def get_branch(session: AsyncSession, name: str, *, root: str = "示范大学工会") -> Branch:
    branch = await session.scalar(select(Branch).where(Branch.name == name))
    if branch is not None:
        return branch
    parent = None
    if name != root:
        parent = await get_branch(session, root, root=root)
    branch = Branch(name=name, parent_id=parent.id if parent else None)
    session.add(branch)
    await session.flush()
    return branch


async def make_member(
    db: Database,
    staff_no: str,
    name: str,
    *,
    branch: str = "计算机学院分工会",
    roles: Iterable[Role] = (),
    phone: str | None = "13800000000",
    birth_date: date | None = date(1985, 3, 2),
    gender: str = "女",
    department: str | None = None,
    active: bool = True,
    accounts: Iterable[tuple[str, str]] = (),
) -> Member:
    """A member with roles and optionally bound accounts ``(channel, external_id)``."""
    async with db.write() as session:
        b = await get_branch(session, branch)
        member = Member(
            staff_no=staff_no, name=name, gender=gender, birth_date=birth_date,
            branch_id=b.id or 0, phone=phone, department=department, active=active,
        )
        session.add(member)
        await session.flush()
        assert member.id is not None
        for role in {Role.MEMBER, *roles}:
            session.add(MemberRole(member_id=member.id, role=role.value))
        for channel, external_id in accounts:
            session.add(Account(channel=channel, external_id=external_id, member_id=member.id))
    return member


def message(
    text: str,
    *,
    sender: str = "u1",
    channel: str = "console",
    chat_type: ChatType = "private",
    chat_id: str | None = None,
    message_id: str | None = None,
    mentions_bot: bool = False,
    mentions: tuple[str, ...] = (),
) -> Incoming:
    return Incoming(
        channel=channel,
        chat_id=chat_id or (f"private:{sender}" if chat_type == "private" else "group:g1"),
        chat_type=chat_type,
        sender_id=sender,
        text=text,
        message_id=message_id or f"m{next(_ids)}",
        mentions_bot=mentions_bot,
        mentions=mentions,
        chat_name="测试群" if chat_type == "group" else None,
    )
