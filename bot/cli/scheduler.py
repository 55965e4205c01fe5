"""``unionbot scheduler plan|run-due``: what the calendar will send, and sending what is due."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from models.base import utcnow
from models.db import Database

if TYPE_CHECKING:
    from scheduler.occasions import Delivery
    from scheduler.planner import Planned

SHOWN = 5  # people named per line; the rest are counted
MAX_DAYS = 3660


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    from bot.cli.common import run_async

    scheduler = verbs.add_parser("scheduler", help="定时任务：节日慰问、生日名单、活动和提案提醒")
    scheduler_verbs = scheduler.add_subparsers(dest="scheduler_verb", required=True, metavar="子命令")
    show = scheduler_verbs.add_parser("plan", parents=[common], help="列出将要发送的内容、时间和对象")
    show.add_argument("--days", type=_days, default=30, metavar="天数", help="看今后多少天（默认 30）")
    show.add_argument("--missed", action="store_true",
                      help="改为列出最近若干天（--days）里超过补发时限、没有发出的内容")
    show.add_argument("--at", type=str, metavar="时间",
                      help="假定现在是这个时间，例如 2027-06-06T09:00（默认：现在）")
    show.set_defaults(func=run_async(_plan))
    due = scheduler_verbs.add_parser("run-due", parents=[common],
                                     help="把此刻到期的内容放进发件箱（重复运行不会重复发送）")
    due.add_argument("--at", type=str, metavar="时间",
                     help="按这个时间运行，例如 2027-06-06T09:00（默认：现在）")
    due.set_defaults(func=run_async(_run_due))


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"天数应是 1 到 {MAX_DAYS} 之间的整数，例如 --days 30")
    return int(text)


def parse_at(text: str | None, tz: ZoneInfo) -> datetime:
    """``--at``: an ISO time; without an offset it is the union's local time. ValueError if unreadable."""
    if text is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"看不懂时间“{text}”。请写成 2027-06-06T09:00 这样（按 {tz.key} 时间），"
            "或带上时区，例如 2027-06-06T01:00+00:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


def _names(deliveries: list[Delivery], *, all_of_them: bool = False) -> str:
    shown = deliveries if all_of_them else deliveries[:SHOWN]
    text = "、".join(d.label for d in shown)
    return text + (f" 等 {len(deliveries)} 个" if len(shown) < len(deliveries) else "")


def describe(item: Planned) -> list[str]:
    """The lines under an occasion: who gets it, who cannot be reached and why."""
    lines = []
    chats = [d for d in item.reachable if d.group]
    people = [d for d in item.reachable if not d.group]
    if chats:
        lines.append(f"    发到 {len(chats)} 个群：{_names(chats, all_of_them=True)}")
    if people:
        lines.append(f"    私信 {len(people)} 人：{_names(people)}")
    blocked = [d for d in item.unreachable if not d.nobody]
    lines.extend(f"    发不出去：{d.problem}" for d in item.unreachable if d.nobody)
    if blocked:
        reasons: dict[str, list[Delivery]] = {}
        for delivery in blocked:
            reasons.setdefault(delivery.problem or "无法送达", []).append(delivery)
        for reason, group in reasons.items():
            lines.append(f"    无法送达 {len(group)} 个：{_names(group, all_of_them=group[0].group)}")
            lines.append(f"      原因：{reason}")
    return lines


def _status(item: Planned, now: datetime) -> str:
    if item.started:
        return "  [已放入发件箱]"
    if item.occasion.due_at <= now and item.reachable:
        return "  [待补发]"
    return ""


async def _plan(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from scheduler.occasions import World
    from scheduler.planner import missed, plan

    tz = settings.union.tz
    try:
        now = parse_at(args.at, tz)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    grace = timedelta(hours=settings.scheduler.grace_hours)
    async with db.write() as session:
        world = World(session, settings, now)
        if args.missed:
            items = await missed(world, args.days)
        else:
            items = await plan(world, now - grace, now + timedelta(days=args.days))
    if args.missed:
        if not items:
            print(f"最近 {args.days} 天没有错过的发送。")
            return 0
        print(f"以下 {len(items)} 项的发送时间已过去超过 {settings.scheduler.grace_hours:g} 小时"
              f"（补发时限），没有发出，也不会再自动补发：")
    elif not items:
        print(f"从 {_local(now, tz)} 起 {args.days} 天内没有要发送的内容（时区 {tz.key}）。")
        return 0
    else:
        print(f"从 {_local(now, tz)} 起 {args.days} 天内要发送的内容（时区 {tz.key}），"
              f"连同此前 {settings.scheduler.grace_hours:g} 小时内到期的：")
    for item in items:
        status = "" if args.missed else _status(item, now)
        print(f"{_local(item.occasion.due_at, tz)}  {item.occasion.title}{status}")
        for line in describe(item):
            print(line)
    print(f"共 {len(items)} 项。")
    return 0


async def _run_due(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from scheduler.jobs import MISSED_LOOKBACK_DAYS, run_due
    from scheduler.occasions import World
    from scheduler.planner import missed

    tz = settings.union.tz
    try:
        at = parse_at(args.at, tz)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    outcomes = await run_due(db, settings, at)
    if not outcomes:
        print(f"{_local(at, tz)}（{tz.key}）没有到期要发送的内容。")
    failed = 0
    for outcome in outcomes:
        occasion = outcome.occasion
        if outcome.error:
            failed += 1
            print(f"{_local(occasion.due_at, tz)}  {occasion.title}：出错，没有发送（{outcome.error}）")
            continue
        blocked = f"，无法送达 {len(outcome.unreachable)} 个" if outcome.unreachable else ""
        print(f"{_local(occasion.due_at, tz)}  {occasion.title}：新放入发件箱 {outcome.queued} 条，"
              f"之前已放入 {outcome.already} 条{blocked}")
        for delivery in outcome.unreachable[:SHOWN]:
            print(f"    · {delivery.label}：{delivery.problem}")
    if any(outcome.queued for outcome in outcomes):
        print("消息由运行中的服务（unionbot serve）从发件箱发出，可用 unionbot outbox list 查看。")
    async with db.write() as session:
        skipped = await missed(World(session, settings, at), MISSED_LOOKBACK_DAYS)
    if skipped:
        hours = settings.scheduler.grace_hours
        print(f"另有 {len(skipped)} 项的发送时间已过去超过 {hours:g} 小时，不再补发；"
              "用 unionbot scheduler plan --missed 查看。", file=sys.stderr)
    return 1 if failed else 0
