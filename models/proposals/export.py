"""Proposal export — 提案导出: one XLSX with a row per proposal and a summary sheet.

``unionbot proposals export [--year Y] FILE.xlsx`` writes it, ready to paste into the
提案工作报告. The summary sheet carries the figures of ``提案统计`` (see
``models.proposals.stats`` for how each is counted). Text typed by members is written
as text: a title starting with ``=`` stays a title, never becomes a formula.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.db import Database
from models.org import Branch, Member
from models.proposals.stats import Figures, Ratio, Stats, compute
from models.proposals.tables import (
    NUMBER_ORDER,
    OUTCOME_LABELS,
    RATING_LABELS,
    Outcome,
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalRating,
    ProposalReply,
    ProposalRound,
    Rating,
    Status,
)

logger = logging.getLogger(__name__)

COLUMNS: tuple[tuple[str, int], ...] = (  # heading, width
    ("编号", 12), ("标题", 36), ("类别", 10), ("提案人", 10), ("所在分工会", 18), ("附议人", 24),
    ("附议人数", 8), ("理由", 50), ("建议", 50), ("提案征集", 18), ("状态", 12), ("提交时间", 17),
    ("审查时间", 17), ("不立案/转建议理由", 30), ("主办部门", 14), ("协办部门", 20), ("答复期限", 12),
    ("是否逾期", 8), ("答复类型", 10), ("答复内容", 50), ("答复时间", 17), ("协办意见", 40),
    ("办理次数", 8), ("评价", 10), ("评价意见", 30),
)


@dataclass(frozen=True, slots=True)
class Export:
    """What was written: the scope and how many proposals."""

    path: Path
    year: int
    count: int


def _text(value: Any) -> Any:
    """Cell text without characters XML cannot hold; other values as they are."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


async def _names_by_proposal(session: AsyncSession, ids: Select[Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(col(ProposalCosign.proposal_id), col(Member.name))
        .join(Member, col(Member.id) == col(ProposalCosign.member_id))
        .where(col(ProposalCosign.proposal_id).in_(ids))
        .order_by(col(ProposalCosign.at), col(Member.id))
    )
    for proposal_id, name in rows.tuples():
        found[proposal_id].append(name)
    return found


async def _rows(session: AsyncSession, year: int, tz: ZoneInfo, today: date) -> list[list[Any]]:
    result = await session.execute(
        select(Proposal, col(Member.name), col(Branch.name), col(ProposalRound.name))
        .join(Member, col(Member.id) == col(Proposal.proposer_id))
        .join(Branch, col(Branch.id) == col(Member.branch_id))
        .outerjoin(ProposalRound, col(ProposalRound.id) == col(Proposal.round_id))
        .where(col(Proposal.year) == year)
        .order_by(*NUMBER_ORDER)
    )
    proposals = list(result.tuples())
    ids = select(col(Proposal.id)).where(col(Proposal.year) == year)
    cosigners = await _names_by_proposal(session, ids)
    helpers = await _helping_departments(session, ids)
    lead_reply, opinions = await _replies(session, ids)
    comments = await _proposer_comments(session, ids)
    rows = []
    for p, proposer, branch, round_name in proposals:
        pid = p.id or 0
        reply = lead_reply.get(pid)
        overdue = p.status == Status.ACCEPTED.value and p.deadline is not None and p.deadline < today
        rows.append([
            p.number, p.title, p.category or "", proposer, branch, "、".join(cosigners[pid]),
            p.cosigner_count, p.reason, p.suggestion, round_name or "", Status(p.status).label,
            _local(p.filed_at, tz), _local(p.decided_at, tz), p.decision_note or "",
            p.lead_department or "", "、".join(helpers[pid]), p.deadline, "是" if overdue else "",
            OUTCOME_LABELS[Outcome(reply.outcome)] if reply else "", reply.content if reply else "",
            _local(reply.revised_at or reply.replied_at, tz) if reply else None,
            "\n".join(opinions[pid]), p.handling_round if p.lead_department else None,
            RATING_LABELS[Rating(p.rating)] if p.rating else "", comments.get(pid, "") if p.rating else "",
        ])
    return rows


async def _helping_departments(session: AsyncSession, ids: Select[Any]) -> dict[int, list[str]]:
    helpers: dict[int, list[str]] = defaultdict(list)
    for pid, department in (await session.execute(
        select(col(ProposalAssignment.proposal_id), col(ProposalAssignment.department))
        .where(col(ProposalAssignment.proposal_id).in_(ids), col(ProposalAssignment.lead).is_(False))
        .order_by(col(ProposalAssignment.department))
    )).tuples():
        helpers[pid].append(department)
    return helpers


async def _replies(
    session: AsyncSession, ids: Select[Any]
) -> tuple[dict[int, ProposalReply], dict[int, list[str]]]:
    """The lead department's latest reply, and the helping departments' opinions."""
    lead_reply: dict[int, ProposalReply] = {}
    opinions: dict[int, list[str]] = defaultdict(list)
    for answer in await session.scalars(
        select(ProposalReply).where(col(ProposalReply.proposal_id).in_(ids))
        .order_by(col(ProposalReply.handling_round), col(ProposalReply.id))
    ):
        if answer.lead:
            lead_reply[answer.proposal_id] = answer  # the latest round's wins
        else:
            label = OUTCOME_LABELS[Outcome(answer.outcome)]
            opinions[answer.proposal_id].append(f"{answer.department}（{label}）：{answer.content}")
    return lead_reply, opinions


async def _proposer_comments(session: AsyncSession, ids: Select[Any]) -> dict[int, str]:
    comments: dict[int, str] = {}
    for pid, comment in (await session.execute(
        select(col(ProposalRating.proposal_id), col(ProposalRating.comment))
        .join(Proposal, col(Proposal.id) == col(ProposalRating.proposal_id))
        .where(col(ProposalRating.proposal_id).in_(ids))
        .where(col(ProposalRating.member_id) == col(Proposal.proposer_id))
        .order_by(col(ProposalRating.id))
    )).tuples():
        comments[pid] = comment or ""
    return comments


def _put(sheet: Any, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    cell = sheet.cell(row=row, column=column, value=_text(value))
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # typed text, not a formula
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if number_format:
        cell.number_format = number_format


def _proposal_sheet(sheet: Any, rows: list[list[Any]]) -> None:
    sheet.title = "提案"
    bold = Font(bold=True)
    for index, (heading, width) in enumerate(COLUMNS, start=1):
        _put(sheet, 1, index, heading)
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
            if isinstance(value, str) and len(value) > 20:
                sheet.cell(row=r, column=c).alignment = wrap
    sheet.freeze_panes = "C2"


def _rate(ratio: Ratio) -> float | str:
    return "—" if ratio.whole == 0 else ratio.part / ratio.whole


def _summary_sheet(sheet: Any, year: int, stats: Stats) -> None:
    t = stats.total
    bold = Font(bold=True)
    lines: list[tuple[str, Any]] = [
        ("统计范围", f"{year}年度"), ("收到提案", t.received), ("其中撤回", t.withdrawn),
        ("尚在附议或审查", t.pending), ("立案", t.accepted), ("不立案", t.rejected),
        ("转为意见建议", t.converted), ("立案率（立案 ÷（收到 − 撤回））", _rate(t.acceptance_rate)),
        ("已答复", t.replied), ("答复率（已答复 ÷ 立案）", _rate(t.reply_rate)), ("逾期未答复", t.overdue),
        ("已评价", t.rated), ("满意", t.satisfied), ("基本满意", t.fair), ("不满意", t.unsatisfied),
        ("满意率（（满意 + 基本满意）÷ 已评价）", _rate(t.satisfaction_rate)),
    ]
    _put(sheet, 1, 1, "项目")
    _put(sheet, 1, 2, "数值")
    for row, (label, value) in enumerate(lines, start=2):
        _put(sheet, row, 1, label)
        _put(sheet, row, 2, value, "0.0%" if isinstance(value, float) else None)
    start = len(lines) + 3
    headings = ("主办部门", "立案", "已答复", "答复率", "逾期", "已评价", "满意率")
    for column, heading in enumerate(headings, start=1):
        _put(sheet, start, column, heading)
    for row, (department, f) in enumerate(stats.departments.items(), start=start + 1):
        _department_row(sheet, row, department, f)
    for row in (1, start):
        for column in range(1, len(headings) + 1):
            sheet.cell(row=row, column=column).font = bold
    sheet.column_dimensions["A"].width = 40
    sheet.title = "统计"


def _department_row(sheet: Any, row: int, department: str, f: Figures) -> None:
    values = (department, f.accepted, f.replied, _rate(f.reply_rate), f.overdue, f.rated,
              _rate(f.satisfaction_rate))
    for column, value in enumerate(values, start=1):
        _put(sheet, row, column, value, "0.0%" if isinstance(value, float) else None)


async def export_proposals(db: Database, path: Path, *, year: int, tz: ZoneInfo, today: date) -> Export:
    """Write the proposals of ``year`` and their statistics to ``path`` (XLSX)."""
    async with db.read() as session:
        rows = await _rows(session, year, tz, today)
        stats = await compute(session, today=today, year=year)
    workbook = openpyxl.Workbook()
    _proposal_sheet(workbook.active, rows)
    _summary_sheet(workbook.create_sheet(), year, stats)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    logger.info("exported %d proposals of %d to %s", len(rows), year, path)
    return Export(path, year, len(rows))
