"""The scheduler inside ``unionbot serve``: one static APScheduler job runs what is due.

Every ``[scheduler] tick_seconds`` the job calls :func:`scheduler.jobs.run_due` for the
current time; everything data-driven is derived there from the database and the calendar.
The first run after start-up catches up what fell due during a downtime (within the grace
window) and logs once what is too old to send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from bot.appkeys import DB, SETTINGS
from bot.config import Settings
from models.base import utcnow
from models.db import Database
from scheduler.jobs import Memo, Outcome, report_missed, run_due
from scheduler.occasions import Source
from scheduler.sources import SOURCES

logger = logging.getLogger(__name__)

JOB_ID = "run-due"
STOP_TIMEOUT = 10.0
#: The first run waits this long, so the server answers before the scheduler plans.
FIRST_RUN_DELAY = 2.0


class SchedulerService:
    """Runs what is due on an ``AsyncIOScheduler`` until stopped."""

    def __init__(self, db: Database, settings: Settings, sources: Sequence[Source] = SOURCES) -> None:
        self.db = db
        self.settings = settings
        self.sources = sources
        self.memo = Memo()
        self._started_up = False
        self._running: asyncio.Task[object] | None = None
        self._scheduler = AsyncIOScheduler(timezone=UTC)

    def start(self, delay: float | None = None) -> None:
        """Start ticking in ``delay`` seconds (default ``FIRST_RUN_DELAY``), then every
        ``tick_seconds`` (a late tick is merged, never doubled)."""
        delay = FIRST_RUN_DELAY if delay is None else delay
        # APScheduler logs every run at INFO; a line a minute says nothing, this module logs the work.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler.add_job(
            self.tick, IntervalTrigger(seconds=self.settings.scheduler.tick_seconds, timezone=UTC),
            id=JOB_ID, next_run_time=datetime.now(UTC) + timedelta(seconds=delay), max_instances=1,
            coalesce=True, misfire_grace_time=None,
        )
        self._scheduler.start()
        logger.info("scheduler started (every %d s, grace %g h)", self.settings.scheduler.tick_seconds,
                    self.settings.scheduler.grace_hours)

    async def tick(self, at: datetime | None = None) -> list[Outcome]:
        """Run what is due at ``at`` (default: now); never raises."""
        at = at or utcnow()
        self._running = asyncio.current_task()
        try:
            if not self._started_up:
                self._started_up = True
                await report_missed(self.db, self.settings, at, sources=self.sources)
            return await run_due(self.db, self.settings, at, memo=self.memo, sources=self.sources)
        except Exception:
            logger.exception("scheduler run at %s failed; the next one retries", at.isoformat())
            return []
        finally:
            self._running = None

    async def stop(self) -> None:
        """Stop ticking; let a run in progress finish (up to ten seconds)."""
        self._scheduler.pause()
        running = self._running
        if running is not None and not running.done():
            _, pending = await asyncio.wait({running}, timeout=STOP_TIMEOUT)
            if pending:
                logger.warning("scheduler run still busy after %g s; cancelled", STOP_TIMEOUT)
        self._scheduler.shutdown(wait=False)
        logger.info("scheduler stopped")


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx`` entry: the scheduler runs while the server does."""
    service = SchedulerService(app[DB], app[SETTINGS])
    service.start()
    yield
    await service.stop()
