"""公告 and 公示 (院务公开): tables, kinds, states and numbers.

A ``Notice`` is either a 公告 (announcement, numbered ``G5``) or a 公示 (public notice with
a 公示期, numbered ``S8``). It belongs to the branch whose officer published it and is
``scheduled`` (发布 at a later time), ``published`` or ``withdrawn``. Whether a published
公示 is 公示中 or 已期满 follows from ``ends_at``; the scheduler records in ``expired_at``
that the publishing officers were told at expiry. ``NoticeObjection`` rows (异议, numbered
``Y3``) hold the objector's member id and text: only officers' private messages and the
audit log ever show them.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

TITLE_COLUMN = 100
BODY_COLUMN_CHARS = 10_000


class Kind(enum.StrEnum):
    ANNOUNCEMENT = "announcement"  # 公告
    DISCLOSURE = "disclosure"  # 公示


PREFIXES = {Kind.ANNOUNCEMENT: "G", Kind.DISCLOSURE: "S"}
OBJECTION_PREFIX = "Y"


class State(enum.StrEnum):
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


# 公示 categories (DESIGN §10); 评优 ones say whether they show the conditions or the result
CATEGORIES = ("评优条件", "评优结果", "经费", "院务", "其他")


class Shown(enum.StrEnum):
    """The status a notice shows everywhere."""

    SCHEDULED = "待发布"
    PUBLISHED = "已发布"
    OPEN = "公示中"
    EXPIRED = "已期满"
    WITHDRAWN = "已撤回"


class Notice(SQLModel, table=True):
    """One 公告 or 公示."""

    __tablename__ = "notice"
    __table_args__ = (
        Index("ix_notice_kind_seq", "kind", "seq"),
        Index("ix_notice_due", "state", "publish_at"),
        Index("ix_notice_ends", "state", "expired_at", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)  # G5, S8
    kind: str = Field(max_length=16)
    seq: int
    branch_id: int = Field(foreign_key="branch.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="member.id")
    title: str = Field(default="", max_length=TITLE_COLUMN)
    body: str = Field(sa_type=Text)
    category: str | None = Field(default=None, max_length=8)  # 公示 only
    state: str = Field(default=State.PUBLISHED.value, max_length=16)
    publish_at: datetime = Field(sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # 公示 only
    estimated: bool = False  # 公示期 counted Monday–Friday for a year without a known arrangement
    refers_to_id: int | None = Field(default=None, foreign_key="notice.id")
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: int | None = Field(default=None, foreign_key="member.id")
    expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def shown(self, now: datetime) -> Shown:
        """待发布 / 已发布 / 公示中 / 已期满 / 已撤回 at ``now``."""
        if self.state == State.WITHDRAWN:
            return Shown.WITHDRAWN
        if self.state == State.SCHEDULED:
            return Shown.SCHEDULED
        if self.kind == Kind.ANNOUNCEMENT or self.ends_at is None:
            return Shown.PUBLISHED
        return Shown.OPEN if now < self.ends_at else Shown.EXPIRED


class NoticeObjection(SQLModel, table=True):
    """One 异议 to a 公示, real-name; answered privately by an officer (答复异议)."""

    __tablename__ = "notice_objection"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)  # Y3
    notice_id: int = Field(foreign_key="notice.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by: int | None = Field(default=None, foreign_key="member.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeCounter(SQLModel, table=True):
    """The last number given per prefix (G, S, Y)."""

    __tablename__ = "notice_counter"

    prefix: str = Field(primary_key=True, max_length=4)
    seq: int = 0


_NUMBER = re.compile(r"([GSY])\s*0*([0-9]{1,7})", re.IGNORECASE)


def parse_number(text: str, prefix: str) -> str | None:
    """``G5`` / ``g 05`` → ``G5`` when it carries ``prefix``; None otherwise."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None or match.group(1).upper() != prefix:
        return None
    return f"{prefix}{int(match.group(2))}"
