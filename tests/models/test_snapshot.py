"""Snapshots: rows read with Core, usable like loaded instances."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from models.base import set_loaded, snapshot
from models.db import Database
from models.org import Branch

ROOT = Path(__file__).resolve().parents[2]


def test_a_snapshot_reads_in_a_fresh_process_before_any_query() -> None:
    code = (
        "from models.base import snapshot\n"
        "from models.org import Member\n"
        "m = snapshot(Member, {'id': 7, 'staff_no': '10001', 'name': '张三', 'branch_id': 1,"
        " 'active': True})\n"
        "print(m.id, m.staff_no, m.name, m.active)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["7", "10001", "张三", "True"]


async def test_set_loaded_updates_snapshots_and_session_instances(db: Database) -> None:
    plain = snapshot(Branch, {"id": 1, "name": "甲"})
    set_loaded(plain, "name", "乙")
    assert plain.name == "乙"
    async with db.write() as session:
        session.add(Branch(name="丙"))
    async with db.write() as session:
        loaded = (await session.scalars(select(Branch))).one()
        set_loaded(loaded, "name", "丁")
        assert loaded.name == "丁"
        assert not session.dirty  # recorded as stored, not as a change to save
