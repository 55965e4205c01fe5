"""``/board/``: the front page of the 公开栏, for the whole union or one branch.

It shows what the cards found: each card is a function of the session, the branch view
and the time that returns values for ``home.html.j2`` (``routes.HOME_CARDS``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import DB, SETTINGS
from handlers.board.branches import BranchView, branch_param, view_of
from handlers.board.pages import Page, now_of

Card = Callable[[AsyncSession, BranchView, datetime], Awaitable[Mapping[str, Any]]]
CARDS: web.AppKey[list[Card]] = web.AppKey("board_cards")


async def home(request: web.Request) -> Page:
    branch_id = branch_param(request)
    now = now_of(request)
    values: dict[str, Any] = {}
    async with request.config_dict[DB].read() as session:
        view = await view_of(session, branch_id, request.config_dict[SETTINGS].union.name)
        for card in request.app[CARDS]:
            values.update(await card(session, view, now))
    return Page("home.html.j2", {"view": view, "now": now, **values})
