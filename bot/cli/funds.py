"""``unionbot funds verify|import|export``: the fund ledger from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.config import Settings
from bot.render import say
from models.db import Database
from models.funds.checkpoints import (
    KeyProblem,
    fingerprint,
    load_or_create_key,
    public_hex,
    registered_key,
)
from models.funds.verify import verify_all
from models.org import Branch

T = "funds"


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    from bot.cli.common import run_async

    funds = verbs.add_parser("funds", help="经费账：核对、导入流水、导出收支表")
    funds_verbs = funds.add_subparsers(dest="funds_verb", required=True, metavar="子命令")
    check = funds_verbs.add_parser(
        "verify", parents=[common], help="重新计算每本账的哈希链，并核对每个已公示的检查点")
    check.set_defaults(func=run_async(_verify))


async def _branch_names(db: Database) -> dict[int, str]:
    async with db.read() as session:
        rows = (await session.execute(select(col(Branch.id), col(Branch.name)))).all()
    return {int(row[0]): str(row[1]) for row in rows}


def _union_key(settings: Settings) -> str | None:
    """The public half of this server's key file, when it has one (never made here)."""
    path = Path(settings.funds.key_file)
    return public_hex(load_or_create_key(path)) if path.exists() else None


async def _verify(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    try:
        public = _union_key(settings)
    except KeyProblem as exc:
        print(say(T, exc.code, **exc.values))
        return 2
    async with db.read() as session:
        public = public or await registered_key(session)
        reports = await verify_all(session, public)
    names = await _branch_names(db)
    bad = 0
    for report in reports:
        branch = names.get(report.branch_id, str(report.branch_id))
        if report.problem is None:
            print(say(T, "verify_ok", branch=branch, entries=report.entries, checkpoints=report.checkpoints))
            continue
        bad += 1
        problem = report.problem
        print(say(T, "verify_problem", branch=branch, code=problem.code, number=problem.number,
                  values=problem.values))
    print(say(T, "verify_summary", ledgers=len(reports), bad=bad,
              fingerprint=fingerprint(public) if public else ""))
    return 1 if bad else 0
