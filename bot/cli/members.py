"""``unionbot members import``: the roster, and the wording of what the import found."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_argument, add_subverbs, add_verb, in_background, progress_bar, run_quiet
from bot.config import Settings
from bot.render import say

if TYPE_CHECKING:
    from models.roster import ImportReport, Problem


def add_parsers(verbs: Any, common: argparse.ArgumentParser) -> None:
    members = add_verb(verbs, "members")
    imp = add_verb(add_subverbs(members, "members"), "members import", common)
    add_argument(imp, "members import", "file")
    add_argument(imp, "members import", "--dry-run", action="store_true")
    add_argument(imp, "members import", "--deactivate-missing", action="store_true")
    imp.set_defaults(func=run_quiet(_members_import))


def reason(problems: Sequence[Problem]) -> str:
    """Why a row is refused (or a file cannot be used), one sentence per problem."""
    return "；".join(say("roster", problem.code, **problem.values) for problem in problems)


def summary(report: ImportReport) -> str:
    """One line of counts, then one line per refused row."""
    reasons = [reason(rejection.problems) for rejection in report.rejected]
    return say("roster", "summary", report=report, reasons=reasons)


async def _members_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_database
    from models.roster import RosterError, import_roster

    in_background()
    async with open_database(settings) as db:
        try:
            report = await import_roster(
                db=db, path=Path(args.file), union_name=settings.union.name,
                dry_run=args.dry_run, deactivate_missing=args.deactivate_missing,
                progress=progress_bar(say("cli", "importing")),
            )
        except RosterError as exc:
            print(say("roster", "failed", reason=reason([exc.problem])), file=sys.stderr)
            return 2
    print(summary(report))
    return 1 if report.rejected else 0
