"""``/board/ideas``: the 金点子 ranking, and the chosen ideas with their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from handlers.board.branches import BranchView, branch_param, view_of
from handlers.board.lists import PAGE_SIZE, found, page_param
from handlers.board.pages import Page
from models.ideas import public

#: How many chosen ideas the ideas page shows above the ranking.
CHOSEN_LINES = 10
#: How many ideas of the ranking, and chosen ones, the front page shows.
HOME_LINES = 5


def _branches(view: BranchView) -> frozenset[int] | None:
    """The ideas of a branch's members and of the branches below it."""
    return None if view.id is None else view.below


async def ranking(request: web.Request) -> Page:
    number = page_param(request)
    async with request.config_dict[DB].read() as session:
        view = await view_of(session, branch_param(request), request.config_dict[SETTINGS].union.name)
        page = found(await public.ranking(session, branches=_branches(view), number=number, size=PAGE_SIZE))
        chosen = []
        if number == 1:
            chosen = await public.chosen(session, branches=_branches(view), limit=CHOSEN_LINES)
    return Page("ideas.html.j2", {"view": view, "page": page, "chosen": chosen, "size": PAGE_SIZE})


async def card(session: AsyncSession, view: BranchView, now: datetime) -> dict[str, Any]:
    """The front page's top ideas and the latest chosen ones."""
    return {
        "top_ideas": await public.top(session, branches=_branches(view), limit=HOME_LINES),
        "chosen_ideas": await public.chosen(session, branches=_branches(view), limit=HOME_LINES),
    }
