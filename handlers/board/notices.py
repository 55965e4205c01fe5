"""``/board/notices`` (公告 and 公示, latest first) and ``/board/notices/<编号>``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from handlers.board.branches import BranchView, branch_param, view_of
from handlers.board.lists import PAGE_SIZE, found, page_param
from handlers.board.pages import Page, now_of
from models.notices import public
from models.notices.tables import Kind, parse_number

KINDS = {"announcement": Kind.ANNOUNCEMENT, "disclosure": Kind.DISCLOSURE}
#: How many of each the front page shows.
HOME_LINES = 5


async def listing(request: web.Request) -> Page:
    kind_text = request.query.get("kind", "")
    if kind_text and kind_text not in KINDS:
        raise web.HTTPBadRequest()
    number = page_param(request)
    async with request.config_dict[DB].read() as session:
        view = await view_of(session, branch_param(request), request.config_dict[SETTINGS].union.name)
        page = found(await public.page_of(
            session, kind=KINDS.get(kind_text), branches=_branches(view), number=number, size=PAGE_SIZE,
        ))
    return Page("notices.html.j2", {"view": view, "kind": kind_text, "page": page, "now": now_of(request)})


async def one(request: web.Request) -> Page:
    text = request.match_info["number"]
    number = parse_number(text, text[:1].upper()) if text[:1].upper() in ("G", "S") else None
    async with request.config_dict[DB].read() as session:
        notice = found(await public.one(session, number) if number else None)
        results = await public.results_of(session, notice.id) if notice.is_disclosure else []
    return Page("notice.html.j2", {"notice": notice, "results": results, "now": now_of(request)})


def _branches(view: BranchView) -> frozenset[int] | None:
    """The notices a branch's members get: its own and those of the branches above it."""
    return None if view.id is None else view.above


async def card(session: AsyncSession, view: BranchView, now: datetime) -> dict[str, Any]:
    """The front page's 公告 and open 公示."""
    branches = _branches(view)
    return {
        "announcements": await public.latest(
            session, kind=Kind.ANNOUNCEMENT, branches=branches, limit=HOME_LINES),
        "open_disclosures": await public.latest(
            session, kind=Kind.DISCLOSURE, branches=branches, limit=HOME_LINES, open_at=now),
    }
