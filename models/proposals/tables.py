"""教代会提案 — proposals to the staff congress: tables, statuses and numbers.

A proposal (``Proposal`` — 提案) is filed by a representative during a collection
round (``ProposalRound`` — 征集), co-signed (``ProposalCosign`` — 附议), reviewed by the
committee (立案 / 不立案 / 转建议), handed to departments (``ProposalAssignment`` —
主办 / 协办), answered by their 承办人 (``ProposalReply`` — 答复) and rated by the
proposer (``ProposalRating`` — 评价). ``ProposalEvent`` rows are its dated timeline.

The state machine lives in ``models.proposals.flow``, collection rounds in
``models.proposals.rounds``, numbering in ``models.proposals.numbers``, reading and
visibility in ``models.proposals.queries``, statistics in ``models.proposals.stats`` and
the XLSX export in ``models.proposals.export``.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from models.base import UTCDateTime, utcnow

TITLE_COLUMN = 200  # the column's size; the configured limit is usually far lower
DEPARTMENT_COLUMN = 64  # as Member.department


class Status(enum.StrEnum):
    """Where a proposal stands; stored by value, shown by ``label``."""

    COSIGNING = "cosigning"  # 征集附议: filed, waiting for co-signatures
    REVIEW = "review"  # 待审查: enough co-signatures, waiting for the committee
    ACCEPTED = "accepted"  # 办理中: 立案, waiting for the lead department's reply
    REPLIED = "replied"  # 已答复: waiting for the proposer's rating
    CLOSED = "closed"  # 已办结: rated (or re-handled as often as allowed)
    REJECTED = "rejected"  # 不立案
    CONVERTED = "converted"  # 转为意见建议
    WITHDRAWN = "withdrawn"  # 已撤回 by the proposer before review

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.COSIGNING: "征集附议",
    Status.REVIEW: "待审查",
    Status.ACCEPTED: "办理中",
    Status.REPLIED: "已答复",
    Status.CLOSED: "已办结",
    Status.REJECTED: "不立案",
    Status.CONVERTED: "转为意见建议",
    Status.WITHDRAWN: "已撤回",
}
BEFORE_REVIEW = frozenset({Status.COSIGNING, Status.REVIEW})
ADMITTED = frozenset({Status.ACCEPTED, Status.REPLIED, Status.CLOSED})  # 立案 and after


class Outcome(enum.StrEnum):
    """What a department answers: 采纳, 暂缓 (planned later) or 不能采纳."""

    ADOPTED = "adopted"
    DEFERRED = "deferred"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.ADOPTED: "采纳",
    Outcome.DEFERRED: "暂缓",
    Outcome.DECLINED: "不能采纳",
}


class Rating(enum.StrEnum):
    """The proposer's view of the reply: 满意, 基本满意 or 不满意."""

    SATISFIED = "satisfied"
    FAIR = "fair"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        return RATING_LABELS[self]


RATING_LABELS: dict[Rating, str] = {
    Rating.SATISFIED: "满意",
    Rating.FAIR: "基本满意",
    Rating.UNSATISFIED: "不满意",
}

# ---------------------------------------------------------------- numbers

NUMBER_RE = re.compile(r"[Tt]?(?P<year>[0-9]{4})-(?P<seq>[0-9]{1,6})")


def format_number(year: int, seq: int) -> str:
    """``T2026-007``: the year and the sequence within it, at least three digits."""
    return f"T{year}-{seq:03d}"


def parse_number(text: str) -> tuple[int, int] | None:
    """``T2026-007``, ``t2026-7`` or ``2026-007`` → (2026, 7); None if it is not a number."""
    match = NUMBER_RE.fullmatch(text.strip())
    if match is None or int(match["seq"]) == 0:
        return None
    return int(match["year"]), int(match["seq"])


def looks_like_number(text: str) -> bool:
    """A single word that was meant as a number (``T2026-7``, ``T26-7``, ``T-7``)."""
    word = text.strip()
    return bool(re.fullmatch(r"[Tt][0-9-]*|[0-9]{2,4}-[0-9]*", word)) and any(c.isdigit() for c in word)


# ---------------------------------------------------------------- tables


def _member_fk(*, nullable: bool, index: bool = False) -> Column[int]:
    return Column(Integer, ForeignKey("member.id"), nullable=nullable, index=index)


def _proposal_fk(*, primary_key: bool = False) -> Column[int]:
    return Column(
        Integer, ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False,
        primary_key=primary_key, index=not primary_key,
    )


class ProposalRound(SQLModel, table=True):
    """A collection round — 提案征集 (e.g. 六届三次教代会): proposals are filed between
    ``opens_at`` and ``closes_at`` (exclusive: the start of the day after the close date)."""

    __tablename__ = "proposal_round"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, sa_column=_member_fk(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalCounter(SQLModel, table=True):
    """The last sequence number given out in a year; bumped in the filing transaction."""

    __tablename__ = "proposal_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0


class Proposal(SQLModel, table=True):
    """Proposal — 提案, one matter per proposal (一事一案)."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_proposal_year_seq"),
        Index("ix_proposal_status_year", "status", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)  # T2026-007
    year: int
    seq: int
    round_id: int | None = Field(default=None, foreign_key="proposal_round.id", index=True)
    title: str = Field(max_length=TITLE_COLUMN)  # 标题 (案由)
    reason: str = Field(sa_type=Text)  # 理由
    suggestion: str = Field(sa_type=Text)  # 建议
    category: str | None = Field(default=None, max_length=32)  # 类别
    proposer_id: int = Field(sa_column=_member_fk(nullable=False, index=True))
    status: str = Field(max_length=16)  # a Status value
    cosigner_count: int = 0
    filed_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # 立案 / 不立案 / 转建议
    decided_by: int | None = Field(default=None, sa_column=_member_fk(nullable=True))
    decision_note: str | None = Field(default=None, sa_type=Text)  # 理由 of 不立案 / 转建议
    lead_department: str | None = Field(default=None, max_length=DEPARTMENT_COLUMN, index=True)
    deadline: date | None = None  # 答复期限, in the union's time zone
    handling_round: int = 1  # 2 after one 不满意 sent it back, …
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first lead reply
    rating: str | None = Field(default=None, max_length=16)  # the proposer's rating in force
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Number order, as integers (T2026-999 before T2026-1000), on the unique (year, seq) index;
# every list and export of proposals sorts by it, never by the ``number`` text or the id
NUMBER_ORDER = (col(Proposal.year), col(Proposal.seq))
NEWEST_FIRST = (col(Proposal.year).desc(), col(Proposal.seq).desc())


class ProposalAssignment(SQLModel, table=True):
    """A department handling an accepted proposal: 主办 (``lead``) or 协办."""

    __tablename__ = "proposal_assignment"

    proposal_id: int = Field(sa_column=_proposal_fk(primary_key=True))
    department: str = Field(primary_key=True, max_length=DEPARTMENT_COLUMN, index=True)
    lead: bool = False


class ProposalCosign(SQLModel, table=True):
    """A co-signature — 附议: one per representative and proposal."""

    __tablename__ = "proposal_cosign"

    proposal_id: int = Field(sa_column=_proposal_fk(primary_key=True))
    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id"), primary_key=True, index=True)
    )
    at: datetime = Field(sa_type=UTCDateTime)


class ProposalReply(SQLModel, table=True):
    """A department's reply — 答复 (the lead's) or opinion (协办), per handling round."""

    __tablename__ = "proposal_reply"
    __table_args__ = (
        UniqueConstraint("proposal_id", "department", "handling_round", name="uq_proposal_reply"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(sa_column=_proposal_fk())
    department: str = Field(max_length=DEPARTMENT_COLUMN)
    lead: bool
    handling_round: int
    outcome: str = Field(max_length=16)  # an Outcome value
    content: str = Field(sa_type=Text)
    author_id: int = Field(sa_column=_member_fk(nullable=False))
    replied_at: datetime = Field(sa_type=UTCDateTime)
    revisions: int = 0
    revised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProposalRating(SQLModel, table=True):
    """A rating — 评价 of the replies of one handling round, by the proposer or a co-signer."""

    __tablename__ = "proposal_rating"
    __table_args__ = (
        UniqueConstraint("proposal_id", "member_id", "handling_round", name="uq_proposal_rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(sa_column=_proposal_fk())
    member_id: int = Field(sa_column=_member_fk(nullable=False))
    handling_round: int
    rating: str = Field(max_length=16)  # a Rating value
    comment: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(sa_type=UTCDateTime)


class ProposalEvent(SQLModel, table=True):
    """One dated step of a proposal's timeline; ``data`` holds its details as JSON."""

    __tablename__ = "proposal_event"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(sa_column=_proposal_fk())
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, sa_column=_member_fk(nullable=True))
    kind: str = Field(max_length=16)
    data: str | None = Field(default=None, sa_type=Text)
