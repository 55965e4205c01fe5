"""Rendering board pages: the HTML environment, security headers, entity tags and the
short in-process cache of rendered pages.

A page handler returns a ``Page`` (template and values); ``cached`` turns it into an
aiohttp handler that serves the page from memory when it was rendered moments ago and
answers ``304`` when the browser already has it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jinja2
from aiohttp import web

from bot.appkeys import CLOCK, SETTINGS
from handlers.board.state import PAGES, STYLE, Rendered

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HTML = "text/html; charset=utf-8"
#: Where the board is served.
BASE = "/board/"
#: How long a browser may reuse a page without asking again.
MAX_AGE = 60


@dataclass(frozen=True, slots=True)
class Page:
    """What a page handler found: the template under ``templates/board`` and its values."""

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)
    status: int = 200


PageHandler = Callable[[web.Request], Awaitable[Page]]


@cache
def board_env() -> jinja2.Environment:
    """The HTML environment (autoescape on for every template)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("templates", "board"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def now_of(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[CLOCK](), UTC)


def render(request: web.Request, page: Page) -> Rendered:
    """``page`` rendered in the base layout, with its entity tag."""
    settings = request.config_dict[SETTINGS]
    values = {
        "union": settings.union.name, "bot": settings.union.bot_name, "tz": settings.union.tz,
        "css": f"{BASE}static/{request.app[STYLE].name}", "home": BASE,
        **page.values,
    }
    body = board_env().get_template(page.template).render(values).encode("utf-8")
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return Rendered(body=body, etag=etag, status=page.status)


def headers(request: web.Request, page: Rendered, *, store: bool = True) -> dict[str, str]:
    """Security headers, the entity tag and how long the page may be kept."""
    public = request.config_dict[SETTINGS].board.access == "public"
    keep = f"{'public' if public else 'private'}, max-age={MAX_AGE}" if store else "no-store"
    return {**SECURITY_HEADERS, "Content-Type": HTML, "ETag": page.etag, "Cache-Control": keep,
            "Vary": "Cookie"}


def respond(request: web.Request, page: Rendered, *, store: bool = True) -> web.Response:
    """The page, or ``304`` when the browser sent its entity tag."""
    sent = headers(request, page, store=store)
    if store and page.status == 200 and page.etag in _tags(request.headers.get("If-None-Match", "")):
        del sent["Content-Type"]
        return web.Response(status=304, headers=sent)
    return web.Response(status=page.status, body=page.body, headers=sent)


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def cached(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler serving ``handler``'s page, rendered at most every few seconds."""

    async def serve(request: web.Request) -> web.Response:
        pages = request.app[PAGES]
        key = request.path_qs
        page = pages.get(key)
        if page is None:

            async def fresh() -> Rendered:
                return render(request, await handler(request))

            page = await pages.build(key, fresh)
        return respond(request, page)

    return serve


def error_page(request: web.Request, template: str, status: int, **values: Any) -> web.Response:
    """A page that says what went wrong (403, 404, 400); never cached."""
    page = render(request, Page(template, values, status))
    return respond(request, page, store=False)
