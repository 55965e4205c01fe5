"""The application factory: ``create_app(settings)`` builds the whole web server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot import downloads
from bot.appkeys import CLOCK, DB, HTTP, METRICS, OUTBOX, PIPELINE, REGISTRY, SENDERS, SETTINGS, TASKS
from bot.channels import install_channels
from bot.channels.base import MAX_BODY_BYTES, same
from bot.config import Settings
from bot.errors import ConfigError
from bot.httpguard import TROUBLE, FloodLog, body_in_time
from bot.metrics import Metrics
from bot.outbox.worker import OutboxWorker, Sender
from bot.pipeline import Pipeline
from bot.render import say
from handlers import board, build_registry
from models import migrate
from models.base import utcnow
from models.db import Database
from models.housekeeping import prune
from scheduler.runner import scheduler_ctx

logger = logging.getLogger(__name__)

HOUSEKEEPING_FIRST_SECONDS = 30.0
HOUSEKEEPING_SECONDS = 3600.0
FREEZE_AFTER_SECONDS = 1.0
#: Headers a reverse proxy adds; a request carrying one came from elsewhere, whatever its peer.
FORWARDED_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Open the configured database; bring an SQLite file up to date by itself.

    A shared PostgreSQL database is migrated only by ``unionbot db upgrade``, so
    replicas never race each other over the schema.
    """
    db = Database(settings.database.url)
    try:
        state = await migrate.status(db)  # a read: a CLI verb next to a busy server starts at once
        if db.is_sqlite and not state["up_to_date"]:
            await migrate.upgrade(db)
        elif not state["up_to_date"]:
            raise ConfigError(say("server", "db_outdated", current=state["current"], head=state["head"]))
        yield db
    finally:
        await db.dispose()


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_database(settings) as db:
        app[DB] = db
        clock = app[CLOCK]
        app[PIPELINE] = Pipeline(
            db=db, settings=settings, registry=app[REGISTRY], metrics=app[METRICS],
            clock=lambda: datetime.fromtimestamp(clock(), UTC),
        )
        logger.info("database ready (%s)", db.dialect)
        yield


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=15, connect=5)
    async with aiohttp.ClientSession(timeout=timeout, raise_for_status=False) as session:
        app[HTTP] = session
        yield


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    senders: dict[str, Sender] = app[SENDERS]
    worker = OutboxWorker(db=app[DB], settings=app[SETTINGS], senders=senders, metrics=app[METRICS])
    app[OUTBOX] = worker
    worker.start()
    yield
    await worker.stop()


async def _housekeeping(app: web.Application) -> None:
    settings = app[SETTINGS]
    await asyncio.sleep(HOUSEKEEPING_FIRST_SECONDS)
    while True:
        try:
            pruned = await prune(
                app[DB], utcnow(), keep_inbound_days=settings.database.keep_inbound_days,
                dialog_idle_minutes=settings.dialog.idle_timeout_minutes,
            )
            if pruned.total:
                logger.info("housekeeping: removed %d dedup record(s), %d expired link(s), "
                            "%d idle dialog(s)", pruned.inbound, pruned.links, pruned.dialogs)
        except Exception:
            logger.exception("housekeeping failed; it runs again in an hour")
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    """Prunes old bookkeeping rows (``models.housekeeping``) shortly after start and hourly."""
    task = asyncio.create_task(_housekeeping(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _tasks_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    tasks: set[asyncio.Future[Any]] = app[TASKS]
    pending = set(tasks)
    if pending:
        logger.info("waiting for %d message(s) still being handled", len(pending))
        await asyncio.wait(pending, timeout=10)


async def healthz(request: web.Request) -> web.Response:
    if await request.app[DB].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


def _freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()
    gc.enable()
    release_free_memory()


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``): start-up's
    passing work (compiling, migrating) leaves a few MB free but resident."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


def for_serving(app: web.Application, *, freeze_after: float = FREEZE_AFTER_SECONDS) -> web.Application:
    """Tune ``app`` for a long-running server process (``unionbot serve``).

    Once start-up is done, what it created (modules, tables, templates: ~120,000
    objects that live as long as the process) is excluded from garbage collection.
    A full collection would otherwise scan them all, stalling every request for
    ~70 ms each time it runs. Start-up creates many objects and few cycles, so
    ``unionbot serve`` does not collect while it starts; the one collection that
    clears start-up's garbage before the freeze (~80 ms) runs ``freeze_after``
    seconds after the resources are open, when the server already answers.
    """

    async def freeze_soon(app: web.Application) -> None:  # runs after the resources are open
        asyncio.get_running_loop().call_later(freeze_after, _freeze_startup_objects)

    app.on_startup.append(freeze_soon)
    return app


def _from_this_machine(request: web.Request) -> bool:
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
    return loopback and not any(name in request.headers for name in FORWARDED_HEADERS)


def metrics_allowed(request: web.Request) -> bool:
    """``[server] metrics_token`` set: the request must carry it as a bearer token.

    Without a token only a request made on this machine is served: a loopback peer
    and no proxy header (a reverse proxy on this machine connects from loopback too,
    but what it forwards comes from outside).
    """
    token = request.app[SETTINGS].server.metrics_token
    if token:
        return same(f"Bearer {token}", request.headers.get("Authorization", ""))
    return _from_this_machine(request)


async def metrics(request: web.Request) -> web.Response:
    if not metrics_allowed(request):
        return web.Response(status=403, text="forbidden")
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> web.Application:
    """Build the web application; resources open on start-up and close on clean-up.

    ``clock`` is the wall clock the channels read (timestamps checked and written) and
    the time the pipeline handles messages at.
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[body_in_time])
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    app[TROUBLE] = FloodLog(app[METRICS].trouble)
    app[REGISTRY] = build_registry()
    app[SENDERS] = {}
    app[TASKS] = set()
    app.cleanup_ctx.append(_http_ctx)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_outbox_ctx)
    app.cleanup_ctx.append(_housekeeping_ctx)
    app.cleanup_ctx.append(_tasks_ctx)
    if settings.scheduler.enabled:
        app.cleanup_ctx.append(scheduler_ctx)
    install_channels(app, settings)
    downloads.install(app)
    board.install(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
