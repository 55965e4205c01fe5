"""``import_roster``: validate the whole file, then upsert by 工号 in one write transaction.

The members as stored are read before the write lock is taken (SQLite has one writer:
the server waits for it), and the transaction checks that none changed meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.audit import AuditLog
from models.db import Database
from models.roster.cells import text_of
from models.roster.files import read_rows
from models.roster.header import RosterRow
from models.roster.rows import Rejection, RosterEntry, validate_rows
from models.roster.writing import Counts, Stored, apply, roster_mark, stored_members

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ImportReport(Counts):
    """What an import did (or, for a dry run, would do): the counts of the writes, the
    rows read and the rows refused."""

    total: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "deactivated": self.deactivated,
            "rejected": len(self.rejected),
        }


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run, so everything rolls back."""


def _load(path: Path) -> tuple[list[RosterRow], list[RosterEntry], list[Rejection]]:
    rows = read_rows(path)
    accepted, rejected = validate_rows(rows)
    return rows, accepted, rejected


async def import_roster(
    *,
    db: Database,
    path: Path,
    union_name: str,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the roster at ``path``: upsert members by 工号 in one write transaction.

    New members are added; changed ones updated (and made active again), their roles and
    children replaced by the file's; unchanged ones left alone. With
    ``deactivate_missing``, active members whose 工号 is on no row of the file are made
    inactive. ``dry_run`` does the same work and rolls it back. ``progress(done, total)``
    counts accepted rows as they are written, every ``CHUNK`` rows and at the end.
    Raises ``RosterError`` (nothing stored) when the file cannot be used at all.
    """
    rows, entries, rejected = await asyncio.to_thread(_load, path)
    report = ImportReport(total=len(rows), rejected=rejected, dry_run=dry_run)
    listed = frozenset(text_of(row.cells.get("工号")) for row in rows)  # refused rows too
    columns = frozenset(rows[0].cells) if rows else frozenset()
    mark, early = await _read_early(db)
    try:
        async with db.write() as session:
            # another import wrote meanwhile: read again, inside the lock
            stored = early if await roster_mark(session) == mark else None
            await apply(
                session=session, entries=entries, union_name=union_name, listed=listed,
                columns=columns, deactivate_missing=deactivate_missing, progress=progress,
                counts=report, stored=stored,
            )
            if dry_run:
                raise _DryRun
            session.add(_audit(path, report))
    except _DryRun:
        pass
    _log(path, report)
    return report


def _audit(path: Path, report: ImportReport) -> AuditLog:
    after = json.dumps(report.counts(), ensure_ascii=False)
    return AuditLog(actor="cli", action="roster_import", target=path.name[:128], after=after)


async def _read_early(db: Database) -> tuple[tuple[Any, ...], Stored]:
    """The members as stored, read before the write lock is taken (SQLite's server waits
    for that lock), with the mark that tells whether they are still the same inside it."""
    async with db.read() as session:
        return await roster_mark(session), await stored_members(session)


def _log(path: Path, report: ImportReport) -> None:
    logger.info(
        "roster %s%s: %d rows, %d created, %d updated, %d unchanged, %d deactivated, "
        "%d rejected", path.name, " (dry run)" if report.dry_run else "", report.total,
        report.created, report.updated, report.unchanged, report.deactivated,
        len(report.rejected),
    )
