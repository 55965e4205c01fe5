"""修改活动 and 取消活动 — an officer changes or calls off an event.

Changing the time or place tells everyone signed up (privately) and the audience's
group chats; raising the capacity promotes from the waitlist; calling the event off
tells everyone signed up and the chats. What the outbox still holds and no longer holds
true is recalled in the same transaction: a move takes back the reminders of the old
time, a cancellation every message of the event queued before its cancellation notices.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.context import Context
from bot.errors import UserError
from bot.notify import Notified, member_names
from bot.scope import require_reach
from bot.text import shown as echo
from handlers.events.fields import (
    is_none,
    parse_audience,
    parse_capacity,
    parse_deadline,
    parse_end,
    parse_fields,
    parse_max_guests,
    parse_note,
    parse_place,
    parse_span,
    parse_title,
    read_items,
)
from handlers.events.notify import ChatReport, recall_outdated, tell_chats, tell_members, tell_promoted
from handlers.events.text import (
    EventView,
    audience_what,
    clean,
    example_code,
    example_day,
    find_managed,
    refused,
    say_events,
    span,
    split_code,
    timing,
    view,
)
from models.events.admin import Modification, cancel_event, modify_event
from models.events.queries import cancelled_by, participants
from models.events.tables import Event, EventRefusal

logger = logging.getLogger(__name__)

CHANGE_LABELS = {
    "title": "名称", "starts_at": "时间", "ends_at": "结束时间", "place": "地点",
    "capacity": "名额", "deadline": "报名截止", "max_guests": "可带家属",
    "audience_branch_id": "对象", "audience_gender": "对象", "note": "备注", "fields": "填写项目",
}  # fmt: skip
REASON_MAX = 200


async def _changes(ctx: Context, event: Event, items: dict[str, str]) -> dict[str, Any]:
    """The new values of the items given; a new start moves a set end along with it."""
    config = ctx.settings.events
    changes: dict[str, Any] = {}
    if "title" in items:
        changes["title"] = parse_title(items["title"], config.title_max_chars)
    if "time" in items:
        start, end = parse_span(items["time"], now=ctx.now, tz=ctx.tz)
        changes["starts_at"] = start
        if end is not None:
            changes["ends_at"] = end
        elif event.ends_at is not None:
            changes["ends_at"] = event.ends_at + (start - event.starts_at)
    if "end" in items:
        start = changes.get("starts_at", event.starts_at)
        changes["ends_at"] = None if is_none(items["end"]) else parse_end(
            items["end"], start, now=ctx.now, tz=ctx.tz
        )
    if "place" in items:
        changes["place"] = parse_place(items["place"])
    if "capacity" in items:
        changes["capacity"] = parse_capacity(items["capacity"], config.max_capacity)
    if "deadline" in items:
        changes["deadline"] = parse_deadline(items["deadline"], now=ctx.now, tz=ctx.tz)
    if "guests" in items:
        changes["max_guests"] = parse_max_guests(items["guests"], config.max_guests)
    if "audience" in items:
        changes["audience_branch_id"], changes["audience_gender"] = await parse_audience(
            ctx, items["audience"]
        )
    if "note" in items:
        changes["note"] = parse_note(items["note"])
    if "fields" in items:
        changes["fields"] = parse_fields(items["fields"])
    return changes


async def _modify_items(ctx: Context, args: str) -> tuple[str, dict[str, str]]:
    """``A3 名额 40 …`` → the code and the items; the usage, with the event at hand, when
    either is missing."""
    code, rest = split_code(args)
    example = await example_code(ctx, code, managed=True)
    if code is None:
        raise UserError(say_events("modify_usage", code=example, day=example_day(ctx)))
    head, items = read_items(rest)
    if head:
        raise UserError(say_events("unknown_words", text=echo(head), example=f"修改活动 {example} 名额 40"))
    if not items:
        raise UserError(say_events("modify_usage", code=example, day=example_day(ctx)))
    return code, items


async def modify_command(ctx: Context, args: str) -> str:
    code, items = await _modify_items(ctx, args)
    event = await find_managed(ctx, code, lock=True)
    changes = await _changes(ctx, event, items)
    if "audience" in items:
        await require_reach(ctx, changes["audience_branch_id"], what=audience_what(items["audience"]))
    try:
        result = await modify_event(
            ctx.session, event=event, changes=changes, now=ctx.now, tz=ctx.tz, timing=timing(ctx)
        )
    except EventRefusal as exc:
        raise await _refused_change(ctx, event, exc, "modify") from None
    if not result.changed:
        return say_events("nothing_changed", code=event.code)
    await ctx.audit("event.modify", f"event:{event.code}", before=result.before, after=result.after)
    assert event.id is not None
    if result.moved:  # the old time's reminders waiting in the outbox would now mislead
        recalled = await recall_outdated(ctx.session, event.code, moved_from=result.before["starts_at"])
        logger.info("event %s moved; %d queued reminder(s) of the old time recalled", event.code, recalled)
    shown = await view(ctx, event)
    told, report = await _tell_moved(ctx, event, shown, result)
    promoted = await tell_promoted(ctx, event, result.promoted, {
        p.member_id: say_events("promoted_notice", v=shown, place=p.place, guests=p.guests)
        for p in result.promoted
    })
    labels = list(dict.fromkeys(CHANGE_LABELS[name] for name in result.changed))
    names = await member_names(ctx.session, (p.member_id for p in result.promoted))
    moved_told = len(told.reached)
    told += promoted
    return say_events(
        "modified", v=shown, changes=labels, told=moved_told, report=report,
        promoted=[names[p.member_id] for p in result.promoted], unreachable=told.unreached,
    )


async def _refused_change(ctx: Context, event: Event, exc: EventRefusal, action: str) -> UserError:
    """An officer's change refused; a cancelled event is named with who called it off."""
    if exc.reason == "event_cancelled":
        return refused(ctx, exc, action=action, by=await cancelled_by(ctx.session, event.code))
    return refused(ctx, exc, action=action)


async def _tell_moved(
    ctx: Context, event: Event, shown: EventView, result: Modification
) -> tuple[Notified, ChatReport]:
    """Tell everyone signed up and the chats of a new time or place."""
    if not result.moved:
        return Notified(), ChatReport()
    assert event.id is not None
    before_start: datetime = result.before["starts_at"]
    values = {
        "v": shown, "before_time": span(ctx, before_start, result.before["ends_at"]),
        "before_place": result.before["place"],
        "time_changed": "starts_at" in result.changed or "ends_at" in result.changed,
        "place_changed": "place" in result.changed,
    }
    told = await tell_members(
        ctx, [person.member_id for person in await participants(ctx.session, event.id)],
        key=lambda member_id: f"event:{event.code}:changed:{event.revision}:member:{member_id}",
        text=say_events("changed_notice", **values),
    )
    report = await tell_chats(
        ctx, event, what=f"changed:{event.revision}",
        text=say_events("changed_announcement", **values),
    )
    return told, report


async def cancel_command(ctx: Context, args: str) -> str:
    code, rest = split_code(args)
    if code is None:
        raise UserError(say_events("cancel_usage", code=await example_code(ctx, managed=True)))
    reason = clean(rest) or None
    if reason is not None and len(reason) > REASON_MAX:
        example = await example_code(ctx, code, managed=True)
        raise UserError(say_events("cancel_reason_too_long", limit=REASON_MAX, code=example))
    event = await find_managed(ctx, code, lock=True)
    assert event.id is not None
    before = event.status
    try:
        people = await cancel_event(
            ctx.session, event=event, reason=reason, now=ctx.now, tz=ctx.tz, timing=timing(ctx)
        )
    except EventRefusal as exc:
        raise await _refused_change(ctx, event, exc, "cancel") from None
    recalled = await recall_outdated(ctx.session, event.code)
    await ctx.audit(
        "event.cancel", f"event:{event.code}", before={"status": before},
        after={"status": event.status, "reason": reason, "signed_up": len(people)},
    )
    shown = await view(ctx, event)
    told = await tell_members(
        ctx, [person.member_id for person in people],
        key=lambda member_id: f"event:{event.code}:cancelled:member:{member_id}",
        text=say_events("cancelled_notice", v=shown, reason=reason),
    )
    report = await tell_chats(
        ctx, event, what="cancelled", text=say_events("cancelled_announcement", v=shown, reason=reason)
    )
    logger.info("event %s cancelled; %d signed up, %d queued message(s) recalled",
                event.code, len(people), recalled)
    return say_events(
        "event_cancelled_ok", v=shown, reason=reason, total=len(people),
        told=len(told.reached), report=report, unreachable=told.unreached,
    )
