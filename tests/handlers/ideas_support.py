"""Shared set-up for the idea tests (no tests here): people, settings, helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.audit import AuditLog
from models.db import Database
from models.ideas.tables import Idea, IdeaCounter, IdeaRound, IdeaSupport
from models.org import Member, Role
from models.outbox import OutboxMessage
from tests.clock import SUITE_START
from tests.factories import make_member, make_settings, message

YEAR = SUITE_START.astimezone(ZoneInfo("Asia/Shanghai")).year
UNION = "示范大学工会"
CS = "计算机学院分工会"
FL = "外国语学院分工会"


def idea_settings(tmp_path: Path, **ideas: Any) -> Settings:
    values: dict[str, Any] = {"key_file": str(tmp_path / "ideas.key")}
    values.update(ideas)
    return make_settings(
        ideas=values, onebot={"enabled": True},
        proposals={"departments": ["后勤管理处", "教务处"], "open_all_year": True},
    )


def make_pipeline(db: Database, settings: Settings) -> Pipeline:
    return Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics())


@dataclass
class People:
    zs: Member  # 张三, CS member
    ls: Member  # 李四, CS member
    ww: Member  # 王五, FL member
    of: Member  # 赵六, union (校工会) officer
    cso: Member  # 钱七, CS officer
    flo: Member  # 孙八, FL officer
    hq: Member  # 周九, 承办人 of 后勤管理处
    rep: Member  # 吴十, representative (CS)
    nb: Member  # 郑十一, CS member without a reachable account


async def cast(db: Database) -> People:
    return People(
        zs=await make_member(db, "1001", "张三", accounts=[("onebot", "zs")], phone="13900001111"),
        ls=await make_member(db, "1002", "李四", accounts=[("onebot", "ls")]),
        ww=await make_member(db, "1003", "王五", branch=FL, accounts=[("onebot", "ww")]),
        of=await make_member(db, "2001", "赵六", branch=UNION, roles=[Role.OFFICER],
                             accounts=[("onebot", "of")]),
        cso=await make_member(db, "2002", "钱七", roles=[Role.OFFICER], accounts=[("onebot", "cso")]),
        flo=await make_member(db, "2003", "孙八", branch=FL, roles=[Role.OFFICER],
                              accounts=[("onebot", "flo")]),
        hq=await make_member(db, "3001", "周九", roles=[Role.HANDLER], department="后勤管理处",
                             accounts=[("onebot", "hq")]),
        rep=await make_member(db, "4001", "吴十", roles=[Role.REPRESENTATIVE], accounts=[("onebot", "rep")]),
        nb=await make_member(db, "5001", "郑十一", accounts=[("qq_official", "nb")]),
    )


async def say(pipeline: Pipeline, who: str, text: str, **kw: Any) -> str:
    """What the bot answers ``who`` (an onebot account) in a private chat, or as given."""
    kw.setdefault("channel", "onebot")
    reply = await pipeline.handle(message(text, sender=who, **kw))
    assert reply is not None
    assert "出了点问题" not in reply.text, reply.text
    return reply.text


async def in_group(pipeline: Pipeline, who: str, text: str) -> str:
    return await say(pipeline, who, text, chat_type="group")


async def idea(db: Database, number: str) -> Idea:
    async with db.read() as session:
        found = await session.scalar(select(Idea).where(Idea.number == number))
    assert found is not None, number
    return found


async def counts(db: Database) -> dict[str, int]:
    """Rows in every idea table, the audit log and the outbox."""
    result = {}
    async with db.read() as session:
        for model in (Idea, IdeaSupport, IdeaRound, IdeaCounter, AuditLog, OutboxMessage):
            result[model.__name__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return result


async def outbox(db: Database) -> dict[str, tuple[str, str]]:
    """Queued notices: key → (target account, text)."""
    async with db.read() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.target, OutboxMessage.payload))
        return {key: (target, json.loads(payload)["text"]) for key, target, payload in rows}


async def audit_text(db: Database) -> str:
    async with db.read() as session:
        rows = await session.execute(select(AuditLog.actor, AuditLog.action, AuditLog.target, AuditLog.before,
                                            AuditLog.after))
        return "\n".join(" ".join(str(v) for v in row) for row in rows)
