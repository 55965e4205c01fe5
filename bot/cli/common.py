"""What the verbs share: their words, reading the configuration, logging, a progress bar,
a verb that opens the database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.config import Settings, load_settings
from bot.render import say, table


def words_of(verb: str) -> dict[str, Any]:
    """The help of ``verb`` ("members import") and of its arguments, from
    ``templates/notices/cli_parser.txt.j2``."""
    words: dict[str, Any] = table("cli_parser", "verbs")[verb]
    return words


def add_verb(verbs: Any, verb: str, common: argparse.ArgumentParser | None = None) -> Any:
    """The parser of ``verb`` under ``verbs``, named by the last word, with its help."""
    parents = [common] if common is not None else []
    return verbs.add_parser(verb.split()[-1], parents=parents, help=words_of(verb)["help"])


def add_subverbs(parser: argparse.ArgumentParser, verb: str) -> Any:
    """The sub-commands of ``verb`` ("members" → "members import", …)."""
    metavar = words_of("unionbot")["subverbs"]
    return parser.add_subparsers(dest=f"{verb}_verb", required=True, metavar=metavar)


def add_argument(parser: argparse.ArgumentParser, verb: str, *flags: str, **options: Any) -> None:
    """An argument of ``verb`` with its metavar and help from the words of the verb."""
    parser.add_argument(*flags, **words_of(verb)[flags[0]], **options)


def export_failed(reason: str, /, **values: Any) -> int:
    """Say on stderr why an export failed (``reason`` is a macro of ``notices/cli``); exit 2."""
    print(say("cli", "export_failed", reason=say("cli", reason, **values)), file=sys.stderr)
    return 2


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


BACKGROUND_NICENESS = 10  # how far a long verb steps back for the server on the same machine


def in_background() -> None:
    """Lower this process's CPU priority: a long verb (a roster import, a year's plan) run
    beside ``unionbot serve`` on a small machine then takes the cores the webhooks leave."""
    try:
        os.nice(BACKGROUND_NICENESS)
    except OSError:  # not allowed here; run at the usual priority
        logging.getLogger(__name__).debug("cannot lower the priority", exc_info=True)


def run_quiet(
    work: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace], int]:
    """A verb that reads the configuration, logs only warnings and runs ``await work(settings, args)``."""

    def verb(args: argparse.Namespace) -> int:
        settings = settings_of(args)
        setup_logging(settings, quiet=True)
        return asyncio.run(work(settings, args))

    return verb


def run_async(
    work: Callable[[Settings, Any, argparse.Namespace], Coroutine[Any, Any, int]],
) -> Callable[[argparse.Namespace], int]:
    """A verb that opens the database and runs ``await work(settings, db, args)``."""

    async def with_database(settings: Settings, args: argparse.Namespace) -> int:
        from bot.app import open_database

        async with open_database(settings) as db:
            return await work(settings, db, args)

    return run_quiet(with_database)
