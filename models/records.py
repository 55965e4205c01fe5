"""Bookkeeping tables: inbound dedup records, the audit log and dialog state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class InboundRecord(SQLModel, table=True):
    """One inbound message that caused work, keyed for dedup, with the reply it got.

    The row is written in the same transaction as the work, so a retried delivery
    finds it and gets ``reply`` (JSON; NULL means the bot stayed silent). ``answered``
    is how the reply reaches the chat, decided once by the copy that did the work:
    ``passive`` (in the answer to the platform's request; a retried copy answers the
    same way) or ``pushed`` (through the outbox; every other copy stays silent).
    """

    __tablename__ = "inbound_record"

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=255, unique=True)
    channel: str = Field(max_length=32)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    reply: str | None = Field(default=None, sa_type=Text)
    answered: str | None = Field(default=None, max_length=8)  # NULL: before 0006, passive


class AuditLog(SQLModel, table=True):
    """Audit log — who changed what, when, with the state before and after (JSON)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    actor: str = Field(max_length=64)  # a name or "cli"
    action: str = Field(max_length=64)
    target: str = Field(max_length=128)
    before: str | None = Field(default=None, sa_type=Text)
    after: str | None = Field(default=None, sa_type=Text)


class DialogState(SQLModel, table=True):
    """An open guided dialog, keyed by channel + chat + user; survives a restart."""

    __tablename__ = "dialog_state"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "user_id", name="uq_dialog_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=128)
    user_id: str = Field(max_length=128)
    dialog: str = Field(max_length=64)
    step: int = 0
    data: str = Field(default="{}", sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
