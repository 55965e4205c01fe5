"""Trouble a client causes on the HTTP server: counted, logged without tracebacks, rate-limited.

Anyone who can reach the port can send malformed requests, hang up mid-body or
trickle bytes. Each such event is counted in ``unionbot_http_trouble_total{kind}``
and logged as one WARNING line, at most one per kind every ``interval`` seconds;
the next line says how many were left out in between.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import RequestPayloadError

from bot.appkeys import SETTINGS
from bot.metrics import Counter

logger = logging.getLogger(__name__)

LOG_INTERVAL_SECONDS = 60.0


class FloodLog:
    """Counts client-caused trouble per kind; logs at most one WARNING per kind per interval."""

    def __init__(
        self, counter: Counter, *, interval: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counter = counter
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def note(self, kind: str, message: str, *args: Any) -> None:
        self._counter.labels(kind).inc()
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last[kind] = now
        left_out = self._suppressed.pop(kind, 0)
        if left_out:
            message += " (and %d more like this in the last %d s)"
            args = (*args, left_out, round(now - (last or now)))
        logger.warning(message, *args)


TROUBLE = web.AppKey("trouble", FloodLog)


def client_fault(exc: object) -> str | None:
    """The kind of trouble when ``exc`` is the client's doing, else None."""
    if isinstance(exc, HttpProcessingError):
        return "malformed_request"
    if isinstance(exc, RequestPayloadError):
        return "malformed_body"
    if isinstance(exc, ConnectionError):
        return "client_gone"
    return None


class ServerLogger(logging.Logger):
    """aiohttp's server logger (handler argument ``logger``).

    aiohttp logs every malformed request and every hang-up it notices as an ERROR
    with a traceback; those become one rate-limited line in ``trouble``. Errors of
    the server itself are logged as before.
    """

    def __init__(self, trouble: FloodLog) -> None:
        super().__init__("aiohttp.server")
        self.parent = logging.getLogger("aiohttp.server")
        self._trouble = trouble

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        kind = client_fault(exc_info)
        if kind is None:
            super().exception(msg, *args, exc_info=exc_info, **kwargs)
            return
        self._trouble.note(kind, "http: %s (%s)", str(msg) % args, type(exc_info).__name__)


def _peer(request: web.Request) -> str:
    return request.remote or "-"


@web.middleware
async def body_in_time(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """Read every request body before its handler runs, within ``body_timeout_seconds``.

    A body that does not arrive in time gets 408 and the connection is closed; a
    client that hangs up or sends a broken body gets 400 without reaching the
    handler. Bodies declared larger than ``client_max_size`` are left to the
    handler, which refuses them.
    """
    declared = request.content_length
    if request.body_exists and (declared is None or declared <= request.client_max_size):
        refusal = await _read_in_time(request)
        if refusal is not None:
            return refusal
    response: web.StreamResponse = await handler(request)
    return response


async def _read_in_time(request: web.Request) -> web.Response | None:
    trouble = request.app[TROUBLE]
    try:
        async with asyncio.timeout(request.app[SETTINGS].server.body_timeout_seconds):
            await request.read()
    except TimeoutError:
        trouble.note("slow_body", "http: %s did not send its request body in time; closed",
                     _peer(request))
        response = web.Response(status=408, text="body_timeout")
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        trouble.note("body_too_large", "http: %s sent a body over the size limit", _peer(request))
        raise
    except (ConnectionError, RequestPayloadError) as exc:
        kind = client_fault(exc) or "client_gone"
        trouble.note(kind, "http: %s broke off its request to %s (%s)",
                     _peer(request), request.path, type(exc).__name__)
        return web.Response(status=400, text=kind)
    return None
