"""``unionbot serve`` and ``unionbot chat``: the server, and talking to the bot in a terminal."""

from __future__ import annotations

import argparse
import asyncio
import gc
from typing import Any

from bot.cli.common import add_argument, add_verb, run_quiet, settings_of, setup_logging
from bot.config import Settings


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    serve = add_verb(verbs, "serve", common)
    serve.set_defaults(func=cmd_serve)
    chat = add_verb(verbs, "chat", common)
    add_argument(chat, "chat", "--as", dest="user", required=True)
    add_argument(chat, "chat", "--group")
    chat.set_defaults(func=run_quiet(_chat))


def cmd_serve(args: argparse.Namespace) -> int:
    gc.disable()  # until the server has started (see bot.app.for_serving)
    from bot.app import create_app, for_serving
    from bot.server import serve_until_stopped

    settings = settings_of(args)
    setup_logging(settings)
    asyncio.run(serve_until_stopped(for_serving(create_app(settings)), settings))
    return 0


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_database
    from bot.channels.console import run_console
    from bot.metrics import Metrics
    from bot.pipeline import Pipeline
    from handlers import build_registry

    async with open_database(settings) as db:
        pipeline = Pipeline(
            db=db, settings=settings, registry=build_registry(), metrics=Metrics()
        )
        await run_console(pipeline=pipeline, settings=settings, user=args.user, group=args.group)
    return 0
