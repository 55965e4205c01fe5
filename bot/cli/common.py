"""What the verbs share: reading the configuration, logging, a progress bar, a verb that
opens the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from bot.config import Settings, load_settings


def settings_of(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    level = "WARNING" if quiet else settings.server.log_level
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def progress_bar(label: str, stream: Any = None) -> Callable[[int, int], None]:
    """A one-line progress bar on ``stream`` (default: stderr at the time it is shown):
    ``label [#####     ] 512/1000``."""

    def show(done: int, total: int) -> None:
        out = stream if stream is not None else sys.stderr
        width = 30
        filled = width * done // total if total else width
        end = "\n" if done >= total else ""
        out.write(f"\r{label} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}{end}")
        out.flush()

    return show


def run_async(
    work: Callable[[Settings, Any, argparse.Namespace], Any],
) -> Callable[[argparse.Namespace], int]:
    """A verb that opens the database and runs ``await work(settings, db, args)``."""

    def verb(args: argparse.Namespace) -> int:
        settings = settings_of(args)
        setup_logging(settings, quiet=True)

        async def run() -> int:
            from bot.app import open_database

            async with open_database(settings) as db:
                result: int = await work(settings, db, args)
                return result

        return asyncio.run(run())

    return verb
