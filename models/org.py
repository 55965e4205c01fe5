"""The union's organisation: branches, members, their roles, accounts and chats."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class Role(enum.StrEnum):
    """A member's role; stored by its English value, shown by its Chinese label."""

    MEMBER = "member"  # 会员
    REPRESENTATIVE = "representative"  # 教代会代表
    HANDLER = "handler"  # 承办人 (answers proposals for a department)
    OFFICER = "officer"  # 工会干部
    AUDITOR = "auditor"  # 经审: 经费审查委员会委员 (reviews fund statements, changes nothing)
    ADMIN = "admin"  # 管理员

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @classmethod
    def from_label(cls, text: str) -> Role | None:
        return LABEL_ROLES.get(text.strip())


ROLE_LABELS: dict[Role, str] = {
    Role.MEMBER: "会员",
    Role.REPRESENTATIVE: "代表",
    Role.HANDLER: "承办人",
    Role.OFFICER: "干部",
    Role.AUDITOR: "经审",
    Role.ADMIN: "管理员",
}
LABEL_ROLES: dict[str, Role] = {label: role for role, label in ROLE_LABELS.items()} | {
    "教代会代表": Role.REPRESENTATIVE,
    "工会干部": Role.OFFICER,
    "经审委员": Role.AUDITOR,
    "经费审查委员会委员": Role.AUDITOR,
    "admin": Role.ADMIN,
}


class Branch(SQLModel, table=True):
    """Branch — 分工会; the root (parent_id is None) is the university union, 校工会."""

    __tablename__ = "branch"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("branch.id"), nullable=True)
    )


class Member(SQLModel, table=True):
    """Member — 会员, one row per 工号 of the roster."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    staff_no: str = Field(max_length=32, unique=True)  # 工号
    name: str = Field(max_length=64)  # 姓名
    gender: str | None = Field(default=None, max_length=4)  # 性别: 男 / 女
    birth_date: date | None = None  # 出生日期
    branch_id: int = Field(foreign_key="branch.id", index=True)  # 分工会
    department: str | None = Field(default=None, max_length=64)  # 部门 (承办人)
    phone: str | None = Field(default=None, max_length=32)  # 手机
    hire_date: date | None = None  # 入职日期
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemberRole(SQLModel, table=True):
    """One role of a member (a member may hold several)."""

    __tablename__ = "member_role"

    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
        )
    )
    role: str = Field(primary_key=True, max_length=16)  # a Role value


class MemberChild(SQLModel, table=True):
    """A member's child, kept only by birth date (for 六一 notices)."""

    __tablename__ = "member_child"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    birth_date: date


class Account(SQLModel, table=True):
    """A chat account (channel + the platform's user id) bound to a member; 绑定."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_account_channel_external"),
        UniqueConstraint("member_id", "channel", name="uq_account_member_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=128)
    member_id: int = Field(foreign_key="member.id", index=True)
    bound_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    bound_by: int | None = Field(default=None, foreign_key="member.id")


class Chat(SQLModel, table=True):
    """A group or private chat the bot has seen on a channel."""

    __tablename__ = "chat"
    __table_args__ = (UniqueConstraint("channel", "chat_id", name="uq_chat_channel_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    chat_type: str = Field(max_length=8)  # "group" or "private"
    name: str | None = Field(default=None, max_length=128)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

def role_allows(required: Role, roles: frozenset[Role]) -> bool:
    """Members may use member commands; admins may use everything."""
    return required is Role.MEMBER or required in roles or Role.ADMIN in roles
