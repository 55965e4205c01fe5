"""金点子 — ideas: tables, statuses, numbers and the refusal every rule raises.

An idea (``Idea``) is submitted by a member, named or anonymous, optionally inside a
collection round (``IdeaRound`` — 点子征集) of a branch or of the whole union; outside a
round it joins the year's open pool. Members support ideas (``IdeaSupport`` — 支持), one
support per member and idea. An officer's 评选 gives it a status: 金点子, 采纳 or 存档.

Anonymity: an anonymous idea keeps no member id. ``author_tag`` is a keyed pseudonym
(``models.ideas.pseudonym``) from which only a holder of the server's key finds the member;
``dup_tag`` (a keyed digest of the member and the text) refuses an exact repeat without
linking ideas to a person. Named ideas keep ``member_id`` and no ``author_tag``, so the
two kinds cannot be matched with each other without the key.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel, col

from models.base import UTCDateTime, utcnow

TITLE_COLUMN = 64
TAG_COLUMN = 64  # a hex HMAC-SHA256
DEPARTMENT_COLUMN = 64


class Refused(Exception):
    """A step the rules do not allow. ``code`` names a macro of ``notices/ideas``."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class Status(enum.StrEnum):
    """Where an idea stands; stored by value, shown by ``label``."""

    OPEN = "open"  # 待评选
    GOLDEN = "golden"  # 金点子
    ADOPTED = "adopted"  # 采纳
    ARCHIVED = "archived"  # 存档

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.OPEN: "待评选",
    Status.GOLDEN: "金点子",
    Status.ADOPTED: "采纳",
    Status.ARCHIVED: "存档",
}
VERDICT_WORDS: dict[str, Status] = {
    "金点子": Status.GOLDEN, "采纳": Status.ADOPTED, "存档": Status.ARCHIVED, "归档": Status.ARCHIVED,
}

NUMBER_RE = re.compile(r"[Dd](?P<seq>[0-9]{1,7})")


def format_number(seq: int) -> str:
    """``D31``."""
    return f"D{seq}"


def parse_number(text: str) -> int | None:
    """``D31`` / ``d31`` → 31; None if it is not an idea number."""
    match = NUMBER_RE.fullmatch(text.strip())
    if match is None or int(match["seq"]) == 0:
        return None
    return int(match["seq"])


def _member_fk(*, nullable: bool = True, index: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey("member.id"), nullable=nullable, index=index)


class IdeaRound(SQLModel, table=True):
    """A collection round — 点子征集, of one branch or (``branch_id`` None) the whole union.

    Open from ``opens_at`` until ``closes_at`` (exclusive: the start of the day after the
    close date); a branch has at most one open round at a time.
    """

    __tablename__ = "idea_round"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_by: int | None = Field(default=None, sa_column=_member_fk())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IdeaCounter(SQLModel, table=True):
    """The last idea number given out (one row, ``name`` = "idea"); bumped when filing."""

    __tablename__ = "idea_counter"

    name: str = Field(primary_key=True, max_length=16)
    seq: int = 0


class Idea(SQLModel, table=True):
    """An idea — 金点子."""

    __tablename__ = "idea"
    __table_args__ = (
        Index("ix_idea_round_rank", "round_id", "support_count", "seq"),
        Index("ix_idea_year_rank", "year", "support_count", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)  # D31
    seq: int = Field(unique=True)
    year: int  # the year it was submitted, in the union's time zone
    round_id: int | None = Field(default=None, foreign_key="idea_round.id")
    branch_id: int = Field(foreign_key="branch.id", index=True)  # the submitter's branch
    anonymous: bool = False
    member_id: int | None = Field(default=None, sa_column=_member_fk(index=True))  # named only
    author_tag: str | None = Field(default=None, max_length=TAG_COLUMN, index=True)  # anonymous only
    dup_tag: str = Field(max_length=TAG_COLUMN, unique=True)
    title: str = Field(max_length=TITLE_COLUMN)
    content: str = Field(sa_type=Text)
    status: str = Field(default=Status.OPEN.value, max_length=16)
    support_count: int = 0
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    judged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    judged_by: int | None = Field(default=None, sa_column=_member_fk())
    judge_note: str | None = Field(default=None, sa_type=Text)  # 评语, public
    department: str | None = Field(default=None, max_length=DEPARTMENT_COLUMN)  # 采纳: 交 <部门>


RANK_ORDER = (col(Idea.support_count).desc(), col(Idea.seq))  # ties: earlier first


class IdeaSupport(SQLModel, table=True):
    """A support — 支持: one per member and idea. ``round_id`` / ``year`` copy the idea's,
    so the per-round cap counts without a join."""

    __tablename__ = "idea_support"
    __table_args__ = (Index("ix_idea_support_member_round", "member_id", "round_id", "year"),)

    idea_id: int = Field(
        sa_column=Column(Integer, ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), primary_key=True))
    round_id: int | None = Field(default=None)
    year: int
    at: datetime = Field(sa_type=UTCDateTime)
