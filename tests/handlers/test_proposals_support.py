"""Shared set-up for the proposal tests (no tests here): people, settings, pipeline, snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.audit import AuditLog
from models.db import Database
from models.dialog_state import DialogState
from models.org import Member, Role
from models.outbox import OutboxMessage
from models.proposals.tables import (
    Proposal,
    ProposalAssignment,
    ProposalCosign,
    ProposalCounter,
    ProposalEvent,
    ProposalRating,
    ProposalReply,
    ProposalRound,
)
from tests.clock import SHANGHAI, SUITE_START, FrozenClock
from tests.factories import make_member, make_settings, message

YEAR = SUITE_START.astimezone(SHANGHAI).year  # proposal tests run at SUITE_START: see proposal_clock
DEPARTMENTS = ["教务处", "人事处", "后勤管理处"]
CATEGORIES = ["教学科研", "后勤保障", "其他"]


def no(seq: int) -> str:
    """The number of the ``seq``-th proposal of this year."""
    return f"T{YEAR}-{seq:03d}"


def proposal_settings(**proposals: Any) -> Settings:
    values: dict[str, Any] = {"departments": DEPARTMENTS, "categories": CATEGORIES, "open_all_year": True}
    values.update(proposals)
    return make_settings(proposals=values, onebot={"enabled": True})


def proposal_clock() -> FrozenClock:
    """A clock in ``YEAR``: it starts where the suite did, so numbers are ``T{YEAR}-…``."""
    return FrozenClock(SUITE_START)


def make_pipeline(db: Database, settings: Settings, clock: FrozenClock | None = None) -> Pipeline:
    return Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics(),
                    clock=clock or proposal_clock())


@dataclass
class People:
    """The cast: three representatives, two officers, handlers of three departments, a member."""

    zs: Member  # 张三, representative
    ls: Member  # 李四, representative
    ww: Member  # 王五, representative
    of: Member  # 赵六, officer
    of2: Member  # 钱七, officer
    hq: Member  # 孙八, 承办人 of 后勤管理处
    rs: Member  # 周九, 承办人 of 人事处
    jw: Member  # 吴十, 承办人 of 教务处
    nd: Member  # 郑十一, 承办人 without a department
    mb: Member  # 冯十二, member


async def cast(db: Database) -> People:
    rep = [Role.REPRESENTATIVE]
    return People(
        zs=await make_member(db, "1001", "张三", roles=rep, accounts=[("onebot", "zs")]),
        ls=await make_member(db, "1002", "李四", roles=rep, accounts=[("onebot", "ls")]),
        ww=await make_member(db, "1003", "王五", roles=rep, accounts=[("onebot", "ww")],
                             branch="外国语学院分工会"),
        of=await make_member(db, "2001", "赵六", roles=[Role.OFFICER], accounts=[("onebot", "of")]),
        of2=await make_member(db, "2002", "钱七", roles=[Role.OFFICER], accounts=[("onebot", "of2")]),
        hq=await make_member(db, "3001", "孙八", roles=[Role.HANDLER], department="后勤管理处",
                             accounts=[("onebot", "hq")]),
        rs=await make_member(db, "3002", "周九", roles=[Role.HANDLER], department="人事处",
                             accounts=[("onebot", "rs")]),
        jw=await make_member(db, "3003", "吴十", roles=[Role.HANDLER], department="教务处",
                             accounts=[("onebot", "jw")]),
        nd=await make_member(db, "3004", "郑十一", roles=[Role.HANDLER], accounts=[("onebot", "nd")]),
        mb=await make_member(db, "4001", "冯十二", accounts=[("onebot", "mb")]),
    )


async def say(pipeline: Pipeline, who: str, text: str, **kw: Any) -> str:
    """What the bot answers ``who`` (an onebot account) in a private chat, or as given."""
    reply = await pipeline.handle(message(text, sender=who, channel="onebot", **kw))
    assert reply is not None
    assert "出了点问题" not in reply.text, reply.text
    return reply.text


async def proposal(db: Database, number: str) -> Proposal:
    async with db.read() as session:
        found = await session.scalar(select(Proposal).where(Proposal.number == number))
    assert found is not None, number
    return found


async def outbox(db: Database) -> dict[str, tuple[str, str]]:
    """Queued notices: key → (target account, text)."""
    async with db.read() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.target, OutboxMessage.payload))
        return {key: (target, json.loads(payload)["text"]) for key, target, payload in rows}


async def audit(db: Database) -> list[tuple[str, str, Any, Any]]:
    """Audit entries about proposals: (action, target, before, after)."""
    async with db.read() as session:
        rows = await session.execute(
            select(AuditLog.action, AuditLog.target, AuditLog.before, AuditLog.after)
            .where(AuditLog.action.startswith("proposal"))  # type: ignore[attr-defined]
            .order_by(AuditLog.id)
        )
        return [(a, t, json.loads(b) if b else None, json.loads(c) if c else None) for a, t, b, c in rows]


TABLES = (Proposal, ProposalAssignment, ProposalCosign, ProposalCounter, ProposalEvent, ProposalRating,
          ProposalReply, ProposalRound, AuditLog, OutboxMessage, DialogState)


async def snapshot(db: Database) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    async with db.read() as session:
        counts = {
            table.__name__: await session.scalar(select(func.count()).select_from(table)) for table in TABLES
        }
        rows = (await session.execute(
            select(Proposal.number, Proposal.status, Proposal.cosigner_count, Proposal.handling_round,
                   Proposal.rating, Proposal.lead_department, Proposal.deadline, Proposal.updated_at)
            .order_by(Proposal.id)
        )).all()
        counters = (await session.execute(select(ProposalCounter.year, ProposalCounter.seq))).all()
    return {"counts": counts, "rows": [tuple(r) for r in rows], "counters": [tuple(c) for c in counters]}
