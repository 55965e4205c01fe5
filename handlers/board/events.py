"""``/board/events``: events not yet over, with the places left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from handlers.board.branches import BranchView, branch_param, view_of
from handlers.board.lists import PAGE_SIZE, found, page_param
from handlers.board.pages import Page, now_of
from models.events import public

#: How many events the front page shows.
HOME_LINES = 5


def _branches(view: BranchView) -> frozenset[int] | None:
    """The events a branch's members may join: the union's, their branch's and those above."""
    return None if view.id is None else view.above


async def listing(request: web.Request) -> Page:
    number = page_param(request)
    async with request.config_dict[DB].read() as session:
        view = await view_of(session, branch_param(request), request.config_dict[SETTINGS].union.name)
        page = found(await public.upcoming(
            session, now=now_of(request), branches=_branches(view), number=number, size=PAGE_SIZE))
    return Page("events.html.j2", {"view": view, "page": page})


async def card(session: AsyncSession, view: BranchView, now: datetime) -> dict[str, Any]:
    return {"events": await public.soonest(session, now=now, branches=_branches(view), limit=HOME_LINES)}
