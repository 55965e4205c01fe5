"""Group chats of the union and the branches (分工会) they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from models.org import Branch, Chat
from models.scope import branch_tree, reach_of, subtree

__all__ = ["branch_tree", "chat_by_id", "group_chats_of", "subtree", "sync_robots"]

GROUP_KINDS = ("group", "robot")

_BRANCHES = select(Branch.id, Branch.parent_id, Branch.name)
_GROUP_CHATS = (
    select(Chat).where(col(Chat.chat_type).in_(GROUP_KINDS)).order_by(col(Chat.channel), col(Chat.id))
)
_CHAT = select(Chat).where(
    col(Chat.channel) == bindparam("channel"), col(Chat.chat_id) == bindparam("chat_id")
)


async def all_group_chats(session: AsyncSession) -> list[Chat]:
    """Every group chat the bot knows, with a branch or not (also before any roster exists)."""
    return list(await session.scalars(_GROUP_CHATS))


async def group_chats_of(session: AsyncSession, branch_id: int) -> list[Chat]:
    """The group chats an officer of ``branch_id`` speaks to.

    The whole union's officers (a branch without a parent) reach every group chat,
    also those not yet assigned to a branch; a branch's officers reach the chats of
    their branch and of the branches below it.
    """
    reach = await reach_of(session, branch_id)
    return [chat for chat in await session.scalars(_GROUP_CHATS) if reach.covers(chat.branch_id)]


async def chat_by_id(session: AsyncSession, channel: str, chat_id: str) -> Chat | None:
    chat: Chat | None = await session.scalar(_CHAT, {"channel": channel, "chat_id": chat_id})
    return chat


async def sync_robots(session: AsyncSession, names: Iterable[str]) -> None:
    """Make each configured WeCom group robot a chat of kind ``robot``.

    A robot belongs to the branch whose name its own name contains (the longest such
    name), e.g. 「计算机学院分工会群」→ 计算机学院分工会; otherwise to the whole union.
    """
    branches = sorted((await session.execute(_BRANCHES)).all(), key=lambda row: -len(row[2]))
    for name in names:
        branch_id = next((int(row[0]) for row in branches if row[2] and row[2] in name), None)
        chat = await chat_by_id(session, "wecom", name)
        if chat is None:
            session.add(Chat(channel="wecom", chat_id=name, chat_type="robot", name=name,
                             branch_id=branch_id))
        elif chat.branch_id is None and branch_id is not None:
            chat.branch_id = branch_id
    await session.flush()
