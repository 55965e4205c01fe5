"""点子统计, 导出点子 and 转提案.

Statistics and exports cover the branches in the officer's reach (the whole union for
校工会 officers). 转提案 lets a representative start the 提案 dialog with an idea's
title and text filled in, crediting the idea by its number (never its submitter).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.registry import Command, Registry
from bot.render import say
from bot.scope import reach
from handlers.ideas.common import T, keys, member_id, shown, speaks, take_number, this_year
from handlers.proposals import filing as proposal_filing
from models.events.links import create_link
from models.ideas import rounds, stats
from models.ideas.export import IDEA_ROUND, IDEA_YEAR
from models.ideas.support import load
from models.ideas.tables import Idea, IdeaRound
from models.org import Role

_YEAR = re.compile(r"^(?P<year>20[0-9]{2})\s*年?度?$")


def register(registry: Registry) -> None:
    registry.add(Command(
        name="点子统计", aliases=("金点子统计",), handler=speaks(stats_command), role=Role.OFFICER,
        topic="ideas", summary="金点子工作统计：征集、参与、支持、评为金点子和采纳的数量，按分工会列出",
        usage="点子统计 [年度|轮次名称]", example="点子统计 2026",
    ))
    registry.add(Command(
        name="导出点子", aliases=("导出金点子",), handler=speaks(export_command), role=Role.OFFICER,
        topic="ideas", summary="把一轮征集（或一年）的金点子导出为 Excel 表",
        usage="导出点子 <轮次名称|年度>", example="导出点子 2026年度金点子",
    ))
    registry.add(Command(
        name="转提案", handler=speaks(to_proposal_command), role=Role.REPRESENTATIVE, topic="ideas",
        scope="private", summary="把一条金点子转成教代会提案（一步一步补全理由）",
        usage="转提案 <编号>", example="转提案 D31",
    ))


async def _scope(ctx: Context, args: str) -> tuple[ColumnElement[bool], str, IdeaRound | None]:
    """A year (default: this one) or a round by name: the clause, its label and the round."""
    text = " ".join(args.split())
    if not text:
        year = this_year(ctx)
        return col(Idea.year) == year, f"{year}年", None
    match = _YEAR.match(text)
    if match is not None:
        year = int(match["year"])
        return col(Idea.year) == year, f"{year}年", None
    found = await rounds.by_name(ctx.session, text)
    if found is None:
        raise UserError(say(T, "unknown_scope", text=shown(text), year=this_year(ctx)))
    return col(Idea.round_id) == found.id, found.name, found


async def _branches(ctx: Context) -> frozenset[int] | None:
    mine = await reach(ctx)
    return None if mine.union_wide else mine.branches


async def stats_command(ctx: Context, args: str) -> str:
    where, label, _found = await _scope(ctx, args)
    figures = await stats.compute(ctx.session, where, keys(ctx), await _branches(ctx))
    return say(T, "stats", label=label, total=figures.total, branches=figures.branches)


async def export_command(ctx: Context, args: str) -> Reply:
    _where, label, found = await _scope(ctx, args)
    kind, subject = (IDEA_ROUND, found.id or 0) if found else (IDEA_YEAR, int(label.removesuffix("年")))
    minutes = ctx.settings.ideas.export_link_minutes
    token, _expires = await create_link(
        ctx.session, kind=kind, subject_id=subject, fmt="xlsx", created_by=member_id(ctx),
        now=ctx.now, lifetime=timedelta(minutes=minutes),
    )
    await ctx.audit("idea.export", f"ideas:{label}", after={"kind": kind, "subject": subject})
    url = f"{ctx.settings.server.public_url.rstrip('/')}/files/{token}"
    return Reply(say(T, "export_ready", label=label, minutes=minutes, url=url), file_url=url)


async def to_proposal_command(ctx: Context, args: str) -> Reply | str:
    number, _rest = take_number(args, "转提案 D31")
    idea = await load(ctx.session, number)
    await proposal_filing.filing_round(ctx)
    values = {"title": idea.title[:50], "suggestion": say(T, "credit", content=idea.content, number=number)}
    await ctx.audit("idea.to_proposal", f"idea:{number}")
    return await proposal_filing.ask_next(ctx, values, opening=True)
