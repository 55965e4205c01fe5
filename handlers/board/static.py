"""The board's stylesheet, served by unionbot under a name that changes with its content,
so browsers may keep it for a year."""

from __future__ import annotations

import hashlib
from importlib import resources

from aiohttp import web

from handlers.board.pages import SECURITY_HEADERS
from handlers.board.state import STYLE, Stylesheet

YEAR = 365 * 86400


def load_stylesheet() -> Stylesheet:
    body = resources.files("templates").joinpath("board", "board.css").read_bytes()
    return Stylesheet(body=body, name=f"board-{hashlib.blake2b(body, digest_size=6).hexdigest()}.css")


async def stylesheet(request: web.Request) -> web.Response:
    style = request.app[STYLE]
    if request.match_info["name"] != style.name:
        raise web.HTTPNotFound()
    return web.Response(body=style.body, headers={
        **SECURITY_HEADERS, "Content-Type": "text/css; charset=utf-8",
        "Cache-Control": f"public, max-age={YEAR}, immutable",
    })
