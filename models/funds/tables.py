"""经费 tables: ledgers, entries (the hash chain), 慰问, budgets, statements, checkpoints.

Nothing here is ever updated except the ledger's head (``FundLedger``: entry count,
head hash, balance — a cache of the chain that ``verify`` checks) and a statement's
status. Entries are only inserted; a correction is a reversing entry (``reverses_id``).
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

DESCRIPTION_MAX = 200
HASH_LEN = 64


class FundLedger(SQLModel, table=True):
    """One branch's books (the root branch's are the union's own); the chain's head."""

    __tablename__ = "fund_ledger"

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", unique=True)
    opened_on: date
    entry_count: int = 0
    head_hash: str = Field(default="0" * HASH_LEN, max_length=HASH_LEN)
    balance_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FundCounter(SQLModel, table=True):
    """The last entry number given in a ledger's year (``J2026-0042``)."""

    __tablename__ = "fund_counter"

    ledger_id: int = Field(
        sa_column=Column(Integer, ForeignKey("fund_ledger.id"), primary_key=True, autoincrement=False)
    )
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0


class Kind(enum.StrEnum):
    INCOME = "income"  # 收入
    EXPENSE = "expense"  # 支出

    @property
    def label(self) -> str:
        return "收入" if self is Kind.INCOME else "支出"


class FundEntry(SQLModel, table=True):
    """One ledger entry — 流水. ``amount_fen`` is positive, negative only on a reversal."""

    __tablename__ = "fund_entry"
    __table_args__ = (
        UniqueConstraint("ledger_id", "seq", name="uq_fund_entry_seq"),
        UniqueConstraint("ledger_id", "number", name="uq_fund_entry_number"),
        UniqueConstraint("reverses_id", name="uq_fund_entry_reverses"),
        Index("ix_fund_entry_ledger_day", "ledger_id", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="fund_ledger.id")
    seq: int  # position in the ledger's chain, 1, 2, 3 …
    number: str = Field(max_length=16)  # J2026-0042
    kind: str = Field(max_length=8)  # a Kind value
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    category_code: str = Field(max_length=16)
    description: str = Field(max_length=DESCRIPTION_MAX)
    occurred_on: date
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: int | None = Field(default=None, foreign_key="member.id")
    reverses_id: int | None = Field(default=None, foreign_key="fund_entry.id")
    transfer_key: str | None = Field(default=None, max_length=32, index=True)
    prev_hash: str = Field(max_length=HASH_LEN)
    hash: str = Field(max_length=HASH_LEN)


class FundDayTotal(SQLModel, table=True):
    """The sum and count of a ledger's entries per day, kind and category — a cache kept by
    every append (``verify`` checks it), so a period's figures read a few hundred rows."""

    __tablename__ = "fund_day_total"

    ledger_id: int = Field(
        sa_column=Column(Integer, ForeignKey("fund_ledger.id"), primary_key=True, autoincrement=False)
    )
    day: date = Field(primary_key=True)
    kind: str = Field(max_length=8, primary_key=True)
    category_code: str = Field(max_length=16, primary_key=True)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    entries: int


class FundRelief(SQLModel, table=True):
    """A 慰问 payout to one member; never published by name (counts and sums only)."""

    __tablename__ = "fund_relief"
    __table_args__ = (Index("ix_fund_relief_member_kind_year", "member_id", "kind", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="fund_entry.id", unique=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=16)  # 生日, 住院 …
    year: int
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str | None = Field(default=None, sa_type=Text)


class FundBudget(SQLModel, table=True):
    """预算: a yearly figure for one category of one ledger."""

    __tablename__ = "fund_budget"
    __table_args__ = (UniqueConstraint("ledger_id", "year", "category_code", name="uq_fund_budget"),)

    id: int | None = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="fund_ledger.id")
    year: int
    category_code: str = Field(max_length=16)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class StatementStatus(enum.StrEnum):
    DRAFT = "draft"  # 草稿: drafted, waiting for an officer to publish (or send to review)
    REVIEW = "review"  # 待审核 by 经审
    RETURNED = "returned"  # 已退回 by 经审
    PUBLISHED = "published"  # 已公示

    @property
    def label(self) -> str:
        return {"draft": "草稿", "review": "待审核", "returned": "已退回", "published": "已公示"}[self.value]


class FundStatement(SQLModel, table=True):
    """经费公示: one period of one ledger; ``summary`` holds the published figures (JSON)."""

    __tablename__ = "fund_statement"
    __table_args__ = (UniqueConstraint("ledger_id", "period_key", name="uq_fund_statement_period"),)

    id: int | None = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="fund_ledger.id")
    number: str = Field(max_length=16)  # F2026Q4
    period_key: str = Field(max_length=8)
    status: str = Field(max_length=12)
    summary: str | None = Field(default=None, sa_type=Text)
    drafted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    drafted_by: int | None = Field(default=None, foreign_key="member.id")
    reviewed_by: int | None = Field(default=None, foreign_key="member.id")
    review_note: str | None = Field(default=None, sa_type=Text)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by: int | None = Field(default=None, foreign_key="member.id")


class FundCheckpoint(SQLModel, table=True):
    """A signed head of a ledger's chain, taken when a statement is published."""

    __tablename__ = "fund_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    ledger_id: int = Field(foreign_key="fund_ledger.id", index=True)
    statement_id: int | None = Field(default=None, foreign_key="fund_statement.id")
    entry_count: int
    head_hash: str = Field(max_length=HASH_LEN)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    public_key: str = Field(max_length=64)  # hex of the Ed25519 public key
    signature: str = Field(max_length=128)  # hex


class FundKey(SQLModel, table=True):
    """The union's signing key as registered by the first server that made it (public half)."""

    __tablename__ = "fund_key"

    id: int = Field(default=1, primary_key=True)
    public_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---------------------------------------------------------------- numbers

ENTRY_NUMBER = re.compile(r"[Jj](?P<year>[0-9]{4})-(?P<seq>[0-9]{1,6})")


def entry_number(year: int, seq: int) -> str:
    return f"J{year}-{seq:04d}"


def parse_entry_number(text: str) -> str | None:
    """``j2026-42`` → ``J2026-0042``; None if it is not an entry number."""
    match = ENTRY_NUMBER.fullmatch(text.strip())
    if match is None or int(match["seq"]) == 0:
        return None
    return entry_number(int(match["year"]), int(match["seq"]))


def statement_number(period_key: str) -> str:
    """``2026Q4`` → ``F2026Q4``; ``2026-11`` → ``F2026-11``."""
    return f"F{period_key}"
