"""The outbox: every message the bot sends on its own initiative, as a durable queue row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow

QUEUED = "queued"  # waiting for its turn (``next_attempt_at``)
SENDING = "sending"  # a worker holds it until ``lease_until`` (renewed while it sends)
SENT = "sent"
DEAD = "dead"  # gave up: permanent error or too many attempts (``last_error`` says why)
UNKNOWN = "unknown"  # the sender died mid-send; not resent blindly, an operator decides
RECALLED = "recalled"  # taken back while queued, never sent (``last_error`` says why); final
STATUSES = (QUEUED, SENDING, SENT, DEAD, UNKNOWN, RECALLED)


class OutboxMessage(SQLModel, table=True):
    """One message to deliver, unique by its idempotency key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)  # idempotency key, e.g. "broadcast:12:chat:5"
    channel: str = Field(max_length=32)
    target_kind: str = Field(max_length=8)  # "user", "group" or "robot"
    target: str = Field(max_length=128)  # the platform's id (or the robot's name)
    payload: str = Field(sa_type=Text)  # a Reply as JSON
    status: str = Field(default=QUEUED, max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: str | None = Field(default=None, max_length=32)  # the lease ``lease_until`` is of
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
