"""公开栏 — the board: web pages under ``/board/`` showing what the union has published,
and the chat command ``公开栏`` that hands a member the link.

``install(app)`` mounts the pages on the application; ``register(registry)`` adds the
command. Pages are listed in ``handlers.board.routes``.
"""

from __future__ import annotations

from aiohttp import web

from bot.registry import Registry
from handlers.board import access, command, funds, home, routes, static
from handlers.board.pages import BASE, cached
from handlers.board.state import MEMBERS, PAGES, STYLE, ActiveMembers, PageCache
from models.funds.seals import ChainCache


async def _missing(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotFound()


def board_app() -> web.Application:
    """The board as a sub-application: its routes behind the access check."""
    board = web.Application(middlewares=[access.guard])
    board[PAGES] = PageCache()
    board[MEMBERS] = ActiveMembers()
    board[STYLE] = static.load_stylesheet()
    board[home.CARDS] = list(routes.HOME_CARDS)
    board[funds.SEALS] = ChainCache()
    board.on_shutdown.append(funds.close_seals)
    for path, handler in routes.ROUTES:
        board.router.add_get(path, cached(handler))
    board.router.add_get("/enter", access.enter)
    board.router.add_get("/static/{name}", static.stylesheet)
    board.router.add_route("*", "/{tail:.*}", _missing)
    return board


async def _to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(BASE)


def install(app: web.Application) -> web.Application:
    """Serve the board under ``/board/``; returns the board's sub-application."""
    board = board_app()
    app.router.add_get(BASE.rstrip("/"), _to_home)
    app.add_subapp(BASE.rstrip("/"), board)
    return board


def register(registry: Registry) -> None:
    command.register(registry)
