"""The real application on a free local port, for a browser to open."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.app import create_app
from bot.config import Settings


@dataclass
class Live:
    """A running server: its address and its application."""

    base: str
    app: web.Application


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (known before the app is built)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve(settings: Settings, sock: socket.socket) -> AsyncIterator[Live]:
    """``create_app(settings)`` served on ``sock`` until the block ends."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock)
        await site.start()
        host, port = sock.getsockname()[:2]
        yield Live(base=f"http://{host}:{port}", app=app)
    finally:
        await runner.cleanup()
