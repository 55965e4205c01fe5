"""活动报名 — event sign-ups: the commands, and what members do (报名, 取消报名, 签到).

Officers' commands live next door: ``create`` (发起活动), ``manage``
(修改活动, 取消活动) and ``views`` (活动, 名单, 导出, 活动统计).
"""

from __future__ import annotations

import logging

from bot.args import parse_count, parse_pairs
from bot.context import Context
from bot.errors import UserError
from bot.registry import Command, Registry
from bot.text import shown
from handlers.events.create import CREATE_DIALOG, create_command
from handlers.events.fields import is_none, read_answer
from handlers.events.manage import cancel_command, modify_command
from handlers.events.notify import tell_promoted
from handlers.events.text import (
    audience_label,
    clean,
    code_number,
    example_code,
    load_event,
    not_a_code,
    refused,
    say_events,
    split_code,
    timing,
    view,
    when,
)
from handlers.events.views import (
    events_command,
    export_command,
    roster_command,
    statistics_command,
)
from models.events.queries import current_events, statuses
from models.events.signups import Applicant, Promotion, check_in, sign_up, withdraw
from models.events.standing import Locked, lock_for
from models.events.tables import ACTIVE, CONFIRMED, Event, EventRefusal, admits, closes_at, phase
from models.org import Role

logger = logging.getLogger(__name__)

ANSWER_MAX = 50
MAX_GUESTS_TYPED = 99


def register(registry: Registry) -> None:
    _member_commands(registry, "events")
    _officer_commands(registry, "events")
    registry.add_dialog(CREATE_DIALOG)


def _member_commands(registry: Registry, topic: str) -> None:
    registry.add(Command(
        name="活动", aliases=("活动列表",), handler=events_command, topic=topic,
        summary="查看近期活动，或某个活动的详情和自己的报名情况", usage="活动 [编号]", example="活动 A3",
    ))
    registry.add(Command(
        name="报名", handler=signup_command, topic=topic, args_optional=True,
        summary="报名参加活动，可带家属、写备注；名额满了自动候补；再发一次可修改",
        usage="报名 <编号> [+家属人数] [备注]", example="报名 A3 +1 素食",
    ))
    registry.add(Command(
        name="取消报名", aliases=("退出报名",), handler=withdraw_command, topic=topic, args_optional=True,
        summary="取消自己的报名，名额让给候补的人", usage="取消报名 <编号>", example="取消报名 A3",
    ))
    registry.add(Command(
        name="签到", handler=checkin_command, topic=topic,
        summary="到达活动现场后签到", usage="签到 [编号]", example="签到 A3",
    ))


def _officer_commands(registry: Registry, topic: str) -> None:
    registry.add(Command(
        name="发起活动", aliases=("新建活动", "创建活动"), handler=create_command, topic=topic,
        args_optional=True, role=Role.OFFICER, summary="发起一个报名活动，并通知相关的群",
        usage=("发起活动 <名称> 时间 <…> 地点 <…> 名额 <n> [截止 <…>] [可带 <k>] [对象 <…>] "
               "[填写 <…>] [备注 <…>]"),
        example="发起活动 教职工羽毛球赛 时间 下周六 14:00-16:00 地点 体育馆 名额 30 可带 1",
    ))
    registry.add(Command(
        name="修改活动", handler=modify_command, topic=topic, role=Role.OFFICER, args_optional=True,
        summary="修改活动的时间、地点、名额等；改时间地点会通知已报名的人",
        usage="修改活动 <编号> [时间 <…>] [地点 <…>] [名额 <n>] [截止 <…>] …", example="修改活动 A3 名额 40",
    ))
    registry.add(Command(
        name="取消活动", handler=cancel_command, topic=topic, role=Role.OFFICER, args_optional=True,
        summary="取消活动，并通知所有报名的人", usage="取消活动 <编号> [原因]",
        example="取消活动 A3 场地临时检修",
    ))
    registry.add(Command(
        name="名单", aliases=("报名名单",), handler=roster_command, topic=topic, role=Role.OFFICER,
        args_optional=True,
        summary="查看活动的报名名单、候补和签到情况", usage="名单 <编号>", example="名单 A3",
    ))
    registry.add(Command(
        name="导出", aliases=("导出名单",), handler=export_command, topic=topic, role=Role.OFFICER,
        args_optional=True,
        scope="private", summary="下载活动报名名单（Excel 或 CSV）", usage="导出 <编号> [csv]",
        example="导出 A3",
    ))
    registry.add(Command(
        name="活动统计", handler=statistics_command, topic=topic, role=Role.OFFICER,
        summary="全年活动场次、报名和签到人次，并按分工会统计", usage="活动统计 [年度]",
        example="活动统计 2026",
    ))


# ---------------------------------------------------------------- which event


async def _only_event(ctx: Context, command: str, wanted: str) -> int:
    """The number of the one event the command can mean when no code is given.

    ``wanted``: ``open`` (events taking sign-ups for the sender), ``mine`` (the sender's
    active sign-ups) or ``checkin`` (the sender's places whose check-in is open).
    """
    assert ctx.member is not None
    events = await current_events(ctx.session, now=ctx.now, tz=ctx.tz)
    rules = timing(ctx)
    if wanted == "open":
        found = [
            e for e in events if phase(e, ctx.now, ctx.tz, rules) == "open"
            and admits(e, ctx.member.branch_id, ctx.member.gender)
        ]
    else:
        mine = await statuses(ctx.session, ctx.member.id or 0, [e.id or 0 for e in events])
        allowed = ACTIVE if wanted == "mine" else (CONFIRMED,)
        found = [e for e in events if mine.get(e.id or 0) in allowed]
        if wanted == "checkin":
            found = [e for e in found if e.starts_at - rules.checkin_margin <= ctx.now < closes_at(e, ctx.tz)]
    if len(found) != 1:
        raise UserError(say_events("need_code", command=command, codes=[e.code for e in found]))
    return found[0].number


# ---------------------------------------------------------------- 报名


def _read_guests(word: str, code: str) -> int:
    if word.startswith("-"):
        raise UserError(say_events("negative_guests", text=shown(word, 10), code=code))
    try:
        return parse_count(word, minimum=0, maximum=MAX_GUESTS_TYPED)
    except UserError:
        raise UserError(say_events("bad_guests", text=shown(word, 10), code=code)) from None


def read_signup(
    ctx: Context, event: Event, text: str
) -> tuple[int | None, str | None, dict[str, str]]:
    """``+1 素食 尺码 L`` → guests, note (``""`` clears it), answers to the event's fields."""
    fields = event.field_names
    pairs = parse_pairs(text, [*fields, "备注"])
    head = pairs.pop("", "")
    guests: int | None = None
    first, _, rest = head.partition(" ")
    if first.startswith(("+", "-")):
        guests = _read_guests(first, event.code)
        head = rest
    elif first.isdigit():
        raise UserError(say_events("bad_code", text=shown(first, 20), example=event.code))
    note_parts = [clean(head)]
    answers: dict[str, str] = {}
    for name in fields:
        answer, more = read_answer(name, pairs.pop(name, ""), event.code)
        if answer:
            answers[name] = answer
            note_parts.append(more)
        if len(answers.get(name, "")) > ANSWER_MAX:
            raise UserError(say_events("answer_too_long", name=name, limit=ANSWER_MAX))
    note_parts.append(clean(pairs.pop("备注", "")))
    note = " ".join(part for part in note_parts if part) or None
    if note is not None and is_none(note):
        note = ""
    limit = ctx.settings.events.note_max_chars
    if note and len(note) > limit:
        raise UserError(say_events("note_too_long", limit=limit, length=len(note), code=event.code))
    return guests, note, answers


def _answers_text(answers: dict[str, str], fields: list[str]) -> str:
    return "，".join(f"{name}：{answers[name]}" for name in fields if answers.get(name))


async def signup_command(ctx: Context, args: str) -> str:
    member = ctx.member
    assert member is not None and member.id is not None
    code, rest = split_code(args)
    number = await code_number(ctx, code) if code else await _only_event(ctx, "报名", "open")
    try:
        locked = await lock_for(ctx.session, number, member.id)
    except EventRefusal as exc:  # no such event
        raise refused(ctx, exc, example=await example_code(ctx)) from None
    event = locked.event
    guests, note, answers = read_signup(ctx, event, rest)
    who = Applicant(member.id, member.branch_id, member.gender)
    try:
        outcome = await sign_up(
            ctx.session, locked=locked, who=who, guests=guests, note=note, answers=answers,
            now=ctx.now, tz=ctx.tz, timing=timing(ctx),
        )
    except EventRefusal as exc:
        raise await _refused_signup(ctx, locked, exc) from None
    shown = await view(ctx, event, with_audience=False)
    s = outcome.standing
    answer = _answers_text(s.answers, event.field_names)
    if outcome.was is None:
        text = say_events("signed_up", v=shown, status=s.status, number=s.number,
                   guests=s.guests, note=s.note, answers=answer)
    else:
        text = say_events("amended", v=shown, was=outcome.was, status=s.status, number=s.number,
                   guests=s.guests, note=s.note, answers=answer)
    return text + await _promoted(ctx, event, outcome.promoted)


async def _refused_signup(ctx: Context, locked: Locked, exc: EventRefusal) -> UserError:
    """A refused sign-up; one already signed up is told their sign-up stands (or went
    with the cancelled event)."""
    if exc.reason == "not_in_audience":
        return refused(ctx, exc, audience=await audience_label(ctx, locked.event))
    signed = locked.mine is not None and locked.mine.status in ACTIVE
    extra = {"signed": signed} if exc.reason in ("signup_closed", "event_cancelled") else {}
    return refused(ctx, exc, action="signup", **extra)


async def _promoted(ctx: Context, event: Event, promoted: tuple[Promotion, ...]) -> str:
    """Tell promoted members; in a group, @-mention those who cannot be told privately."""
    if not promoted:
        return ""
    shown = await view(ctx, event, with_audience=False)
    told = await tell_promoted(ctx, event, promoted, {
        p.member_id: say_events("promoted_notice", v=shown, place=p.place, guests=p.guests)
        for p in promoted
    })
    if told.unreached and ctx.is_group:
        return "\n" + say_events("promoted_here", names=told.unreached, code=event.code)
    return ""


# ---------------------------------------------------------------- 取消报名


async def withdraw_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    code, _rest = split_code(args)
    if code is None and args.strip():
        raise await not_a_code(ctx, args)
    number = await code_number(ctx, code) if code else await _only_event(ctx, "取消报名", "mine")
    event = await load_event(ctx, number, lock=True)
    try:
        result = await withdraw(ctx.session, event=event, member_id=ctx.member.id, now=ctx.now, tz=ctx.tz)
    except EventRefusal as exc:
        raise refused(ctx, exc, action="withdraw") from None
    shown = await view(ctx, event, with_audience=False)
    return say_events("withdrawn", v=shown, was=result.was) + await _promoted(
        ctx, event, result.promoted
    )


# ---------------------------------------------------------------- 签到


async def checkin_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    code, _rest = split_code(args)
    if code is None and args.strip():
        raise await not_a_code(ctx, args)
    number = await code_number(ctx, code) if code else await _only_event(ctx, "签到", "checkin")
    event = await load_event(ctx, number)
    try:
        result = await check_in(
            ctx.session, event=event, member_id=ctx.member.id, now=ctx.now, tz=ctx.tz,
            timing=timing(ctx),
        )
    except EventRefusal as exc:
        raise refused(ctx, exc, action="checkin") from None
    assert event.id is not None
    shown = await view(ctx, event, with_audience=False)
    return say_events("checked_in", v=shown, at=when(ctx, result.at), guests=result.guests,
               already=result.already)
