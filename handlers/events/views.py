"""Looking at events: 活动, 活动 <编号>, 名单, 导出 and 活动统计.

``活动`` lists what the member may join — the audience rule ``admits`` that 报名 applies;
officers add ``全部`` to see also every event they manage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.scope import may_manage, reach
from bot.text import shown as echo
from handlers.events.text import (
    EventView,
    clean,
    example_code,
    find_event,
    find_managed,
    not_a_code,
    say_events,
    split_code,
    view,
)
from models.events.links import EVENT_ROSTER, FORMATS, create_link
from models.events.queries import RosterLine, branch_names, current_events, roster, statuses
from models.events.standing import standing_of
from models.events.stats import year_figures
from models.events.tables import CONFIRMED, admits
from models.org import Role

ALL_WORDS = ("全部", "所有", "全部活动")
_YEAR = re.compile(r"^([0-9]{4})\s*年?(?:度)?$")
_RELATIVE_YEARS = {"今年": 0, "本年": 0, "本年度": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2}


# ---------------------------------------------------------------- 活动


async def events_command(ctx: Context, args: str) -> str:
    code, _rest = split_code(args)
    everything = clean(args) in ALL_WORDS
    if everything and not ctx.has_role(Role.OFFICER):
        raise UserError(say_events("list_all_officers_only"))
    if code is None and args.strip() and not everything:
        raise await not_a_code(ctx, args)
    if code is not None:
        return await _detail(ctx, code)
    return await _listing(ctx, everything=everything)


async def _listing(ctx: Context, *, everything: bool) -> str:
    """The events the member may join; with ``everything``, also those the officer manages."""
    assert ctx.member is not None
    member = ctx.member
    mine_to_manage = await reach(ctx) if everything else None
    events = [
        e for e in await current_events(ctx.session, now=ctx.now, tz=ctx.tz)
        if admits(e, member.branch_id, member.gender)
        or (mine_to_manage is not None and mine_to_manage.covers(e.audience_branch_id))
    ]
    ids = [e.id for e in events if e.id is not None]
    mine = await statuses(ctx.session, ctx.member.id or 0, ids)
    names = await branch_names(ctx.session)
    items = [
        (await view(ctx, e, names), mine.get(e.id or 0)) for e in events
    ]
    return say_events("event_list", items=items, everything=everything,
                      officer=ctx.has_role(Role.OFFICER))


async def _detail(ctx: Context, code: str) -> str:
    assert ctx.member is not None
    event = await find_event(ctx, code)
    assert event.id is not None
    shown = await view(ctx, event)
    mine = await standing_of(ctx.session, event.id, ctx.member.id or 0)
    return say_events(
        "event_detail", v=shown, mine=mine, officer=await may_manage(ctx, event.audience_branch_id),
        eligible=admits(event, ctx.member.branch_id, ctx.member.gender),
    )


# ---------------------------------------------------------------- 名单


@dataclass(frozen=True, slots=True)
class RosterCounts:
    members: int
    guests: int
    checked_in: int


async def roster_command(ctx: Context, args: str) -> str:
    code, _rest = split_code(args)
    if code is None:
        raise await _no_code(ctx, "名单 <编号>", args)
    event = await find_managed(ctx, code)
    assert event.id is not None
    lines = await roster(ctx.session, event.id)
    confirmed = [line for line in lines if line.status == CONFIRMED]
    waiting = [line for line in lines if line.status != CONFIRMED]
    shown = await view(ctx, event)
    return say_events(
        "roster", v=shown, confirmed=confirmed, waiting=waiting,
        counts=_counts(confirmed), fields=event.field_names, show_phone=not ctx.is_group,
        limit=ctx.settings.events.roster_max_lines,
    )


async def _no_code(ctx: Context, usage: str, args: str) -> UserError:
    """An officer's command without a code: its usage with an event they manage, or
    what was typed is no code."""
    if args.strip():
        return await not_a_code(ctx, args, managed=True)
    command = usage.split(" ")[0]
    example = f"{command} {await example_code(ctx, managed=True)}"
    return UserError(say_events("code_usage", command=command, usage=usage, example=example))


def _counts(confirmed: list[RosterLine]) -> RosterCounts:
    return RosterCounts(
        members=len(confirmed),
        guests=sum(line.guests for line in confirmed),
        checked_in=sum(line.party for line in confirmed if line.checked_in_at is not None),
    )


# ---------------------------------------------------------------- 导出


async def export_command(ctx: Context, args: str) -> Reply:
    assert ctx.member is not None
    code, rest = split_code(args)
    if code is None:
        raise await _no_code(ctx, "导出 <编号> [csv]", args)
    fmt = (rest.strip().lower().lstrip(".") or "xlsx").replace("excel", "xlsx")
    if fmt not in FORMATS:
        example = await example_code(ctx, code, managed=True)
        raise UserError(say_events("bad_format", text=echo(rest, 20), code=example))
    event = await find_managed(ctx, code)
    assert event.id is not None
    minutes = ctx.settings.events.export_link_minutes
    token, _expires = await create_link(
        ctx.session, kind=EVENT_ROSTER, subject_id=event.id, fmt=fmt, created_by=ctx.member.id,
        now=ctx.now, lifetime=timedelta(minutes=minutes),
    )
    await ctx.audit("event.export", f"event:{event.code}", after={"format": fmt})
    shown: EventView = await view(ctx, event)
    rows = event.confirmed_count + event.waiting_count
    url = f"{ctx.settings.server.public_url.rstrip('/')}/files/{token}"
    text = say_events("export_ready", v=shown, rows=rows, fmt=fmt, minutes=minutes)
    return Reply(text, file_url=url)


# ---------------------------------------------------------------- 活动统计


def parse_year(ctx: Context, text: str) -> int:
    words = clean(text)
    this_year = ctx.now.astimezone(ctx.tz).year
    if not words:
        return this_year
    if words in _RELATIVE_YEARS:
        return this_year + _RELATIVE_YEARS[words]
    match = _YEAR.match(words)
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        raise UserError(say_events("bad_year", text=echo(text, 20), year=this_year))
    return int(match.group(1))


async def statistics_command(ctx: Context, args: str) -> str:
    year = parse_year(ctx, args)
    figures = await year_figures(ctx.session, year=year, now=ctx.now, tz=ctx.tz)
    names = await branch_names(ctx.session)
    rows = [
        ("全校性活动" if b.branch_id is None else names.get(b.branch_id, str(b.branch_id)), b)
        for b in figures.branches
    ]
    local = figures.until.astimezone(ctx.tz)
    return say_events(
        "statistics", year=year, until=f"{local.month}月{local.day}日", fig=figures,
        rows=rows, partial=figures.until == ctx.now,
    )
