"""Typed keys of the aiohttp application's state."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.registry import Registry
from models.db import Database

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
REGISTRY = web.AppKey("registry", Registry)
DB = web.AppKey("db", Database)
PIPELINE = web.AppKey("pipeline", Pipeline)
