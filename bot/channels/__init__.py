"""Channels: one module per platform, each turning its requests into ``Incoming``.

A platform module has ``install(app)``: it adds its endpoint to the app and puts its
outbox sender (if it can push) into ``app[SENDERS]``. Only enabled channels are
imported and installed.
"""

from __future__ import annotations

import importlib

from aiohttp import web

from bot.config import Settings

PLATFORMS = ("wechat_mp", "wecom", "onebot", "qq_official")


def install_channels(app: web.Application, settings: Settings) -> list[str]:
    """Install every enabled platform channel; returns their names."""
    installed = []
    for name in PLATFORMS:
        if getattr(settings, name).enabled:
            importlib.import_module(f"bot.channels.{name}").install(app)
            installed.append(name)
    return installed
