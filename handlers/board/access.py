"""Who may open the board: ``[board] access = "members"`` asks for the cookie a personal
link sets (``/board/enter?t=…``) and a member still active; ``"public"`` lets everyone in.

Without a valid cookie a page answers ``403`` with a page that says how to get a link. A
member marked inactive loses access within ``ActiveMembers.seconds``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.appkeys import CLOCK, DB, SETTINGS
from handlers.board import links
from handlers.board.pages import BASE, error_page
from handlers.board.state import MEMBERS
from models.members import member_is_active

logger = logging.getLogger(__name__)

#: Paths (inside the board) open without a cookie: the link itself and the stylesheet.
OPEN_PATHS = ("enter", "static/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _active(request: web.Request, member_id: int) -> bool:
    known = request.app[MEMBERS]
    active = known.get(member_id)
    if active is None:
        async with request.config_dict[DB].read() as session:
            active = await member_is_active(session, member_id)
        known.put(member_id, active)
    return active


async def admitted(request: web.Request) -> bool:
    """Whether the request may read the board."""
    settings = request.config_dict[SETTINGS]
    if settings.board.access == "public":
        return True
    token = request.cookies.get(links.COOKIE, "")
    found = links.read(settings.board.key_file, token, request.config_dict[CLOCK]())
    return found is not None and await _active(request, found.member_id)


def forbidden(request: web.Request, reason: str) -> web.Response:
    return error_page(request, "forbidden.html.j2", 403, reason=reason)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let members (or everyone, in public mode) in; turn 404s into the board's page."""
    inside = request.path.removeprefix(BASE.rstrip("/")).lstrip("/")
    if not inside.startswith(OPEN_PATHS) and not await admitted(request):
        return forbidden(request, "no_link")
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_page(request, "missing.html.j2", 404)
    except web.HTTPBadRequest:
        return error_page(request, "bad_request.html.j2", 400)


async def enter(request: web.Request) -> web.StreamResponse:
    """``/board/enter?t=…``: a valid personal link sets the cookie and opens the board."""
    settings = request.config_dict[SETTINGS]
    if settings.board.access == "public":  # a link from before the board was opened to all
        return web.Response(status=303, headers={"Location": BASE, "Referrer-Policy": "no-referrer"})
    found = links.read(settings.board.key_file, request.query.get("t", ""), request.config_dict[CLOCK]())
    if found is None:
        return forbidden(request, "bad_link")
    if not await _active(request, found.member_id):
        return forbidden(request, "inactive")
    response = web.Response(status=303, headers={
        "Location": BASE, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
    })
    response.set_cookie(
        links.COOKIE, request.query["t"], path=BASE.rstrip("/"),
        max_age=max(found.expires - int(request.config_dict[CLOCK]()), 0),
        httponly=True, samesite="Lax", secure=settings.server.public_url.startswith("https://"),
    )
    logger.info("board link of member %d opened", found.member_id)
    return response
