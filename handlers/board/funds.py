"""经费公示 on the board: ``/board/funds`` (the published statements, most recent first) and
``/board/funds/<期间>`` (one statement: figures, charts with their tables, the entries a
page at a time, the checkpoint and whether the ledger still matches it), plus the front
page's "最新经费公示" card.

``?branch=<id>`` picks the branch's ledger; without it the list shows every ledger and a
statement page shows the union's own. Only published statements are shown: a period
that is not a period, or one whose statement is a draft, in review or returned, is 404.
Charts are drawn by ``templates/board/charts.html.j2`` (``funds_charts`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from handlers.board.branches import BranchView, branch_param, view_of
from handlers.board.funds_charts import breakdown, month_chart
from handlers.board.pages import BASE, Page
from models.funds.amounts import yuan
from models.funds.categories import CategoryTree
from models.funds.periods import Period
from models.funds.public import (
    EntryPage,
    Listed,
    Published,
    entry_page,
    ledger_of,
    monthly,
    page_count,
    period_from_url,
    published_list,
    published_statement,
    tally_from_totals,
    union_branch,
)
from models.funds.seals import ChainCache, Tally, newest_seal

SEALS = web.AppKey("board_funds_seals", ChainCache)
STATEMENTS_PER_PAGE = 20
MAX_PAGE = 100_000


@dataclass(frozen=True, slots=True)
class Pages:
    """What ``macros.pager`` shows."""

    number: int
    count: int
    total: int


def share(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` (``—`` when there is no whole)."""
    return f"{part * 100 / whole:.1f}%" if whole > 0 else "—"


def page_param(request: web.Request) -> int:
    """The ``page`` query parameter (1 when absent); 400 when it is not a page number."""
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise web.HTTPBadRequest()
    return int(text)


def statement_url(branch_id: int | None, period: Period) -> str:
    return f"{BASE}funds/{period.key}" + (f"?branch={branch_id}" if branch_id is not None else "")


def list_url(view: BranchView) -> str:
    return f"{BASE}funds" + (f"?branch={view.id}" if view.id is not None else "")


def _ledger_name(view: BranchView, branch_id: int, union: str) -> str:
    return dict(view.branches).get(branch_id, union)


def _item(view: BranchView, listed: Listed, union: str, root: int | None) -> dict[str, Any]:
    link_branch = None if listed.branch_id == root else listed.branch_id
    return {"s": listed.statement, "ledger": _ledger_name(view, listed.branch_id, union),
            "url": statement_url(link_branch, listed.statement.period)}


async def funds_list(request: web.Request) -> Page:
    """``/board/funds``: published statements, most recently published first."""
    branch_id, number = branch_param(request), page_param(request)
    union = request.config_dict[SETTINGS].union.name
    async with request.config_dict[DB].read() as session:
        view = await view_of(session, branch_id, union)
        root = await union_branch(session)
        listed, total = await published_list(session, branch_id=branch_id, limit=STATEMENTS_PER_PAGE,
                                             offset=(number - 1) * STATEMENTS_PER_PAGE)
    pages = Pages(number, page_count(total, STATEMENTS_PER_PAGE), total)
    if number > pages.count:
        raise web.HTTPNotFound()
    return Page("funds.html.j2", {
        "view": view, "items": [_item(view, found, union, root) for found in listed], "pages": pages,
        "page_base": f"{BASE}funds{view.query}", "yuan": yuan,
    })


# ---------------------------------------------------------------- one statement


def _categories(tree: CategoryTree) -> dict[str, str]:
    return {code: tree.path(code) for code in tree.by_code}


def _seal(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    return {**checkpoint, "signed_at": datetime.fromisoformat(str(checkpoint["signed_at"]))}


async def _published(session: AsyncSession, view: BranchView, period: Period) -> Published:
    """The period's published statement of the view's ledger (the union's without a branch); 404 else."""
    owner = view.id if view.id is not None else await union_branch(session)
    ledger = await ledger_of(session, owner) if owner is not None else None
    found = await published_statement(session, ledger.id, period) if ledger and ledger.id else None
    if found is None:
        raise web.HTTPNotFound()
    return found


def _values(request: web.Request, view: BranchView, found: Published, tally: Tally,
            entries: EntryPage) -> dict[str, Any]:
    months = monthly(found.period, tally)
    return {
        "s": found, "ledger": view.name, "months": months, "month_chart": month_chart(months),
        "breakdown": breakdown(found.income, found.expense, found.income_fen, found.expense_fen),
        "entries": entries, "pages": Pages(entries.page, entries.pages, entries.total),
        "page_base": f"{statement_url(view.id, found.period)}{'&' if view.id is not None else '?'}",
        "categories": _categories(request.config_dict[SETTINGS].funds.tree), "seal": _seal(found.checkpoint),
        "list_url": list_url(view), "yuan": yuan, "share": share,
    }


async def statement(request: web.Request) -> Page:
    """``/board/funds/<期间>``: one published statement with its verification.

    The chain is checked (or its cached result read) between two short database sessions,
    so a request waiting for a walk holds no connection.
    """
    period = period_from_url(request.match_info["period"])
    if period is None:
        raise web.HTTPNotFound()
    number, db = page_param(request), request.config_dict[DB]
    async with db.read() as session:
        view = await view_of(session, branch_param(request), request.config_dict[SETTINGS].union.name)
        found = await _published(session, view, period)
        newest = await newest_seal(session, found.ledger_id)
    checked = await request.app[SEALS].check(db, found.ledger_id, found.id, newest)
    upto = int(found.checkpoint["entries"])
    tally = checked[1].tally(upto, period.start, period.end) if checked is not None else None
    async with db.read() as session:
        if tally is None:  # the chain no longer verifies: the per-day totals as they are
            tally = await tally_from_totals(session, found)
        entries = await entry_page(session, found, tally, number)
    if entries is None:
        raise web.HTTPNotFound()
    values = _values(request, view, found, tally, entries)
    return Page("funds_statement.html.j2", values | {"verdict": checked[0] if checked is not None else None})


# ---------------------------------------------------------------- the front page


async def latest_card(session: AsyncSession, view: BranchView, now: datetime) -> Mapping[str, Any]:
    """The latest published statement of the branch shown (of any ledger, for the union)."""
    listed, _total = await published_list(session, branch_id=view.id, limit=1)
    values: dict[str, Any] = {"funds_latest": None, "funds_list_url": list_url(view)}
    if listed:
        s = listed[0].statement
        values["funds_latest"] = {
            **_item(view, listed[0], view.name, await union_branch(session)), "opening": yuan(s.opening_fen),
            "income": yuan(s.income_fen), "expense": yuan(s.expense_fen), "closing": yuan(s.closing_fen),
        }
    return values


async def close_seals(app: web.Application) -> None:
    await app[SEALS].close()
