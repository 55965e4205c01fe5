"""发起活动 — an officer creates an event, in one message or step by step in private chat.

``发起活动 <名称> 时间 <…> 地点 <…> 名额 <n> [截止 <…>] [可带 <k>] [结束 <…>] [对象 <…>]
[填写 <…>] [备注 <…>]``. Missing items in a private chat start a guided dialog that asks
for them one by one; in a group the officer is told what is missing.

The new event is announced in the group chats of its audience through the outbox.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from bot import dialogs
from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.scope import require_reach
from bot.text import shown
from handlers.events.fields import (
    LABELS,
    REQUIRED,
    FieldError,
    is_none,
    own_branch,
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
from handlers.events.notify import tell_chats
from handlers.events.text import audience_what, example_day, refused, say_events, view
from models.base import utcnow
from models.events.admin import EventDraft, create_event, snapshot
from models.events.tables import EventRefusal

logger = logging.getLogger(__name__)

_UTC = ZoneInfo("UTC")
STEP_OF = {"title": "title", "time": "time", "end": "time", "place": "place", "capacity": "capacity"}


# ---------------------------------------------------------------- the guided dialog


def _step_time(text: str) -> str:
    """Check the form of a time now; whether it lies in the future is checked at the end."""
    parse_span(text, now=utcnow(), tz=_UTC, allow_past=True)
    return text.strip()


def _step_capacity(text: str) -> int:
    return parse_capacity(text)


def _step_extras(text: str) -> dict[str, str]:
    if is_none(text):
        return {}
    head, items = read_items(text)
    if head:
        raise UserError(say_events("unknown_words", text=shown(head), example="截止 下周五 18:00 可带 1"))
    return items


CREATE_DIALOG = dialogs.Dialog(
    name="event_create",
    steps=(
        dialogs.Step("title", ("events", "ask_title"), parse_title),
        dialogs.Step("time", ("events", "ask_time"), _step_time),
        dialogs.Step("place", ("events", "ask_place"), parse_place),
        dialogs.Step("capacity", ("events", "ask_capacity"), _step_capacity),
        dialogs.Step("extras", ("events", "ask_extras"), _step_extras),
    ),
    finish=lambda ctx, values: finish_dialog(ctx, values),
    command="发起活动",
)


async def finish_dialog(ctx: Context, values: dict[str, Any]) -> Reply:
    """Create the event from the answers; a bad answer is asked for again."""
    items = {key: str(values[key]) for key in REQUIRED}
    items.update(values.get("extras") or {})
    try:
        return await create(ctx, items)
    except FieldError as exc:
        return await ask_again(ctx, values, exc)


async def ask_again(ctx: Context, values: dict[str, Any], exc: FieldError) -> Reply:
    """Ask again for the item ``exc`` is about, keeping the other answers; a question
    about the item (上午还是下午？) takes a short answer."""
    step = STEP_OF.get(exc.key, "extras")
    kept = {key: value for key, value in values.items() if key != step}
    await dialogs.start(ctx, CREATE_DIALOG, kept, asked=exc)
    if exc.answers:
        return Reply(exc.message)
    question = next(s for s in CREATE_DIALOG.steps if s.key == step).ask()
    return Reply(f"{exc.message}\n{question}")


# ---------------------------------------------------------------- the command


async def create_command(ctx: Context, args: str) -> Reply | str:
    head, items = read_items(args)
    if head and "title" in items:
        example = say_events("create_example", day=example_day(ctx))
        raise UserError(say_events("unknown_words", text=shown(head), example=example))
    if head:
        items["title"] = head
    missing = [key for key in REQUIRED if key not in items]
    if ctx.is_group and missing:
        raise UserError(say_events("create_usage", missing=[LABELS[key] for key in missing],
                                   day=example_day(ctx)))
    if ctx.is_group:
        return await create(ctx, items)
    values, error = _prefilled(items)
    if not missing:  # a complete command is not asked for more
        values.setdefault("extras", {})
    if error is not None and error.answers:  # a question (上午还是下午？) is answered in the dialog
        return await ask_again(ctx, values, error)
    if not missing:
        return await _create_or_ask(ctx, items, values)
    if error is not None:
        raise error
    return await dialogs.start(ctx, CREATE_DIALOG, values)


async def _create_or_ask(ctx: Context, items: dict[str, str], values: dict[str, Any]) -> Reply:
    try:
        return await create(ctx, items)
    except FieldError as exc:
        if not exc.answers:
            raise
        return await ask_again(ctx, values, exc)


def _prefilled(items: dict[str, str]) -> tuple[dict[str, Any], FieldError | None]:
    """Dialog answers already given in the command (checked as the dialog would), and
    the first that cannot be used."""
    values: dict[str, Any] = {}
    first_error: FieldError | None = None
    for key, parse in _STEP_PARSERS.items():
        if key in items:
            try:
                values[key] = parse(items[key])
            except FieldError as exc:
                first_error = first_error or exc
    extras = {key: value for key, value in items.items() if key not in REQUIRED}
    if extras:
        values["extras"] = extras
    return values, first_error


_STEP_PARSERS = {"title": parse_title, "time": _step_time, "place": parse_place,
                 "capacity": _step_capacity}


async def draft_from(ctx: Context, items: dict[str, str]) -> EventDraft:
    """Every item checked against the configuration and the clock."""
    config = ctx.settings.events
    starts_at, ends_at = parse_span(items["time"], now=ctx.now, tz=ctx.tz)
    if "end" in items:
        ends_at = None if is_none(items["end"]) else parse_end(
            items["end"], starts_at, now=ctx.now, tz=ctx.tz
        )
    if "audience" in items:
        branch_id, gender = await parse_audience(ctx, items["audience"])
        await require_reach(ctx, branch_id, what=audience_what(items["audience"]))
    else:
        branch_id, gender = await own_branch(ctx), None
    return EventDraft(
        title=parse_title(items["title"], config.title_max_chars),
        place=parse_place(items["place"]),
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=parse_capacity(str(items["capacity"]), config.max_capacity),
        deadline=parse_deadline(items["deadline"], now=ctx.now, tz=ctx.tz) if "deadline" in items else None,
        max_guests=parse_max_guests(items["guests"], config.max_guests) if "guests" in items else 0,
        audience_branch_id=branch_id,
        audience_gender=gender,
        note=parse_note(items["note"]) if "note" in items else None,
        fields=tuple(parse_fields(items["fields"])) if "fields" in items else (),
    )


_REFUSAL_ITEM = {
    "start_in_past": "time", "end_before_start": "time",
    "deadline_after_start": "extras", "deadline_in_past": "extras",
}  # fmt: skip


async def create(ctx: Context, items: dict[str, str]) -> Reply:
    """Store the event, announce it to its audience's chats, answer the officer."""
    assert ctx.member is not None
    draft = await draft_from(ctx, items)
    try:
        event = await create_event(ctx.session, draft=draft, created_by=ctx.member.id, now=ctx.now)
    except EventRefusal as exc:
        error = refused(ctx, exc)
        raise FieldError(_REFUSAL_ITEM.get(exc.reason, "extras"), error.message) from None
    await ctx.audit("event.create", f"event:{event.code}", after=snapshot(event))
    shown = await view(ctx, event)
    report = await tell_chats(
        ctx, event, what="announce", text=say_events("announcement", v=shown)
    )
    logger.info("event %s created by member %s", event.code, ctx.member.id)
    return Reply(say_events("created", v=shown, report=report))
