"""``unionbot outbox list|retry`` and ``unionbot broadcast``: the outbox from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import bindparam, func, insert, select
from sqlmodel import col

from bot.appkeys import HTTP, METRICS, SENDERS, SETTINGS
from bot.cli.common import add_argument, add_subverbs, add_verb, progress_bar, run_async
from bot.cli.i18n import number_of
from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.worker import OutboxWorker, Sender, listing, retry
from bot.render import say
from models.audit import AuditLog
from models.base import execute_core, table_of, utcnow
from models.db import Database
from models.org import Branch
from models.outbox import DEAD, RECALLED, SENT, STATUSES, UNKNOWN, OutboxMessage


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    outbox = add_verb(verbs, "outbox")
    outbox_verbs = add_subverbs(outbox, "outbox")
    show = add_verb(outbox_verbs, "outbox list", common)
    add_argument(show, "outbox list", "--status", choices=STATUSES)
    add_argument(show, "outbox list", "--limit", type=number_of(int, "--limit 20"), default=50)
    show.set_defaults(func=run_async(_list))
    again = add_verb(outbox_verbs, "outbox retry", common)
    add_argument(again, "outbox retry", "id", type=number_of(int, "12"))
    again.set_defaults(func=run_async(_retry))

    cast = add_verb(verbs, "broadcast", common)
    add_argument(cast, "broadcast", "text")
    add_argument(cast, "broadcast", "--branch")
    add_argument(cast, "broadcast", "--wait", type=number_of(float, "--wait 60"), default=120.0)
    add_argument(cast, "broadcast", "--again", action="store_true")
    cast.set_defaults(func=run_async(_broadcast))


async def _list(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    rows = await listing(db, status=args.status, limit=args.limit)
    if not rows:
        print(say("cli", "outbox_empty"))
        return 0
    tz = settings.union.tz
    for row in rows:
        when = row.sent_at if row.status == SENT and row.sent_at else row.next_attempt_at
        line = say(
            "cli", "outbox_row", status=row.status, target=f"{row.channel}:{row.target_kind}:{row.target}",
            attempts=row.attempts, when=f"{when.astimezone(tz):%m-%d %H:%M:%S}", key=row.key,
            error=row.last_error,
        )
        print(f"{row.id:>6}  {line}")
    return 0


async def _retry(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    result = await retry(db, args.id)
    if result is None:
        print(say("cli", "no_such_message", id=args.id), file=sys.stderr)
        return 1
    if result["after"] == RECALLED:
        print(say("cli", "retry_recalled", id=args.id, reason=result["reason"]))
        return 1
    if result["after"] != "queued":
        print(say("cli", "retry_needless", id=args.id, status=result["before"]))
        return 1
    print(say("cli", "retry_queued", id=args.id))
    return 0


@asynccontextmanager
async def senders_of(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """The outbox senders of every enabled channel, outside the web server."""
    from bot.channels import install_channels

    app = web.Application()
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[SENDERS] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        app[HTTP] = http
        install_channels(app, settings)
        yield app[SENDERS]


_BRANCH = select(Branch).where(col(Branch.name) == bindparam("name"))
_ROOT = select(Branch).where(col(Branch.parent_id).is_(None)).order_by(col(Branch.id))


async def _broadcast(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from bot.broadcast import MAX_BROADCAST_CHARS, broadcast_key, queue_broadcast
    text = args.text.strip()
    if not text or len(text) > MAX_BROADCAST_CHARS:
        print(say("cli", "broadcast_length", limit=MAX_BROADCAST_CHARS), file=sys.stderr)
        return 2
    today = utcnow().astimezone(settings.union.tz).date().isoformat()
    async with db.write() as session:
        branch = await session.scalar(_BRANCH if args.branch else _ROOT, {"name": args.branch})
        if branch is None or branch.id is None:
            print(say("cli", "no_branch", name=args.branch), file=sys.stderr)
            return 2
        key = broadcast_key("cli", str(branch.id), text, utcnow().isoformat() if args.again else today)
        result = await queue_broadcast(session, settings=settings, branch_id=branch.id, text=text, key=key)
        total = len(result.queued) + len(result.already)
        await execute_core(session, insert(table_of(AuditLog)), {
            "at": utcnow(), "actor_id": None, "actor": "cli", "action": "broadcast",
            "target": f"branch:{branch.id}",
            "after": json.dumps({"text": text, "queued": total}, ensure_ascii=False),
        })
    print(say("cli", "broadcast_queued", total=total, already=len(result.already)))
    if not total and not result.unreachable:
        print(say("cli", "no_groups"), file=sys.stderr)
        return 1
    if total:
        await _deliver(settings, db, key, total, args.wait, progress_bar(say("cli", "sending")))
    return await _report(db, key, result.unreachable)


_MINE = (
    select(col(OutboxMessage.status), func.count())
    .where(col(OutboxMessage.key).startswith(bindparam("prefix")))
    .group_by(col(OutboxMessage.status))
)


async def _deliver(settings: Settings, db: Database, key: str, total: int, wait: float,
                   progress: Any) -> None:
    async with senders_of(settings) as senders:
        worker = OutboxWorker(db=db, settings=settings, senders=senders)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            await worker.run_once()
            async with db.read() as session:
                counts = dict((await session.execute(_MINE, {"prefix": f"broadcast:{key}:"})).tuples().all())
            done = sum(counts.get(status, 0) for status in (SENT, DEAD, UNKNOWN, RECALLED))
            progress(done, total)
            if done >= total or loop.time() >= deadline:
                if done < total:
                    print("\n" + say("cli", "still_queued", count=total - done), file=sys.stderr)
                return
            await asyncio.sleep(min(settings.outbox.poll_seconds, 0.5))


async def _report(db: Database, key: str, unreachable: list[tuple[Any, str]]) -> int:
    async with db.read() as session:
        failed = list(await session.scalars(
            select(OutboxMessage)
            .where(col(OutboxMessage.key).startswith(f"broadcast:{key}:"))
            .where(col(OutboxMessage.status).in_((DEAD, UNKNOWN, RECALLED)))
            .order_by(col(OutboxMessage.id))
        ))
    if not failed and not unreachable:
        print(say("cli", "all_delivered"))
        return 0
    print(say("cli", "undelivered", count=len(failed) + len(unreachable)))
    for chat, reason in unreachable:
        name = chat.name or chat.chat_id
        print(say("cli", "unreachable_group", name=name, channel=chat.channel, reason=reason))
    for row in failed:
        print(say("cli", "failed_group", target=row.target, channel=row.channel, id=row.id,
                  error=row.last_error))
    return 1
