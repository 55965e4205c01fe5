"""The audit log — every state change an officer makes (DESIGN §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


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
