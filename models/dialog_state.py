"""Dialog state — where each open guided dialog stands, so it survives a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


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
