"""The application factory: ``create_app(settings)`` builds the whole web server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.appkeys import DB, METRICS, PIPELINE, REGISTRY, SETTINGS
from bot.config import Settings
from bot.errors import ConfigError
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models import migrate
from models.db import Database

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """Open the configured database; bring an SQLite file up to date by itself.

    A shared PostgreSQL database is migrated only by ``unionbot db upgrade``, so
    replicas never race each other over the schema.
    """
    db = Database(settings.database.url)
    try:
        if db.is_sqlite:
            await migrate.upgrade(db)
        else:
            state = await migrate.status(db)
            if not state["up_to_date"]:
                raise ConfigError(
                    f"数据库结构需要升级（当前 {state['current'] or '空库'}，需要 {state['head']}），"
                    "请先运行 unionbot db upgrade"
                )
        yield db
    finally:
        await db.dispose()


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_database(settings) as db:
        app[DB] = db
        app[PIPELINE] = Pipeline(
            db=db, settings=settings, registry=app[REGISTRY], metrics=app[METRICS]
        )
        logger.info("database ready (%s)", db.dialect)
        yield


async def healthz(request: web.Request) -> web.Response:
    if await request.app[DB].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


def create_app(settings: Settings) -> web.Application:
    """Build the web application; resources open on start-up and close on clean-up."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[REGISTRY] = build_registry()
    app.cleanup_ctx.append(_database_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app
