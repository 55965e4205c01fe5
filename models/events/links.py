"""Download links — 下载链接: an unguessable token that serves one file until it expires.

The file is built when the link is opened, so it always shows the current state
(a roster exported in the morning and opened at noon lists the noon sign-ups).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col, select

from models.base import UTCDateTime, execute_core, table_of, utcnow

TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
EVENT_ROSTER = "event_roster"  # kind: the sign-up roster of one event
FORMATS = ("xlsx", "csv")
KEEP_EXPIRED = timedelta(days=7)  # expired rows are deleted after this long


class DownloadLink(SQLModel, table=True):
    """One download link: what it serves (``kind`` + ``subject_id``, ``fmt``) and until when."""

    __tablename__ = "download_link"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    subject_id: int
    fmt: str = Field(max_length=8)  # "xlsx" or "csv"
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


_INSERT = insert(table_of(DownloadLink)).values(
    token=bindparam("token"), kind=bindparam("kind"), subject_id=bindparam("subject_id"),
    fmt=bindparam("fmt"), created_by=bindparam("created_by"), created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)
_PURGE = delete(table_of(DownloadLink)).where(
    table_of(DownloadLink).c.expires_at < bindparam("before")
)
_BY_TOKEN = select(DownloadLink).where(col(DownloadLink.token) == bindparam("token"))


async def create_link(
    session: AsyncSession, *, kind: str, subject_id: int, fmt: str, created_by: int | None,
    now: datetime, lifetime: timedelta,
) -> tuple[str, datetime]:
    """A new token for the file, and when it expires."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + lifetime
    await execute_core(session, _PURGE, {"before": now - KEEP_EXPIRED})
    await execute_core(session, _INSERT, {
        "token": token, "kind": kind, "subject_id": subject_id, "fmt": fmt,
        "created_by": created_by, "now": now, "expires_at": expires_at,
    })
    return token, expires_at


async def find_link(session: AsyncSession, token: str, now: datetime) -> DownloadLink | None:
    """The link of ``token`` if it exists and has not expired; a malformed token is None."""
    if not TOKEN_SHAPE.match(token):
        return None
    link: DownloadLink | None = await session.scalar(_BY_TOKEN, {"token": token})
    if link is None or link.expires_at <= now:
        return None
    return link
