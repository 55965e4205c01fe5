"""/board/funds and /board/funds/<期间>: published statements only, their figures as charts and
tables, the checkpoint and a verification sentence that tells when the ledger was changed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from models.db import Database
from models.funds.categories import load_tree
from models.funds.ledger import find_ledger
from models.funds.tables import Kind
from tests.board.funds_sample import fill_funds
from tests.board.funds_support import NOW, board_client, elements, inside
from tests.board.sample import IMG, SCRIPT, Sample
from tests.clock import FrozenClock
from tests.models.funds.publishing import book_quarter, draft, publish, sql
from tests.models.funds.support import CS, book, branch_id

Q3 = "/board/funds/2026Q3"


async def _q3(db: Database, key: Path) -> int:
    """July to September: 500.00 of 会费 and 120.00 of 文体活动 a month; Q3 published."""
    cs = await branch_id(db, CS)
    for month in (7, 8, 9):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026Q3", key)
    return cs


async def _get(client: Any, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, path
    return str(await response.text())


async def test_the_statement_shows_its_figures_tables_and_charts(
    db: Database, tmp_path: Path, aiohttp_client: Any
) -> None:
    cs = await _q3(db, tmp_path / "k")
    client = await board_client(aiohttp_client, db)
    html = await _get(client, f"{Q3}?branch={cs}")
    assert "计算机学院分工会 2026年第三季度经费收支公示" in html and "F2026Q3" in html
    for figure in ("<dd>0.00</dd>", "<dd>1,500.00</dd>", "<dd>360.00</dd>", "<dd>1,140.00</dd>"):
        assert figure in html
    assert "<caption>收入</caption>" in html and "<caption>逐月收支（元）</caption>" in html
    assert '<th scope="row">职工活动支出</th><td class="num">360.00</td><td class="num">100.0%</td>' in html
    assert '<th scope="row">2026年8月</th><td class="num">500.00</td><td class="num">120.00</td>' in html
    bars = [(a["class"], a["data-fen"]) for tag, a in elements(inside(html, "chart-breakdown")).tags
            if tag == "g"]
    assert bars == [("bar bar-income", "150000"), ("bar bar-expense", "36000")]
    widths = [a["width"] for tag, a in elements(inside(html, "chart-breakdown")).tags if tag == "rect"
              and a.get("height") == "14"]
    assert widths == ["240.0", "57.6"]  # the largest category fills the bar, the rest to scale
    months = elements(inside(html, "chart-months"))
    heights = [(a["class"], a["height"]) for tag, a in months.tags
               if tag == "rect" and "bar" in a.get("class", "")]
    assert heights == [("bar bar-income", "170.0"), ("bar bar-expense", "40.8")] * 3  # scale top: 500 元
    assert "2026年7月收入 500.00 元" in months.titles and "2026年9月支出 120.00 元" in months.titles
    assert 'role="img"' in html and 'viewBox="0 0 360 ' in html and "<script" not in html


async def test_the_checkpoint_and_an_untouched_ledger(
    db: Database, tmp_path: Path, aiohttp_client: Any
) -> None:
    cs = await _q3(db, tmp_path / "k")
    for month in (10, 11):
        await book_quarter(db, cs, month)
    await publish(db, cs, "2026-11", tmp_path / "k", now=NOW)
    async with db.read() as session:
        ledger = await find_ledger(session, cs)
    assert ledger is not None
    client = await board_client(aiohttp_client, db)
    first = await _get(client, f"{Q3}?branch={cs}")
    later = await _get(client, f"/board/funds/2026-11?branch={cs}")
    assert "本账本第一次公示：公示时账上共 6 笔流水，至今未被改动。" in first
    assert "本期账目接续 2026Q3 公示的 6 笔，未被改动；本期公示时账上共 10 笔，至今未被改动。" in later
    assert f'<dd class="hash">{ledger.head_hash}</dd>' in later  # the head when 2026-11 was published
    assert 'data-verdict="continues"' in later and "verdict broken" not in later


async def test_an_entry_changed_after_publication_is_said_plainly(
    db: Database, tmp_path: Path, aiohttp_client: Any
) -> None:
    cs = await _q3(db, tmp_path / "k")
    await book_quarter(db, cs, 10)
    await publish(db, cs, "2026-10", tmp_path / "k", now=NOW)
    await sql(db, "UPDATE fund_entry SET amount_fen = 100 WHERE number = 'J2026-0003'")
    client = await board_client(aiohttp_client, db)
    for path in (f"{Q3}?branch={cs}", f"/board/funds/2026-10?branch={cs}"):
        html = await _get(client, path)
        assert "注意：流水 J2026-0003 在 2026Q3 公示后被改动过，现在的账目已不是当时公示的样子。" in html
        assert 'class="verdict broken" data-verdict="changed"' in html
        assert "未被改动" not in html


async def test_only_published_periods_are_pages(db: Database, tmp_path: Path, aiohttp_client: Any) -> None:
    cs = await _q3(db, tmp_path / "k")
    await book_quarter(db, cs, 10)
    await draft(db, cs, "2026-10")
    client = await board_client(aiohttp_client, db)
    for path in (f"/board/funds/2026-10?branch={cs}", f"/board/funds/2026Q4?branch={cs}",
                 f"/board/funds/2026Q5?branch={cs}", "/board/funds/abc", f"/board/funds/{quote('<b>')}",
                 Q3, f"{Q3}?branch=999", f"{Q3}?branch={cs}&page=2"):
        assert "没有找到这一页" in await _get(client, path, 404)
    await _get(client, f"{Q3}?branch={cs}&page=x", 400)
    await _get(client, f"{Q3}?branch=x", 400)
    html = await _get(client, f"/board/funds/{quote('2026年第三季度')}?branch={cs}")
    assert "F2026Q3" in html


async def test_hostile_category_and_entry_text_is_shown_as_text(
    db: Database, tmp_path: Path, aiohttp_client: Any
) -> None:
    csv = tmp_path / "categories.csv"
    csv.write_text("code,name,kind,parent,aliases\n101,会费收入,income,,\n"
                   '900,<script>alert(1)</script>,expense,,\n'
                   '90001,"""><img src=x onerror=alert(1)>",expense,900,\n', encoding="utf-8")
    cs = await branch_id(db, CS)
    await book(db, cs, 5_000, kind=Kind.INCOME, code="101", day=date(2026, 8, 1), text="会费")
    hostile = "<script>alert('x')</script>" + "长" * 150
    await book(db, cs, 3_000, code="90001", day=date(2026, 8, 2), text=hostile)
    await publish(db, cs, "2026Q3", tmp_path / "k", tree=load_tree(str(csv)))
    client = await board_client(aiohttp_client, db)
    html = await _get(client, f"{Q3}?branch={cs}")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


async def test_the_list_newest_first_and_the_front_page_card(
    db: Database, tmp_path: Path, aiohttp_client: Any
) -> None:
    cs = await _q3(db, tmp_path / "k")
    await book_quarter(db, cs, 10)
    await publish(db, cs, "2026-10", tmp_path / "k", now=NOW)
    await draft(db, cs, "2026-11")
    client = await board_client(aiohttp_client, db)
    listed = await _get(client, f"/board/funds?branch={cs}")
    assert listed.index("F2026-10") < listed.index("F2026Q3") and "F2026-11" not in listed
    assert f'href="/board/funds/2026-10?branch={cs}"' in listed
    assert f'href="/board/funds/2026Q3?branch={cs}"' in await _get(client, "/board/funds")
    home = await _get(client, f"/board/?branch={cs}")
    assert "最新经费公示" in home and f'href="/board/funds/2026-10?branch={cs}"' in home
    assert "<dd>1,520.00</dd>" in home  # October's closing balance: 1,140.00 + 500.00 − 120.00


async def test_the_sample_unions_statements_answer_and_escape(
    db: Database, sample: Sample, public: Any, clock: FrozenClock, tmp_path: Path
) -> None:
    funds = await fill_funds(db, sample, now=clock.now, key_path=tmp_path / "funds.key")
    listed = await _get(public, "/board/funds")
    for page in funds.pages:
        assert f'href="{page.replace("&", "&amp;")}"' in listed
        html = await _get(public, page)
        assert 'data-verdict="' in html and "verdict broken" not in html
        assert SCRIPT not in html and IMG not in html and "<script" not in html
    assert "本期账目接续" in await _get(public, funds.pages[1])
    assert "没有找到这一页" in await _get(public, funds.draft, 404)
    home = await _get(public, "/board/")
    assert "最新经费公示" in home and 'href="/board/funds"' in home
