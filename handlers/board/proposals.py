"""``/board/proposals`` and ``/board/proposals/<编号>``: proposals from 立案 on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB
from handlers.board.branches import BranchView
from handlers.board.lists import PAGE_SIZE, found, page_param
from handlers.board.pages import Page
from models.proposals import public
from models.proposals.tables import ADMITTED, Status, format_number, parse_number

#: ``?status=`` values: the statuses the board shows.
STATUSES = {status.value: status for status in sorted(ADMITTED, key=list(Status).index)}
#: How many proposals the front page shows.
HOME_LINES = 5


async def listing(request: web.Request) -> Page:
    status_text = request.query.get("status", "")
    if status_text and status_text not in STATUSES:
        raise web.HTTPBadRequest()
    number = page_param(request)
    async with request.config_dict[DB].read() as session:
        page = found(await public.page_of(
            session, number=number, size=PAGE_SIZE, status=STATUSES.get(status_text)))
    return Page("proposals.html.j2", {"page": page, "status": status_text, "statuses": STATUSES})


async def one(request: web.Request) -> Page:
    parsed = parse_number(request.match_info["number"])
    async with request.config_dict[DB].read() as session:
        proposal = found(await public.one(session, format_number(*parsed)) if parsed else None)
    return Page("proposal.html.j2", {"proposal": proposal})


async def card(session: AsyncSession, view: BranchView, now: datetime) -> dict[str, Any]:
    """The front page's latest admitted proposals (the 教代会's, the same on every branch)."""
    return {"proposals": await public.latest(session, limit=HOME_LINES)}
