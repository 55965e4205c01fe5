"""``unionbot funds verify|import|export``: the fund ledger from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from bot.cli.common import add_argument, add_subverbs, add_verb, progress_bar
from bot.config import Settings
from bot.render import say
from models.audit import AuditLog
from models.db import Database
from models.funds.categories import CategoryTree
from models.funds.checkpoints import (
    KeyProblem,
    fingerprint,
    load_or_create_key,
    public_hex,
    registered_key,
)
from models.funds.figures import figures
from models.funds.ledger import find_ledger
from models.funds.periods import Period, parse_period
from models.funds.refusals import Problem, Refused
from models.funds.tables import FundStatement
from models.funds.verify import verify_all
from models.org import Branch

if TYPE_CHECKING:
    from models.funds.importing import Checked

T = "funds"  # the template of every sentence here; spreadsheets (openpyxl) load only when used


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    from bot.cli.common import run_async

    funds = add_verb(verbs, "funds")
    funds_verbs = add_subverbs(funds, "funds")
    check = add_verb(funds_verbs, "funds verify", common)
    check.set_defaults(func=run_async(_verify))
    imp = add_verb(funds_verbs, "funds import", common)
    add_argument(imp, "funds import", "file")
    add_argument(imp, "funds import", "--branch")
    add_argument(imp, "funds import", "--dry-run", action="store_true")
    imp.set_defaults(func=run_async(_import))
    out = add_verb(funds_verbs, "funds export", common)
    add_argument(out, "funds export", "period")
    add_argument(out, "funds export", "--branch")
    add_argument(out, "funds export", "--out", required=True)
    out.set_defaults(func=run_async(_export))


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
        tz = settings.union.tz
        values = {k: f"{v.astimezone(tz):%Y-%m-%d %H:%M}" if isinstance(v, datetime) else v
                  for k, v in problem.values.items()}
        print(say(T, "verify_problem", branch=branch, code=problem.code, number=problem.number,
                  values=values))
    print(say(T, "verify_summary", ledgers=len(reports), bad=bad,
              fingerprint=fingerprint(public) if public else ""))
    return 1 if bad else 0


# ---------------------------------------------------------------- import


async def _import(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from models.funds.budgets import check_budgets, read_budget_rows, store_budgets
    from models.funds.importing import Checked, ImportError_, import_rows

    path, tree = Path(args.file), settings.funds.tree
    today = datetime.now(settings.union.tz).date()
    try:
        budgets = check_budgets(await asyncio.to_thread(read_budget_rows, path), tree)
        checked = Checked() if path.suffix.lower() == ".toml" else await asyncio.to_thread(
            _entries_or_none, path, tree, today, settings.funds.max_amount_yuan, bool(budgets.budgets))
    except (ImportError_, OSError, ValueError) as exc:
        why = say(T, exc.code, **exc.values) if isinstance(exc, ImportError_) else str(exc)
        print(say(T, "import_failed", reason=why), file=sys.stderr)
        return 2
    default = args.branch or await _root_name(db)
    async with db.write() as session:
        report = await import_rows(session, checked, default_branch=default, now=datetime.now(UTC),
                                   write=not args.dry_run, progress=progress_bar(say(T, "importing")))
        stored = await store_budgets(session, budgets, default_branch=default) if not args.dry_run else 0
        if not args.dry_run:
            counts = {"added": report.added, "present": report.present, "budgets": stored,
                      "rejected": len(report.rejected) + len(budgets.rejected)}
            session.add(AuditLog(actor="cli", action="funds.import", target=f"file:{path.name}"[:128],
                                 after=json.dumps(counts, ensure_ascii=False)))
    print(say(T, "import_report", r=report, budgets=len(budgets.budgets),
              budget_rejected=reasons(budgets.rejected), rejected=reasons(report.rejected)))
    return 1 if report.rejected or budgets.rejected else 0


def reasons(rejected: Sequence[tuple[int, Sequence[Problem]]]) -> list[tuple[int, str]]:
    """Each refused row's number and why, one sentence per problem joined with 「；」."""
    return [(number, "；".join(say(T, problem.code, **problem.values) for problem in problems))
            for number, problems in rejected]


def _entries_or_none(path: Path, tree: CategoryTree, today: date, max_yuan: int, budgets: bool) -> Checked:
    """The ledger rows of ``path``; none for a workbook that only holds budgets."""
    from models.funds.importing import Checked, ImportError_, check_file

    try:
        return check_file(path, tree, today=today, max_yuan=max_yuan)
    except ImportError_:
        if budgets:
            return Checked()
        raise


async def _root_name(db: Database) -> str:
    async with db.read() as session:
        name = await session.scalar(select(col(Branch.name)).where(col(Branch.parent_id).is_(None))
                                    .order_by(col(Branch.id)).limit(1))
    return str(name) if name is not None else ""


# ---------------------------------------------------------------- export


async def _export(settings: Settings, db: Database, args: argparse.Namespace) -> int:
    path = Path(args.out)
    if path.suffix.lower() != ".xlsx":
        print(say(T, "export_not_xlsx", period=args.period), file=sys.stderr)
        return 2
    try:
        period = parse_period(args.period)
    except Refused as exc:
        print(say(T, "export_failed", reason=say(T, exc.code, **exc.values)), file=sys.stderr)
        return 2
    name = args.branch or await _root_name(db)
    data = await _statement_file(settings, db, name, period)
    if data is None:
        print(say(T, "export_no_ledger", name=name), file=sys.stderr)
        return 2
    try:
        await asyncio.to_thread(path.write_bytes, data)
    except OSError as exc:
        print(say(T, "write_failed", path=str(path), error=exc.strerror or str(exc)), file=sys.stderr)
        return 2
    print(say(T, "exported", ledger=name, label=period.label, path=str(path)))
    return 0


async def _statement_file(settings: Settings, db: Database, name: str, period: Period) -> bytes | None:
    """The 收支表 of the ledger of branch ``name``; None when it has no ledger."""
    from models.funds.export import statement_xlsx

    async with db.read() as session:
        branch = await session.scalar(select(Branch).where(col(Branch.name) == name))
        ledger = await find_ledger(session, branch.id or 0) if branch is not None else None
        if ledger is None or ledger.id is None:
            return None
        figs = await figures(session, settings.funds.tree, ledger, period)
        statement = await session.scalar(select(FundStatement).where(
            col(FundStatement.ledger_id) == ledger.id, col(FundStatement.period_key) == period.key))
    checkpoint = json.loads(statement.summary)["checkpoint"] if statement and statement.summary else None
    return statement_xlsx(name, figs, start=period.start, end=period.end, checkpoint=checkpoint, maker="",
                          today=datetime.now(settings.union.tz).date(), words=partial(say, T))
