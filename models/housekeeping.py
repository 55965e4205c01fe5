"""Housekeeping: drop rows that have served their purpose.

* dedup records (``inbound_record``) older than ``[database] keep_inbound_days``: a
  platform redelivers a message within minutes, so after that the record (and the
  reply text it keeps) is only weight;
* download links that expired a day ago or more (the page already answers "expired");
* dialogs idle for longer than ``[dialog] idle_timeout_minutes`` (they are dropped
  anyway when their owner writes again, but many never do).

Rows go in chunks, each in its own short transaction, so a large backlog never holds
SQLite's write lock for long. The audit log and the outbox are never pruned: the one
is the record of who did what, the other's keys keep scheduled messages from going
out twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select

from models.base import execute_core, table_of
from models.db import Database
from models.dialog_state import DialogState
from models.events.links import DownloadLink
from models.inbound import InboundRecord

CHUNK = 2000
EXPIRED_LINK_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pruned:
    inbound: int
    links: int
    dialogs: int

    @property
    def total(self) -> int:
        return self.inbound + self.links + self.dialogs


def _chunked_delete(table: Table, column: str) -> Any:
    """DELETE up to ``CHUNK`` rows whose ``column`` is before ``:before``."""
    ids = (
        select(table.c.id).where(table.c[column] < bindparam("before")).limit(CHUNK).scalar_subquery()
    )
    return delete(table).where(table.c.id.in_(ids))


_INBOUND = _chunked_delete(table_of(InboundRecord), "received_at")
_LINKS = _chunked_delete(table_of(DownloadLink), "expires_at")
_DIALOGS = _chunked_delete(table_of(DialogState), "updated_at")


async def _drain(db: Database, statement: Any, before: datetime) -> int:
    removed = 0
    while True:
        async with db.write() as session:
            count = (await execute_core(session, statement, {"before": before})).rowcount
        removed += count
        if count < CHUNK:
            return removed


async def prune(
    db: Database, now: datetime, *, keep_inbound_days: int, dialog_idle_minutes: int
) -> Pruned:
    """Delete what is past keeping at ``now`` (UTC); returns how many rows went."""
    return Pruned(
        inbound=await _drain(db, _INBOUND, now - timedelta(days=keep_inbound_days)),
        links=await _drain(db, _LINKS, now - EXPIRED_LINK_GRACE),
        dialogs=await _drain(db, _DIALOGS, now - timedelta(minutes=dialog_idle_minutes)),
    )
