"""What the board reads of a ledger: published statements only, fixed at their checkpoint,
and a verdict on each checkpoint that names what changed after publication."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from models.db import Database
from models.funds import seals
from models.funds.periods import parse_period
from models.funds.public import (
    entry_page,
    ledger_of,
    monthly,
    published_statement,
    published_statements,
    tally_from_totals,
)
from models.funds.seals import ChainCache, Verdict, newest_seal
from models.funds.tables import Kind
from tests.models.funds.publishing import book_quarter, draft, publish, rewrite_chain, sql
from tests.models.funds.support import CS, book, branch_id

LATER = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


async def _two_quarters(db: Database, key: Path) -> tuple[int, int]:
    """Q3 (6 entries) published, then Q4's October and November (4 more) published as 2026-10/11."""
    cs = await branch_id(db, CS)
    for month in (7, 8, 9):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026Q3", key)
    for month in (10, 11):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026-11", key, now=LATER)
    async with db.read() as session:
        ledger = await ledger_of(session, cs)
    assert ledger is not None and ledger.id is not None
    return cs, ledger.id


async def _verdict(db: Database, ledger_id: int, period_key: str) -> Verdict:
    async with db.read() as session:
        statement = await published_statement(session, ledger_id, parse_period(period_key))
        newest = await newest_seal(session, ledger_id)
    assert statement is not None
    found = await ChainCache().verdict(db, ledger_id, statement.id, newest)
    assert found is not None
    return found


async def test_only_published_statements_newest_first(db: Database, tmp_path: Path) -> None:
    cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await draft(db, cs, "2026-10")
    async with db.read() as session:
        listed = await published_statements(session, ledger_id)
        assert await published_statement(session, ledger_id, parse_period("2026-10")) is None
    assert [s.number for s in listed] == ["F2026-11", "F2026Q3"]
    q3 = listed[1]
    assert (q3.opening_fen, q3.income_fen, q3.expense_fen, q3.closing_fen) == (0, 150_000, 36_000, 114_000)
    assert (q3.entries, q3.checkpoint["entries"]) == (6, 6)
    assert [(a.name, a.amount_fen) for a in q3.expense] == [("职工活动支出", 36_000)]
    assert [(c.name, c.amount_fen) for c in q3.expense[0].children] == [("文体活动", 36_000)]


async def test_months_and_entries_are_as_published_even_after_backdated_entries(
    db: Database, tmp_path: Path
) -> None:
    """The chain's tally and the per-day totals' agree, and both leave out a later entry."""
    cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await book(db, cs, 99_900, day=date(2026, 8, 20), text="补记八月")  # after Q3 was published
    async with db.read() as session:
        q3 = await published_statement(session, ledger_id, parse_period("2026Q3"))
        assert q3 is not None
        from_totals = await tally_from_totals(session, q3)
        state = await seals.walk_chain(session, ledger_id, {6, 10})
        from_chain = state.tally(6, q3.period.start, q3.period.end)
        assert from_chain == from_totals
        page = await entry_page(session, q3, from_totals, 1, per_page=4)
        second = await entry_page(session, q3, from_totals, 2, per_page=4)
        assert await entry_page(session, q3, from_totals, 3, per_page=4) is None
    assert [(m.start.month, m.income_fen, m.expense_fen) for m in monthly(q3.period, from_totals)] == [
        (7, 50_000, 12_000), (8, 50_000, 12_000), (9, 50_000, 12_000)]
    assert page is not None and second is not None
    assert (page.pages, page.total, len(page.entries), len(second.entries)) == (2, 6, 4, 2)
    assert [e.description for e in page.entries[:2]] == ["7月会费", "7月羽毛球赛"]
    assert [e.description for e in second.entries] == ["9月会费", "9月羽毛球赛"]
    assert page.entries[0].kind == Kind.INCOME.value


async def test_entry_pages_read_only_the_days_that_hold_them(db: Database, tmp_path: Path) -> None:
    cs = await branch_id(db, CS)
    for day in range(1, 11):  # three entries a day, 1 to 10 July
        for n in range(3):
            await book(db, cs, 100 + n, day=date(2026, 7, day), text=f"7-{day}-{n}")
    await publish(db, cs, "2026Q3", tmp_path / "k")
    async with db.read() as session:
        ledger = await ledger_of(session, cs)
        assert ledger is not None and ledger.id is not None
        q3 = await published_statement(session, ledger.id, parse_period("2026Q3"))
        assert q3 is not None
        tally = await tally_from_totals(session, q3)
        pages = [await entry_page(session, q3, tally, n, per_page=7) for n in (1, 2, 5)]
    texts = [[e.description for e in page.entries] if page else None for page in pages]
    assert texts[0] == ["7-1-0", "7-1-1", "7-1-2", "7-2-0", "7-2-1", "7-2-2", "7-3-0"]
    assert texts[1] == ["7-3-1", "7-3-2", "7-4-0", "7-4-1", "7-4-2", "7-5-0", "7-5-1"]
    assert texts[2] == ["7-10-1", "7-10-2"]


async def test_an_untouched_ledger_continues_the_earlier_statement(db: Database, tmp_path: Path) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    first = await _verdict(db, ledger_id, "2026Q3")
    second = await _verdict(db, ledger_id, "2026-11")
    assert (first.code, first.entries, first.previous) == ("first", 6, None)
    assert (second.code, second.entries) == ("continues", 10)
    assert second.previous is not None
    assert (second.previous.period_key, second.previous.entry_count) == ("2026Q3", 6)


async def test_an_entry_edited_after_publication_is_named(db: Database, tmp_path: Path) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await sql(db, "UPDATE fund_entry SET amount_fen = 1 WHERE seq = 3")
    for period_key in ("2026Q3", "2026-11"):
        found = await _verdict(db, ledger_id, period_key)
        assert (found.code, found.number, found.intact) == ("changed", "J2026-0003", False)
        assert found.since is not None and found.since.period_key == "2026Q3"


async def test_an_edit_after_the_earlier_statement_spares_it(db: Database, tmp_path: Path) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await sql(db, "UPDATE fund_entry SET description = '改过' WHERE seq = 8")
    assert (await _verdict(db, ledger_id, "2026Q3")).code == "first"
    found = await _verdict(db, ledger_id, "2026-11")
    assert (found.code, found.number) == ("changed", "J2026-0008")
    assert found.since is not None and found.since.period_key == "2026-11"


async def test_a_recomputed_chain_no_longer_matches_the_signed_head(db: Database, tmp_path: Path) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await sql(db, "UPDATE fund_entry SET amount_fen = 1 WHERE seq = 2")
    await rewrite_chain(db, ledger_id)
    found = await _verdict(db, ledger_id, "2026-11")
    assert found.code == "rewritten"
    assert found.since is not None and found.since.period_key == "2026Q3"


@pytest.mark.parametrize(("tamper", "code", "number", "walked"), [
    ("DELETE FROM fund_entry WHERE seq = 4", "deleted", "J2026-0005", 3),
    ("DELETE FROM fund_entry WHERE seq = 6", "deleted", None, 5),
])
async def test_deleted_entries_are_told(
    db: Database, tmp_path: Path, tamper: str, code: str, number: str | None, walked: int
) -> None:
    cs = await branch_id(db, CS)
    for month in (7, 8, 9):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026Q3", tmp_path / "k")
    async with db.read() as session:
        ledger = await ledger_of(session, cs)
    assert ledger is not None and ledger.id is not None
    await sql(db, tamper)
    found = await _verdict(db, ledger.id, "2026Q3")
    assert (found.code, found.number, found.walked) == (code, number, walked)


async def test_a_forged_signature_is_told(db: Database, tmp_path: Path) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    await sql(db, "UPDATE fund_checkpoint SET signature = '00' || substr(signature, 3) WHERE entry_count = 6")
    found = await _verdict(db, ledger_id, "2026-11")
    assert found.code == "signature"
    assert found.since is not None and found.since.period_key == "2026Q3"


async def test_the_cache_walks_once_per_checkpoint_and_refreshes_in_the_background(
    db: Database, tmp_path: Path
) -> None:
    cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    now = [0.0]
    cache = ChainCache(max_age=60, monotonic=lambda: now[0])
    async with db.read() as session:
        newest = await newest_seal(session, ledger_id)
        latest = (await published_statements(session, ledger_id))[0].id
    results = await asyncio.gather(*(cache.verdict(db, ledger_id, latest, newest) for _ in range(5)))
    assert {r.code for r in results if r is not None} == {"continues"} and cache.walks == 1
    await sql(db, "UPDATE fund_entry SET amount_fen = 1 WHERE seq = 3")
    stale = await cache.verdict(db, ledger_id, latest, newest)
    assert stale is not None and stale.code == "continues" and cache.walks == 1  # within max_age
    now[0] = 61.0
    served = await cache.verdict(db, ledger_id, latest, newest)  # answered at once, refreshed behind
    assert served is not None and served.code == "continues" and cache.walks == 2
    await asyncio.sleep(0.2)
    fresh = await cache.verdict(db, ledger_id, latest, newest)
    assert fresh is not None and fresh.code == "changed"
    await book_quarter(db, cs, 11)
    await publish(db, cs, "2026-10", tmp_path / "k", now=datetime(2026, 12, 7, tzinfo=UTC))
    async with db.read() as session:
        newer = await newest_seal(session, ledger_id)
    assert newer != newest
    await cache.verdict(db, ledger_id, latest, newer)
    assert cache.walks == 3
    await cache.close()


async def test_the_walk_yields_between_chunks(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cs, ledger_id = await _two_quarters(db, tmp_path / "k")
    monkeypatch.setattr(seals, "CHUNK", 3)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    async with db.read() as session:
        before = ticks
        state = await seals.walk_chain(session, ledger_id, {6, 10})
        during = ticks - before
    task.cancel()
    assert (state.walked, state.broken, sorted(state.heads)) == (10, None, [6, 10])
    assert during >= 3  # ten entries in chunks of three: the loop ran in between


async def test_a_new_checkpoint_continues_the_last_walk(db: Database, tmp_path: Path) -> None:
    """Publishing walks only the new entries; an older edit shows once the result is max_age old."""
    cs = await branch_id(db, CS)
    for month in (7, 8, 9):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026Q3", tmp_path / "k")
    async with db.read() as session:
        ledger = await ledger_of(session, cs)
        assert ledger is not None and ledger.id is not None
        q3 = (await published_statements(session, ledger.id))[0]
        newest = await newest_seal(session, ledger.id)
    now = [0.0]
    cache = ChainCache(max_age=60, monotonic=lambda: now[0])
    first = await cache.check(db, ledger.id, q3.id, newest)
    assert first is not None
    await sql(db, "UPDATE fund_entry SET amount_fen = 1 WHERE seq = 2")  # after the walk
    for month in (10, 11):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026-11", tmp_path / "k", now=LATER)
    async with db.read() as session:
        november = (await published_statements(session, ledger.id))[0]
        newer = await newest_seal(session, ledger.id)
        full = await seals.walk_chain(session, ledger.id, {6, 10})
    now[0] = 30.0
    extended = await cache.check(db, ledger.id, november.id, newer)
    assert extended is not None and cache.walks == 2
    assert (extended[0].code, extended[1].walked, extended[1].checked_at) == ("continues", 10,
                                                                             first[1].checked_at)
    period = november.period
    assert extended[1].tally(10, period.start, period.end) == {
        (date(2026, 11, 10), "income"): (50_000, 1), (date(2026, 11, 10), "expense"): (12_000, 1)}
    assert full.broken is not None and full.broken.number == "J2026-0002"  # what a full walk finds
    now[0] = 61.0
    await cache.check(db, ledger.id, november.id, newer)  # past max_age: a full walk behind
    await asyncio.sleep(0.2)
    found = await cache.verdict(db, ledger.id, november.id, newer)
    assert found is not None and (found.code, found.number) == ("changed", "J2026-0002")
    await cache.close()
