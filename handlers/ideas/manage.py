"""The officers' idea commands: 点子征集 (start, end) and 评选.

A round started by a 分工会 officer belongs to that branch; one started by a 校工会
officer (or an admin there) is union-wide. 评选 acts on ideas within the officer's reach:
a round's ideas belong to the round's owner, pool ideas to the submitter's branch.
The submitter is told privately through the outbox; for an anonymous idea the officer is
only told whether the (unnamed) submitter could be reached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.args import parse_day, parse_pairs
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.notify import Notified, notify_members
from bot.registry import Command, Registry
from bot.render import say
from bot.scope import require_reach
from handlers.ideas.common import T, keys, member_id, shown, speaks, take_number
from handlers.ideas.views import round_line
from handlers.proposals.common import chinese_punctuation, known_departments
from models.ideas import queries, rounds
from models.ideas.support import Verdict, judge, load
from models.ideas.tables import VERDICT_WORDS, Idea, Status
from models.org import Role
from models.proposals.queries import handler_ids

NOTE_MAX_CHARS = 500


def register(registry: Registry) -> None:
    registry.add(Command(
        name="点子征集", aliases=("金点子征集",), handler=speaks(round_command), topic="ideas",
        summary="查看金点子征集时间；干部可发起或结束本单位的征集",
        usage="点子征集 [开始 <名称> 截止 <日期> | 结束]",
        example="点子征集 开始 2026年度金点子 截止 2026-12-31",
    ))
    registry.add(Command(
        name="评选", aliases=("评选点子",), handler=speaks(judge_command), role=Role.OFFICER, topic="ideas",
        summary="评选金点子：评为金点子、采纳（可交部门办理）或存档，私信告知提出人",
        usage="评选 <编号> 金点子|采纳|存档 [交 <部门>] [评语]",
        example="评选 D31 采纳 交 后勤管理处 很实用，请尽快落实",
    ))


# ---------------------------------------------------------------- 点子征集


def _close_of(ctx: Context, day: date) -> datetime:
    """A round closing on ``day`` takes ideas until the end of that local day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.tz).astimezone(UTC)


def _require_officer(ctx: Context, command: str) -> None:
    if not ctx.has_role(Role.OFFICER):
        raise PermissionDenied(say("basics", "denied", command=command, role=Role.OFFICER.label))


async def round_command(ctx: Context, args: str) -> str:
    if not args.strip():
        return await round_line(ctx)
    pairs = parse_pairs(args, ("开始", "截止", "结束"))
    if "" in pairs:
        raise UserError(say(T, "round_usage"))
    assert ctx.member is not None
    owner = await rounds.owner_of(ctx.session, ctx.member.branch_id)
    if "结束" in pairs:
        _require_officer(ctx, "点子征集 结束")
        if pairs["结束"] or len(pairs) > 1:
            raise UserError(say(T, "round_usage"))
        ended = await rounds.end_round(ctx.session, owner=owner, now=ctx.now)
        await ctx.audit("idea_round.end", f"idea_round:{ended.id}", after={"name": ended.name})
        return say(T, "round_ended", name=ended.name)
    _require_officer(ctx, "点子征集 开始")
    name = " ".join(pairs.get("开始", "").split())
    if not name or len(name) > 64 or not pairs.get("截止"):
        raise UserError(say(T, "round_usage"))
    day = parse_day(pairs["截止"], now=ctx.now, tz=ctx.tz)
    started = await rounds.start_round(ctx.session, name=name, owner=owner, closes_at=_close_of(ctx, day),
                                       officer_id=member_id(ctx), now=ctx.now)
    await ctx.audit("idea_round.start", f"idea_round:{started.id}",
                    after={"name": name, "branch_id": owner, "closes_at": started.closes_at})
    branch = await queries.branch_name(ctx.session, owner)
    return say(T, "round_started", name=name, closes=day.isoformat(), branch=branch)


# ---------------------------------------------------------------- 评选


async def _verdict(ctx: Context, rest: str) -> Verdict:
    word, _, tail = rest.strip().partition(" ")
    status = VERDICT_WORDS.get(word)
    if status is None:
        raise UserError(say(T, "judge_usage"))
    department = None
    tail = tail.strip()
    if tail.startswith("交") and status is Status.ADOPTED:
        department, _, tail = tail.removeprefix("交").strip().partition(" ")
        known = await known_departments(ctx)
        if not department or department not in known:
            raise UserError(say(T, "bad_department", text=shown(department or "（空）"), known=known))
    note = chinese_punctuation(tail.strip()) or None
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise UserError(say(T, "note_too_long", length=len(note), limit=NOTE_MAX_CHARS))
    return Verdict(status, note, department)


async def owner_of_idea(ctx: Context, idea: Idea) -> int | None:
    found = await queries.round_of(ctx.session, idea)
    return found.branch_id if found is not None else idea.branch_id


async def judge_command(ctx: Context, args: str) -> str:
    number, rest = take_number(args, "评选 D31 金点子")
    verdict = await _verdict(ctx, rest)
    idea = await load(ctx.session, number, lock=True)
    await require_reach(ctx, await owner_of_idea(ctx, idea), what=f"点子 {number}")
    before = await judge(ctx.session, idea=idea, verdict=verdict, officer_id=member_id(ctx), now=ctx.now)
    await ctx.audit("idea.judge", f"idea:{number}", before={"status": before.value},
                    after={"status": verdict.status.value, "note": verdict.note,
                           "department": verdict.department})
    stamp = f"{verdict.status.name}:{ctx.now.strftime('%Y%m%dT%H%M%S%f')}"  # one per judgement
    author = await _tell_author(ctx, idea, verdict, stamp)
    department = Notified()
    if verdict.department:
        department = await notify_members(
            ctx.session, settings=ctx.settings,
            member_ids=await handler_ids(ctx.session, [verdict.department]),
            key=lambda m: f"idea:{number}:assigned:{stamp}:member:{m}",
            text=say(T, "n_assigned", idea=idea, department=verdict.department, note=verdict.note),
        )
    return say(T, "judged", number=number, title=idea.title, status=verdict.status.label,
               note=verdict.note, anonymous=idea.anonymous, author=author,
               department=verdict.department, department_told=department)


async def _tell_author(ctx: Context, idea: Idea, verdict: Verdict, stamp: str) -> Notified:
    """Tell the submitter privately; for an anonymous idea, the result carries no name."""
    author = await queries.author_of(ctx.session, idea, keys(ctx))
    if author is None:
        return Notified(unreached=[say(T, "anonymous_label")])
    told = await notify_members(
        ctx.session, settings=ctx.settings, member_ids=[author],
        key=lambda _m: f"idea:{idea.number}:judged:{stamp}:author",
        text=say(T, "n_judged", idea=idea, status=verdict.status.label, note=verdict.note,
                 department=verdict.department, anonymous=idea.anonymous),
    )
    if idea.anonymous:
        hidden = say(T, "anonymous_label")
        return Notified([hidden] if told.reached else [], [hidden] if told.unreached else [])
    return told
