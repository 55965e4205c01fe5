"""``unionbot scheduler plan|run-due``: what the calendar will send, and sending what is due."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.cli.common import add_argument, add_subverbs, add_verb, in_background, run_async
from bot.config import Settings
from bot.render import say
from models.base import utcnow
from models.db import Database

if TYPE_CHECKING:
    from scheduler.occasions import Delivery
    from scheduler.planner import Planned

SHOWN = 5  # people named per line; the rest are counted
MAX_DAYS = 3660
INDENT = "    "  # the lines under an occasion


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    scheduler = add_verb(verbs, "scheduler")
    scheduler_verbs = add_subverbs(scheduler, "scheduler")
    show = add_verb(scheduler_verbs, "scheduler plan", common)
    add_argument(show, "scheduler plan", "--days", type=_days, default=30)
    add_argument(show, "scheduler plan", "--missed", action="store_true")
    add_argument(show, "scheduler plan", "--at", type=str)
    show.set_defaults(func=run_async(_plan))
    due = add_verb(scheduler_verbs, "scheduler run-due", common)
    add_argument(due, "scheduler run-due", "--at", type=str)
    due.set_defaults(func=run_async(_run_due))


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(say("cli", "bad_days", limit=MAX_DAYS))
    return int(text)


def parse_at(text: str | None, tz: ZoneInfo) -> datetime:
    """``--at``: an ISO time; without an offset it is the union's local time. ValueError if unreadable."""
    if text is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(say("cli", "bad_time", text=text, tz=tz.key)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


def _names(deliveries: list[Delivery], *, all_of_them: bool = False) -> str:
    shown = deliveries if all_of_them else deliveries[:SHOWN]
    return say("cli", "names", labels=[d.label for d in shown], total=len(deliveries))


def describe(item: Planned) -> list[str]:
    """The lines under an occasion: who gets it, who cannot be reached and why."""
    lines = []
    chats = [d for d in item.reachable if d.group]
    people = [d for d in item.reachable if not d.group]
    if chats:
        names = _names(chats, all_of_them=True)
        lines.append(INDENT + say("cli", "to_groups", count=len(chats), names=names))
    if people:
        lines.append(INDENT + say("cli", "to_people", count=len(people), names=_names(people)))
    blocked = [d for d in item.unreachable if not d.nobody]
    lines.extend(INDENT + say("cli", "nobody", problem=d.problem) for d in item.unreachable if d.nobody)
    if blocked:
        reasons: dict[str | None, list[Delivery]] = {}
        for delivery in blocked:
            reasons.setdefault(delivery.problem or None, []).append(delivery)
        for reason, group in reasons.items():
            names = _names(group, all_of_them=group[0].group)
            lines.append(INDENT + say("cli", "blocked", count=len(group), names=names))
            lines.append(INDENT + "  " + say("cli", "blocked_reason", reason=reason))
    return lines


def _status(item: Planned, now: datetime) -> str:
    if item.started:
        return say("cli", "started")
    if item.occasion.due_at <= now and item.reachable:
        return say("cli", "overdue")
    return ""


async def _plan(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from scheduler.occasions import World
    from scheduler.planner import missed, plan

    in_background()
    tz = settings.union.tz
    try:
        now = parse_at(args.at, tz)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    grace = timedelta(hours=settings.scheduler.grace_hours)
    # A read session: the plan only reads, so it holds no write lock while it works out
    # a year of occasions (the server goes on writing meanwhile).
    async with db.read() as session:
        world = World(session, settings, now)
        if args.missed:
            items = await missed(world, args.days)
        else:
            items = await plan(world, now - grace, now + timedelta(days=args.days))
    if args.missed:
        if not items:
            print(say("cli", "nothing_missed", days=args.days))
            return 0
        print(say("cli", "missed_heading", count=len(items), grace=settings.scheduler.grace_hours))
    elif not items:
        print(say("cli", "nothing_planned", now=_local(now, tz), days=args.days, tz=tz.key))
        return 0
    else:
        print(say("cli", "plan_heading", now=_local(now, tz), days=args.days, tz=tz.key,
                  grace=settings.scheduler.grace_hours))
    for item in items:
        status = "" if args.missed else _status(item, now)
        print(say("cli", "planned", due=_local(item.occasion.due_at, tz), title=item.occasion.title,
                  status=status))
        for line in describe(item):
            print(line)
    print(say("cli", "plan_total", count=len(items)))
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
        print(say("cli", "nothing_due", at=_local(at, tz), tz=tz.key))
    failed = 0
    for outcome in outcomes:
        occasion = outcome.occasion
        if outcome.error:
            failed += 1
            print(say("cli", "run_failed", due=_local(occasion.due_at, tz), title=occasion.title,
                      error=outcome.error))
            continue
        print(say("cli", "run_done", due=_local(occasion.due_at, tz), title=occasion.title,
                  queued=outcome.queued, already=outcome.already, unreachable=len(outcome.unreachable)))
        for delivery in outcome.unreachable[:SHOWN]:
            print(INDENT + say("cli", "run_unreachable", label=delivery.label, problem=delivery.problem))
    if any(outcome.queued for outcome in outcomes):
        print(say("cli", "sent_by_service"))
    async with db.read() as session:
        skipped = await missed(World(session, settings, at), MISSED_LOOKBACK_DAYS)
    if skipped:
        hours = settings.scheduler.grace_hours
        print(say("cli", "skipped", count=len(skipped), grace=hours), file=sys.stderr)
    return 1 if failed else 0
