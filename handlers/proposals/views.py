"""Looking at proposals: ``提案 <编号>`` (status and a dated timeline), ``提案列表``,
``我的提案`` and the officers' ``提案统计``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.errors import UserError
from bot.registry import Command, Registry
from bot.render import say
from bot.text import shown
from handlers.proposals.common import T, day_text, local_today, speaks, take_number, time_text
from models.org import Role
from models.proposals import flow
from models.proposals.queries import (
    Row,
    Step,
    cosigned_by,
    detail,
    filed_by,
    may_see,
    page,
    sees_all,
    visible_statuses,
    waiting_for,
)
from models.proposals.stats import Ratio, compute
from models.proposals.tables import (
    ADMITTED,
    OUTCOME_LABELS,
    RATING_LABELS,
    Outcome,
    ProposalRound,
    Rating,
    Status,
)

MINE_LIMIT = 20
OVERDUE = "逾期"
STATUS_WORDS: dict[str, frozenset[Status]] = {
    "全部": frozenset(Status),
    "征集附议": frozenset({Status.COSIGNING}), "附议中": frozenset({Status.COSIGNING}),
    "待附议": frozenset({Status.COSIGNING}),
    "待审查": frozenset({Status.REVIEW}), "审查中": frozenset({Status.REVIEW}),
    "立案": ADMITTED, "已立案": ADMITTED,
    "办理中": frozenset({Status.ACCEPTED}), "待答复": frozenset({Status.ACCEPTED}),
    OVERDUE: frozenset({Status.ACCEPTED}),
    "已答复": frozenset({Status.REPLIED}), "待评价": frozenset({Status.REPLIED}),
    "已办结": frozenset({Status.CLOSED}), "办结": frozenset({Status.CLOSED}),
    "不立案": frozenset({Status.REJECTED}),
    "转建议": frozenset({Status.CONVERTED}), "转为意见建议": frozenset({Status.CONVERTED}),
    "已撤回": frozenset({Status.WITHDRAWN}), "撤回": frozenset({Status.WITHDRAWN}),
}
PAGE_RE = re.compile(r"(?:第\s*)?([0-9]{1,5})\s*页?")
YEAR_RE = re.compile(r"([0-9]{4})\s*(?:年度?)?")


def register(registry: Registry) -> None:
    registry.add(Command(
        name="提案列表", handler=speaks(list_command), topic="proposals",
        summary="按状态查看提案，可翻页", usage="提案列表 [状态] [页码]", example="提案列表 已立案 2",
    ))
    registry.add(Command(
        name="我的提案", handler=speaks(mine_command), topic="proposals",
        summary="我提出的、附议的提案（承办人还能看到本部门待答复的）", usage="我的提案", example="我的提案",
    ))
    registry.add(Command(
        name="提案统计", handler=speaks(stats_command), role=Role.OFFICER, topic="proposals",
        summary="提案工作统计：立案率、答复率、满意率等", usage="提案统计 [年度|届次名称]",
        example="提案统计 2026",
    ))


def _member_id(ctx: Context) -> int:
    assert ctx.member is not None and ctx.member.id is not None
    return ctx.member.id


# ---------------------------------------------------------------- 提案 <编号>


def _labelled(data: dict[str, Any]) -> dict[str, Any]:
    """Timeline details with outcome and rating values turned into their labels."""
    shown_data = dict(data)
    if "outcome" in shown_data:
        shown_data["outcome"] = OUTCOME_LABELS[Outcome(shown_data["outcome"])]
    if "rating" in shown_data:
        shown_data["rating"] = RATING_LABELS[Rating(shown_data["rating"])]
    return shown_data


def _timeline(ctx: Context, steps: list[Step]) -> list[dict[str, Any]]:
    return [{"at": time_text(ctx, s.at), "actor": s.actor, "kind": s.kind, "data": _labelled(s.data)}
            for s in steps]


async def show_proposal(ctx: Context, args: str) -> str:
    number, _rest = await take_number(ctx, args, "提案")
    proposal = await flow.load(ctx.session, number, lock=False)
    if not await may_see(ctx.session, proposal, _member_id(ctx), ctx.roles):
        raise UserError(say(T, "not_visible", number=number))
    info = await detail(ctx.session, proposal)
    status = Status(proposal.status)
    today = local_today(ctx)
    replies = [
        {"department": r.department, "lead": r.lead, "outcome": OUTCOME_LABELS[Outcome(r.outcome)],
         "content": r.content, "at": time_text(ctx, r.revised_at or r.replied_at),
         "revised": r.revisions > 0, "round": r.handling_round}
        for r in info.replies
    ]
    ratings = [
        {"name": name, "rating": RATING_LABELS[Rating(r.rating)], "comment": r.comment,
         "round": r.handling_round}
        for r, name in info.ratings
    ]
    return say(
        T, "detail", p=proposal, status=status.label, state=status.value,
        proposer=info.proposer, cosigners=[c.name for c in info.cosigners],
        needed=ctx.settings.proposals.min_cosigners,
        lead=next((d for d, lead in info.assignments if lead), None),
        helpers=[d for d, lead in info.assignments if not lead],
        deadline=day_text(proposal.deadline),
        overdue=status is Status.ACCEPTED and proposal.deadline is not None and proposal.deadline < today,
        rating=RATING_LABELS[Rating(proposal.rating)] if proposal.rating else None,
        replies=replies, ratings=ratings, timeline=_timeline(ctx, info.timeline),
        multi_round=proposal.handling_round > 1,
    )


# ---------------------------------------------------------------- 提案列表


def _read_list_args(args: str) -> tuple[str | None, int]:
    words = args.split()
    number = 1
    if words and (match := PAGE_RE.fullmatch(words[-1])):
        number = int(match[1])
        words.pop()
    if len(words) > 1:
        raise UserError(say(T, "list_usage"))
    if words and words[0] not in STATUS_WORDS:
        raise UserError(say(T, "bad_status", text=shown(words[0], 12)))
    return (words[0] if words else None), number


def _row(row: Row, today: date) -> dict[str, Any]:
    return {"number": row.number, "title": shown(row.title, 40), "status": row.status.label,
            "state": row.status.value, "proposer": row.proposer, "count": row.cosigner_count,
            "lead": row.lead_department, "deadline": day_text(row.deadline),
            "overdue": row.status is Status.ACCEPTED and row.deadline is not None and row.deadline < today}


async def list_command(ctx: Context, args: str) -> str:
    word, number = _read_list_args(args)
    allowed = visible_statuses(ctx.roles)
    wanted = STATUS_WORDS[word] if word else allowed
    if word and word != "全部" and not wanted <= allowed:
        raise UserError(say(T, "status_hidden", status=word))
    today = local_today(ctx)
    own = None if sees_all(ctx.roles) or (word and word != "全部") else _member_id(ctx)
    found = await page(
        ctx.session, statuses=wanted & allowed, number=number, size=ctx.settings.proposals.page_size,
        overdue_on=today if word == OVERDUE else None, also_member=own,
    )
    return say(
        T, "list_page", word=word, rows=[_row(r, today) for r in found.rows], total=found.total,
        page=found.page, pages=found.pages, needed=ctx.settings.proposals.min_cosigners,
        asked=number,
    )


# ---------------------------------------------------------------- 我的提案


async def mine_command(ctx: Context, args: str) -> str:
    member_id = _member_id(ctx)
    today = local_today(ctx)
    filed, filed_total = await filed_by(ctx.session, member_id, MINE_LIMIT)
    cosigned, cosigned_total = await cosigned_by(ctx.session, member_id, MINE_LIMIT)
    department = ctx.member.department if ctx.member else None
    waiting: list[Row] = []
    waiting_total = 0
    is_handler = ctx.has_role(Role.HANDLER) and bool(department)
    if is_handler and department:
        waiting, waiting_total = await waiting_for(ctx.session, department, MINE_LIMIT)
    return say(
        T, "mine", filed=[_row(r, today) for r in filed], filed_total=filed_total,
        cosigned=[_row(r, today) for r in cosigned], cosigned_total=cosigned_total,
        waiting=[_row(r, today) for r in waiting], waiting_total=waiting_total,
        department=department if is_handler else None, needed=ctx.settings.proposals.min_cosigners,
    )


# ---------------------------------------------------------------- 提案统计


def percent(ratio: Ratio) -> str:
    """``57.8%``, ``100%``; a dash when there is nothing to divide."""
    value = ratio.percent
    if value is None:
        return "—"
    return f"{value:.1f}".removesuffix(".0") + "%"


async def find_round(ctx: Context, text: str) -> ProposalRound:
    rounds = list(await ctx.session.scalars(select(ProposalRound).order_by(col(ProposalRound.id).desc())))
    exact = [r for r in rounds if r.name == text]
    partial = [r for r in rounds if text in r.name]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    raise UserError(say(T, "unknown_round", text=shown(text, 20), names=[r.name for r in rounds[:5]],
                        year=local_today(ctx).year))


async def stats_command(ctx: Context, args: str) -> str:
    text = " ".join(args.split())
    today = local_today(ctx)
    if not text or (match := YEAR_RE.fullmatch(text)):
        year = int(match[1]) if text and match else today.year
        if not 2000 <= year <= 2100:
            raise UserError(say(T, "stats_usage", year=local_today(ctx).year))
        stats = await compute(ctx.session, today=today, year=year)
        scope = f"{year}年度"
    else:
        found = await find_round(ctx, text)
        stats = await compute(ctx.session, today=today, round_id=found.id)
        scope = f"「{found.name}」"
    return say(T, "stats", scope=scope, total=stats.total, departments=stats.departments, pct=percent)
