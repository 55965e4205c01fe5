"""The roster import reads the stored members before it takes the write lock, and still
writes the right thing when another import changed them in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from models.db import Database
from models.org import Member
from models.roster import import_roster, importing
from models.roster.writing import Stored
from tests.models.test_roster import GOOD_ROWS, UNION, snapshot, write_csv


async def test_members_changed_after_the_early_read_are_read_again(
    db: Database, tmp_path: Path, monkeypatch: Any
) -> None:
    first = write_csv(tmp_path / "first.csv", GOOD_ROWS[:2])
    both = write_csv(tmp_path / "both.csv", GOOD_ROWS[:4])
    read_early = importing.stored_members

    async def read_then_another_import_writes(session: Any) -> Stored:
        stored = await read_early(session)  # no 10001 / 10002 yet
        monkeypatch.setattr(importing, "stored_members", read_early)
        await import_roster(db=db, path=first, union_name=UNION)
        return stored

    monkeypatch.setattr(importing, "stored_members", read_then_another_import_writes)
    report = await import_roster(db=db, path=both, union_name=UNION)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 2)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 4
    assert sorted(await snapshot(db)) == ["10001", "10002", "10005", "10008"]


async def test_an_unchanged_roster_uses_the_early_read(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", GOOD_ROWS)
    await import_roster(db=db, path=path, union_name=UNION)
    again = await import_roster(db=db, path=path, union_name=UNION)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(GOOD_ROWS))
