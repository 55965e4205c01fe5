"""``GET /files/{token}``: files behind the download links the bot hands out (导出).

A link is an unguessable token with an expiry (``models.events.links``); the file is
built when it is opened. An unknown, malformed or expired token is a plain 404, the
same for all three, so a guesser learns nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import CLOCK, DB, SETTINGS
from bot.render import say
from models.events.export import ExportFile, export_roster
from models.events.links import EVENT_ROSTER, TOKEN_SHAPE, DownloadLink, find_link
from models.events.tables import Event
from models.ideas.export import IDEA_ROUND, IDEA_YEAR, export_ideas
from models.org import Member
from models.scope import reach_of

logger = logging.getLogger(__name__)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name of RFC 5987/6266."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_"
                       for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _build(request: web.Request, link: DownloadLink) -> ExportFile | None:
    settings = request.app[SETTINGS]
    async with request.app[DB].read() as session:
        if link.kind == EVENT_ROSTER:
            event = await session.get(Event, link.subject_id)
            if event is None:
                return None
            return await export_roster(session, event, tz=settings.union.tz, fmt=link.fmt)
        if link.kind in (IDEA_ROUND, IDEA_YEAR):
            return await _ideas(session, link, settings.union.tz)
    logger.warning("download link %s of unknown kind %r", link.id, link.kind)
    return None


async def _ideas(session: AsyncSession, link: DownloadLink, tz: ZoneInfo) -> ExportFile | None:
    """The ideas export, limited to the branches the officer who asked for it manages."""
    officer = await session.get(Member, link.created_by) if link.created_by is not None else None
    if officer is None:
        return None
    reach = await reach_of(session, officer.branch_id)
    branches = None if reach.union_wide else reach.branches
    return await export_ideas(session, kind=link.kind, subject=link.subject_id, branches=branches, tz=tz)


async def download(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not TOKEN_SHAPE.match(token):
        raise web.HTTPNotFound(text=say("server", "link_invalid"))
    async with request.app[DB].read() as session:
        link = await find_link(session, token, datetime.fromtimestamp(request.app[CLOCK](), UTC))
    if link is None:
        raise web.HTTPNotFound(text=say("server", "link_invalid"))
    built = await _build(request, link)
    if built is None:
        raise web.HTTPNotFound(text=say("server", "link_invalid"))
    logger.info("download link %s served: %s, %d rows", link.id, built.filename, built.rows)
    return web.Response(body=built.data, headers={
        "Content-Type": built.content_type,
        "Content-Disposition": content_disposition(built.filename),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    })


def install(app: web.Application) -> None:
    """Add the download route to the application."""
    app.router.add_get("/files/{token}", download)
