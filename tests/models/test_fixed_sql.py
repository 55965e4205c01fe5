"""Fixed statements store and read exactly what SQLAlchemy would, on both paths."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlmodel import col

from models.audit import AuditLog
from models.base import execute_core, table_of
from models.db import Database
from models.fixed_sql import SQLITE_CONNECTION, FixedInsert, FixedStatement
from models.inbound import InboundRecord
from models.org import Branch, Member

AUDIT = FixedInsert(table_of(AuditLog), ("at", "actor_id", "actor", "action", "target", "before", "after"))
CLAIM = FixedInsert(table_of(InboundRecord), ("dedup_key", "channel", "received_at", "reply"))
_m = table_of(Member)
MEMBER = FixedStatement(select(_m.c.id, _m.c.name, _m.c.birth_date, _m.c.active, _m.c.created_at)
                     .where(_m.c.staff_no == bindparam("staff_no")))
WHOLE_SECOND = datetime(2027, 5, 1, 8, 0, 0, tzinfo=UTC)
FRACTION = datetime(2027, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)


def audit_row(at: datetime, target: str) -> dict[str, object]:
    return {"at": at, "actor_id": None, "actor": "cli", "action": "测试", "target": target,
            "before": None, "after": "{}"}


async def test_the_sqlite_path_is_taken_in_writer_sessions(sqlite_db: Database) -> None:
    async with sqlite_db.write() as session:
        assert session.info.get(SQLITE_CONNECTION) is not None


async def test_inserts_store_what_sqlalchemy_stores(db: Database) -> None:
    async with db.write() as session:
        for at, target in ((WHOLE_SECOND, "fixed-0"), (FRACTION, "fixed-1")):
            await AUDIT.run(session, audit_row(at, target))
        for at, target in ((WHOLE_SECOND, "core-0"), (FRACTION, "core-1")):
            await execute_core(session, AUDIT.statement, audit_row(at, target))
    async with db.read() as session:
        stored = dict((await session.execute(
            text("SELECT target, CAST(at AS TEXT) FROM audit_log")
        )).tuples().all())
        typed = dict((await session.execute(select(AuditLog.target, AuditLog.at))).tuples().all())
    assert stored["fixed-0"] == stored["core-0"] and stored["fixed-1"] == stored["core-1"]
    assert typed["fixed-0"] == WHOLE_SECOND and typed["fixed-1"] == FRACTION


async def test_a_duplicate_raises_sqlalchemys_integrity_error(db: Database) -> None:
    claim = {"dedup_key": "onebot:1", "channel": "onebot", "received_at": FRACTION, "reply": None}
    async with db.write() as session:
        await CLAIM.run(session, claim)
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await CLAIM.run(session, claim)


async def test_a_failed_writer_rolls_back_its_fixed_insert(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.write() as session:
            await AUDIT.run(session, audit_row(FRACTION, "gone"))
            raise ZeroDivisionError
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar() == 0


async def test_selects_convert_values_like_sqlalchemy(db: Database) -> None:
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        session.add(Member(staff_no="10001", name="张三", branch_id=branch.id or 0,
                           birth_date=date(1980, 2, 29), created_at=FRACTION))
    async with db.write() as session:
        [row] = await MEMBER.rows(session, {"staff_no": "10001"})
        assert await MEMBER.rows(session, {"staff_no": "nobody"}) == []
    member_id, name, born, active, created = row
    assert (name, born, active, created) == ("张三", date(1980, 2, 29), True, FRACTION)
    assert isinstance(member_id, int) and isinstance(active, bool)


async def test_a_fixed_insert_in_a_nested_block_is_rolled_back_with_it(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(ValueError):
            async with session.begin_nested():
                await AUDIT.run(session, audit_row(FRACTION, "nested"))
                raise ValueError
        await AUDIT.run(session, audit_row(FRACTION, "kept"))
    async with db.read() as session:
        rows = await session.execute(text("SELECT target FROM audit_log"))
        assert list(rows.scalars()) == ["kept"]


async def test_a_fixed_insert_after_pending_orm_work_is_rolled_back_with_it(db: Database) -> None:
    with pytest.raises(ValueError):
        async with db.write() as session:
            session.add(Branch(name="甲"))
            await AUDIT.run(session, audit_row(FRACTION, "gone"))
            raise ValueError
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar() == 0
        assert (await session.execute(text("SELECT count(*) FROM branch"))).scalar() == 0


async def test_selects_convert_literal_values_too(db: Database) -> None:
    query = FixedStatement(select(_m.c.name).where(_m.c.created_at <= WHOLE_SECOND))
    async with db.write() as session:
        branch = Branch(name="计算机学院分工会")
        session.add(branch)
        await session.flush()
        session.add(Member(staff_no="1", name="早", branch_id=branch.id or 0, created_at=WHOLE_SECOND))
        session.add(Member(staff_no="2", name="晚", branch_id=branch.id or 0,
                           created_at=FRACTION.replace(microsecond=999999)))
    async with db.write() as session:
        assert await query.rows(session, {}) == [("早",)]


async def test_a_fixed_insert_refuses_a_session_whose_flush_failed(db: Database) -> None:
    async with db.write() as session:
        session.add(Branch(name="甲"))
    with pytest.raises(PendingRollbackError):
        async with db.write() as session:
            await AUDIT.run(session, audit_row(FRACTION, "before"))
            session.add(Branch(name="甲"))  # the name is taken
            with pytest.raises(IntegrityError):
                await session.flush()
            await AUDIT.run(session, audit_row(FRACTION, "after"))
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM audit_log"))).scalar() == 0


async def test_run_for_id_returns_the_new_rows_key(db: Database) -> None:
    async with db.write() as session:
        ids = [await AUDIT.run_for_id(session, audit_row(WHOLE_SECOND, f"id-{n}")) for n in range(2)]
    async with db.read() as session:
        stored = (await session.execute(
            select(AuditLog.id, AuditLog.target).where(col(AuditLog.target).like("id-%")).order_by("id")
        )).all()
    assert [tuple(row) for row in stored] == [(ids[0], "id-0"), (ids[1], "id-1")]
    assert ids[1] == ids[0] + 1
