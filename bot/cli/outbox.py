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
from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.worker import OutboxWorker, Sender, listing, retry
from models.audit import AuditLog
from models.base import execute_core, table_of, utcnow
from models.db import Database
from models.org import Branch
from models.outbox import DEAD, RECALLED, SENT, STATUSES, UNKNOWN, OutboxMessage

STATUS_LABELS = {"queued": "排队", "sending": "发送中", "sent": "已发送", "dead": "失败",
                 "unknown": "结果未知", "recalled": "已撤销"}


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    from bot.cli.common import run_async
    from bot.cli.i18n import number_of

    outbox = verbs.add_parser("outbox", help="发件箱：排队、已发送、失败、已撤销的消息")
    outbox_verbs = outbox.add_subparsers(dest="outbox_verb", required=True, metavar="子命令")
    show = outbox_verbs.add_parser("list", parents=[common], help="列出最近的消息")
    show.add_argument("--status", choices=STATUSES, metavar="状态",
                      help="只看某种状态（dead = 失败，recalled = 已撤销）")
    show.add_argument("--limit", type=number_of(int, "--limit 20"), default=50, metavar="条数",
                      help="最多列出几条（默认 50）")
    show.set_defaults(func=run_async(_list))
    again = outbox_verbs.add_parser("retry", parents=[common], help="把失败或结果未知的消息重新排队")
    again.add_argument("id", type=number_of(int, "12"), metavar="编号", help="消息编号（outbox list 第一列）")
    again.set_defaults(func=run_async(_retry))

    cast = verbs.add_parser("broadcast", parents=[common], help="把一条通知发到各群（显示进度和失败清单）")
    cast.add_argument("text", metavar="内容", help="通知内容")
    cast.add_argument("--branch", metavar="分工会", help="只发到这个分工会的群（默认：全校所有群）")
    cast.add_argument("--wait", type=number_of(float, "--wait 60"), default=120.0, metavar="秒",
                      help="最多等待送达多少秒，之后剩下的交给服务继续发送（默认 120）")
    cast.add_argument("--again", action="store_true",
                      help="今天已经发过同样内容时仍再发一次（默认同一天同样的内容只发一次）")
    cast.set_defaults(func=run_async(_broadcast))


async def _list(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    rows = await listing(db, status=args.status, limit=args.limit)
    if not rows:
        print("发件箱里没有消息。")
        return 0
    tz = settings.union.tz
    for row in rows:
        when = row.sent_at if row.status == SENT and row.sent_at else row.next_attempt_at
        print(f"{row.id:>6}  {STATUS_LABELS.get(row.status, row.status):<4}  "
              f"{row.channel}:{row.target_kind}:{row.target}  第{row.attempts}次  "
              f"{when.astimezone(tz):%m-%d %H:%M:%S}  {row.key}"
              + (f"\n        {row.last_error}" if row.last_error else ""))
    return 0


async def _retry(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    result = await retry(db, args.id)
    if result is None:
        print(f"没有编号为 {args.id} 的消息。", file=sys.stderr)
        return 1
    if result["after"] == RECALLED:
        print(f"消息 {args.id} 已撤销，不能重发：{result['reason'] or '内容已经过时'}。")
        return 1
    if result["after"] != "queued":
        print(f"消息 {args.id} 的状态是「{STATUS_LABELS[result['before']]}」，不需要重发。")
        return 1
    print(f"消息 {args.id} 已重新排队，服务运行时会在一秒内发送。")
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
    from bot.cli.common import progress_bar

    text = args.text.strip()
    if not text or len(text) > MAX_BROADCAST_CHARS:
        print(f"通知内容不能为空，也不能超过 {MAX_BROADCAST_CHARS} 个字。", file=sys.stderr)
        return 2
    today = utcnow().astimezone(settings.union.tz).date().isoformat()
    async with db.write() as session:
        branch = await session.scalar(_BRANCH if args.branch else _ROOT, {"name": args.branch})
        if branch is None or branch.id is None:
            print(f"没有找到分工会「{args.branch}」。" if args.branch else
                  "还没有导入名册：请先运行 unionbot members import。", file=sys.stderr)
            return 2
        key = broadcast_key("cli", str(branch.id), text, utcnow().isoformat() if args.again else today)
        result = await queue_broadcast(session, settings=settings, branch_id=branch.id, text=text, key=key)
        total = len(result.queued) + len(result.already)
        await execute_core(session, insert(table_of(AuditLog)), {
            "at": utcnow(), "actor_id": None, "actor": "cli", "action": "broadcast",
            "target": f"branch:{branch.id}",
            "after": json.dumps({"text": text, "queued": total}, ensure_ascii=False),
        })
    print(f"已排队 {total} 个群" + (f"（其中 {len(result.already)} 个今天已发过同样内容，不再重复）"
                                    if result.already else "") + "。")
    if not total and not result.unreachable:
        print("还没有可以广播的群：先让机器人进群并在群里发「本群归属 分工会名称」，"
              "或在配置文件的 [wecom.robots] 里添加企业微信群机器人。", file=sys.stderr)
        return 1
    if total:
        await _deliver(settings, db, key, total, args.wait, progress_bar("发送"))
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
                    print(f"\n还有 {total - done} 条在排队（等待重试或限速），服务运行时会继续发送；"
                          "用 unionbot outbox list 查看。", file=sys.stderr)
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
        print("全部送达。")
        return 0
    print(f"以下 {len(failed) + len(unreachable)} 个群没有送达：")
    for chat, reason in unreachable:
        print(f"· {chat.name or chat.chat_id}（{chat.channel}）：{reason}")
    for row in failed:
        print(f"· {row.target}（{row.channel}，消息 {row.id}）：{row.last_error}")
    return 1
