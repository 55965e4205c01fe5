"""Typed keys of the aiohttp application's state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.worker import OutboxWorker, Sender
from bot.pipeline import Pipeline
from bot.registry import Registry
from models.db import Database

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
REGISTRY = web.AppKey("registry", Registry)
DB = web.AppKey("db", Database)
PIPELINE = web.AppKey("pipeline", Pipeline)
HTTP = web.AppKey("http", aiohttp.ClientSession)  # outbound calls to the platforms
SENDERS = web.AppKey("senders", dict[str, Sender])  # channel name → its outbox sender
OUTBOX = web.AppKey("outbox", OutboxWorker)
TASKS = web.AppKey("tasks", set[asyncio.Future[Any]])  # work still running after a reply
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")  # wall-clock seconds (time.time)
