"""导出点子 — the ideas of a round (or a year) as an XLSX sheet, ranked by support.

An anonymous idea's row says 匿名 and leaves the branch empty: the export goes to
officers, who must not learn anonymous submitters from it. Text members typed is
written as text, never as a formula.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.events.export import ExportFile, xlsx_paced
from models.ideas.tables import RANK_ORDER, STATUS_LABELS, Idea, IdeaRound, Status
from models.org import Branch, Member

IDEA_ROUND = "idea_round"  # download link kind: subject = the round's id
IDEA_YEAR = "idea_year"  # download link kind: subject = the year
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEAD = ("排名", "编号", "标题", "内容", "提出人", "所在分工会", "支持数", "状态", "评语", "交办部门",
        "提交时间")
ANONYMOUS = "匿名"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


async def _rows(
    session: AsyncSession, where: ColumnElement[bool], branches: frozenset[int] | None, tz: ZoneInfo
) -> list[list[object]]:
    statement = (
        select(Idea, col(Member.name), col(Branch.name))
        .outerjoin(Member, col(Member.id) == col(Idea.member_id))
        .outerjoin(Branch, col(Branch.id) == col(Idea.branch_id))
        .where(where).order_by(*RANK_ORDER)
    )
    if branches is not None:
        statement = statement.where(col(Idea.branch_id).in_(branches))
    rows: list[list[object]] = []
    for rank, (idea, name, branch) in enumerate((await session.execute(statement)).tuples(), start=1):
        rows.append([
            rank, idea.number, idea.title, idea.content,
            ANONYMOUS if idea.anonymous else (name or ""), "" if idea.anonymous else (branch or ""),
            idea.support_count, STATUS_LABELS[Status(idea.status)], idea.judge_note or "",
            idea.department or "", idea.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        ])
    return rows


async def export_ideas(
    session: AsyncSession, *, kind: str, subject: int, branches: frozenset[int] | None, tz: ZoneInfo
) -> ExportFile | None:
    """The XLSX of a round (``IDEA_ROUND``) or a year (``IDEA_YEAR``); None if the round is gone."""
    if kind == IDEA_ROUND:
        found = await session.get(IdeaRound, subject)
        if found is None:
            return None
        where, label = col(Idea.round_id) == subject, found.name
    else:
        where, label = col(Idea.year) == subject, f"{subject}年"
    rows = await _rows(session, where, branches, tz)
    name = _UNSAFE.sub("_", label).strip(" ._") or "金点子"
    data = await xlsx_paced(HEAD, rows, sheet="金点子")
    return ExportFile(filename=f"{name}-金点子.xlsx", content_type=XLSX, data=data, rows=len(rows))
