"""What the list pages share: the page number in the query and the link to another page."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web

T = TypeVar("T")

#: Lines per page of a list.
PAGE_SIZE = 20
#: The highest page number read from a query (beyond it: 400, not a database scan).
MAX_PAGE = 100_000


def page_param(request: web.Request) -> int:
    """``?page=`` as a number from 1 (default 1); 400 when it is not one."""
    text = request.query.get("page", "1")
    if not text.isdigit() or len(text) > len(str(MAX_PAGE)) or not 1 <= int(text) <= MAX_PAGE:
        raise web.HTTPBadRequest()
    return int(text)


def found(value: T | None) -> T:
    """``value``, or 404 when there is none (an unknown number, a page past the last)."""
    if value is None:
        raise web.HTTPNotFound()
    return value
