"""Serving the app on a TCP port: timeouts, a connection cap, open-file headroom.

- A connection that has not sent its request head within ``[server]
  header_timeout_seconds`` (after connecting, or after its previous answer) is
  closed: aiohttp's keep-alive timer, which also runs from the moment of connecting.
- A body that does not arrive within ``body_timeout_seconds`` gets 408
  (``bot.httpguard.body_in_time``).
- Beyond ``max_connections`` open connections a new one is answered 503 and closed
  at once, so a flood of slow clients cannot use up the process's file descriptors;
  the soft open-files limit is raised to the hard one at start.
- Malformed requests and hang-ups aiohttp notices are rate-limited WARNING lines
  (``bot.httpguard.ServerLogger``).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.httpguard import TROUBLE, FloodLog, ServerLogger

logger = logging.getLogger(__name__)

#: Descriptors kept free beside the connections: database, log files, outgoing HTTP.
RESERVED_FILES = 100
#: Unanswered connections the kernel queues while the server is busy.
BACKLOG = 128
#: How long a refused body may keep arriving before its connection is closed.
LINGERING_SECONDS = 2.0
MAX_OPEN_FILES = 1 << 20
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nbusy"
)


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("could not raise the open-files limit from %d: %s", soft, exc)
    return MAX_OPEN_FILES if soft == resource.RLIM_INFINITY else soft


def connection_cap(wanted: int, open_files: int) -> int:
    """``wanted``, or fewer when the open-files limit cannot hold that many."""
    room = max(open_files - RESERVED_FILES, 1)
    if wanted > room:
        logger.warning("[server] max_connections = %d does not fit the open-files limit of %d; "
                       "serving at most %d connections", wanted, open_files, room)
        return room
    return wanted


class Busy(asyncio.Protocol):
    """A connection beyond the cap: answered 503 and closed straight away."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(BUSY_RESPONSE)
        transport.close()


def _gate(server: web.Server, cap: int, trouble: FloodLog) -> asyncio.BaseProtocol:
    if len(server.connections) < cap:
        return server()
    trouble.note("busy", "http: %d connections are open; refusing new ones until some close", cap)
    return Busy()


def handler_options(settings: Settings, trouble: FloodLog) -> dict[str, Any]:
    """Keyword arguments of aiohttp's request handler for ``unionbot serve``."""
    return {
        "keepalive_timeout": settings.server.header_timeout_seconds,
        "lingering_time": LINGERING_SECONDS,
        "logger": ServerLogger(trouble),
        "access_log": None,
    }


@asynccontextmanager
async def serving(
    app: web.Application, settings: Settings, *, port: int | None = None
) -> AsyncIterator[tuple[str, int]]:
    """Serve ``app`` on ``[server] host`` and ``port`` (default ``[server] port``; 0 picks a
    free one); yields the address it listens on."""
    cap = connection_cap(settings.server.max_connections, raise_open_files_limit())
    trouble = app[TROUBLE]
    runner = web.AppRunner(app, **handler_options(settings, trouble))
    await runner.setup()
    server = runner.server
    assert server is not None
    try:
        listener = await asyncio.get_running_loop().create_server(
            lambda: _gate(server, cap, trouble), settings.server.host,
            settings.server.port if port is None else port,
            backlog=BACKLOG,
        )
    except BaseException:
        await runner.cleanup()
        raise
    try:
        host, port = listener.sockets[0].getsockname()[:2]
        yield host, port
    finally:
        listener.close()
        await runner.cleanup()


async def serve_until_stopped(app: web.Application, settings: Settings) -> None:
    """``unionbot serve``: serve until SIGINT or SIGTERM, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serving(app, settings) as (host, port):
        logger.info("serving on http://%s:%s", host, port)
        await stop.wait()
        logger.info("stopping")
