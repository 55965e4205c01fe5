"""Inbound dedup records — what each platform message caused, and the reply it got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
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
