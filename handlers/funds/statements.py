"""经费 (balance and the period's totals), 经费公示 (draft, submit, publish) and 审核 (经审)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from bot.broadcast import queue_broadcast
from bot.context import Context
from bot.errors import UserError
from bot.notify import Notified, notify_members
from bot.render import say
from handlers.funds.common import (
    T,
    branch_label,
    leading_branch,
    local_today,
    managed_branch,
    me,
    with_role,
)
from models.funds import statements as flow
from models.funds.amounts import yuan
from models.funds.checkpoints import load_or_create_key
from models.funds.figures import Figures, figure_values, figures
from models.funds.ledger import find_ledger, open_ledger
from models.funds.periods import Kind as PeriodKind
from models.funds.periods import Period, parse_period, period_of
from models.funds.tables import FundLedger, FundStatement, StatementStatus
from models.org import Role

_PUBLISH_KINDS: dict[str, PeriodKind] = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}


def current_period(ctx: Context) -> Period:
    return period_of(_PUBLISH_KINDS.get(ctx.settings.funds.publish, "month"), local_today(ctx))


def board_link(ctx: Context, branch_id: int, period_key: str) -> str:
    return f"{ctx.settings.server.public_url.rstrip('/')}/board/funds/{period_key}?branch={branch_id}"


# ---------------------------------------------------------------- 经费


async def balance_command(ctx: Context, args: str) -> str:
    tree = ctx.settings.funds.tree
    if args.strip() == "科目":
        return say(T, "categories", categories=list(tree.by_code.values()))
    branch, words = await leading_branch(ctx, args.split())
    branch_id = branch.id if branch is not None and branch.id is not None else me(ctx).branch_id
    period = parse_period(words[0]) if words else current_period(ctx)
    ledger = await find_ledger(ctx.session, branch_id)
    last = None
    values: dict[str, Any] = {"income": "0.00", "expense": "0.00", "income_lines": [], "expense_lines": []}
    if ledger is not None and ledger.id is not None:
        values = figure_values(await figures(ctx.session, tree, ledger, period))
        found = await flow.last_published(ctx.session, ledger.id)
        if found is not None and found.published_at is not None:
            last = {"number": found.number, "label": parse_period(found.period_key).label,
                    "date": found.published_at.astimezone(ctx.tz).date().isoformat()}
    return say(T, "balance", ledger=await branch_label(ctx, branch_id), period=period.label, figures=values,
               balance=yuan(ledger.balance_fen if ledger else 0), last=last)


# ---------------------------------------------------------------- 经费公示


async def statement_text(
    ctx: Context, statement: FundStatement, figs: Figures, checkpoint: Any = None
) -> str:
    ledger = await ctx.session.get(FundLedger, statement.ledger_id)
    assert ledger is not None
    maker = me(ctx).name if ctx.member is not None else ""
    return say(T, "statement_text", s=figure_values(figs) | {
        "ledger": await branch_label(ctx, ledger.branch_id), "number": statement.number,
        "checkpoint": checkpoint, "maker": maker})


async def statement_command(ctx: Context, args: str) -> str:
    branch, words = await leading_branch(ctx, args.split())
    publish = bool(words) and words[-1] == "发布"
    words = words[:-1] if publish else words
    if not words:
        raise UserError(say(T, "statement_usage"))
    period = parse_period(words[0])
    branch_id = await managed_branch(ctx, branch)
    today = local_today(ctx)
    ledger = await open_ledger(ctx.session, branch_id, opened_on=date(today.year, 1, 1))
    statement, _made = await flow.draft(ctx.session, ledger, period, by=me(ctx).id, now=ctx.now)
    figs = await figures(ctx.session, ctx.settings.funds.tree, ledger, period)
    reviewers = await with_role(ctx, branch_id, Role.AUDITOR) if ctx.settings.funds.require_review else []
    if not publish:
        await ctx.audit("funds.statement_draft", f"fund_statement:{statement.id}",
                        after={"number": statement.number, "status": statement.status})
        return say(T, "drafted", text=await statement_text(ctx, statement, figs), number=statement.number,
                   period=period.key, review=bool(reviewers))
    before = statement.status
    status = flow.submit(statement, period, needs_review=bool(reviewers), today=today)
    await ctx.audit("funds.statement_submit", f"fund_statement:{statement.id}",
                    before={"status": before}, after={"number": statement.number, "status": status.value})
    if status is StatementStatus.REVIEW:
        told = await notify_members(
            ctx.session, settings=ctx.settings, member_ids=[m.id for m in reviewers if m.id is not None],
            key=lambda m: f"funds:{statement.number}:{branch_id}:review:{ctx.incoming.dedup_key}:member:{m}",
            text=say(T, "review_request", text=await statement_text(ctx, statement, figs),
                     number=statement.number))
        return say(T, "sent_to_review", number=statement.number, reviewers=[m.name for m in reviewers],
                   told=say("notify", "told", result=told))
    return await publish_now(ctx, statement, ledger, period, figs)


async def publish_now(
    ctx: Context, statement: FundStatement, ledger: FundLedger, period: Period, figs: Figures,
) -> str:
    """Publish with a signed checkpoint; queue the summary for the branch's groups once."""
    path = Path(ctx.settings.funds.key_file)
    key = await asyncio.to_thread(load_or_create_key, path)
    checkpoint = await flow.publish(ctx.session, statement, ledger, figs, key=key, key_path=path,
                                    by=me(ctx).id, now=ctx.now)
    link = board_link(ctx, ledger.branch_id, period.key)
    name = await branch_label(ctx, ledger.branch_id)
    result = await queue_broadcast(
        ctx.session, settings=ctx.settings, branch_id=ledger.branch_id, key=f"funds-statement-{statement.id}",
        text=say(T, "group_summary", ledger=name, label=period.label, number=statement.number,
                 opening=yuan(figs.opening_fen), income=yuan(figs.income_fen), expense=yuan(figs.expense_fen),
                 closing=yuan(figs.closing_fen), link=link))
    await ctx.audit("funds.statement_publish", f"fund_statement:{statement.id}", after={
        "number": statement.number, "checkpoint": checkpoint.id, "entries": checkpoint.entry_count,
        "head": checkpoint.head_hash, "groups": len(result.queued) + len(result.already)})
    return say(T, "published", number=statement.number, label=period.label,
               groups=len(result.queued) + len(result.already),
               unreachable=[chat.name or chat.chat_id for chat, _reason in result.unreachable], link=link)


# ---------------------------------------------------------------- 审核


async def review_command(ctx: Context, args: str) -> str:
    words = args.split()
    if len(words) < 2 or words[1] not in ("通过", "退回"):
        raise UserError(say(T, "review_usage"))
    period = flow.parse_statement_number(words[0])
    if period is None:
        raise UserError(say(T, "statement_bad", text=words[0]))
    number, note = f"F{period.key}", " ".join(words[2:]) or None
    if words[1] == "退回" and not note:
        raise UserError(say(T, "review_note_missing", number=number))
    ledger = await find_ledger(ctx.session, me(ctx).branch_id)
    if ledger is None or ledger.id is None:
        raise UserError(say(T, "statement_unknown", number=number, label=period.label))
    ledger = await open_ledger(ctx.session, ledger.branch_id, opened_on=ledger.opened_on)
    statement = await flow.lock_statement(ctx.session, ledger.id or 0, period)
    status = flow.review(statement, approve=words[1] == "通过", reviewer=me(ctx).id or 0, note=note)
    await ctx.audit("funds.statement_review", f"fund_statement:{statement.id}", before={"status": "review"},
                    after={"number": number, "status": status.value, "note": note})
    officers = [m.id for m in await with_role(ctx, ledger.branch_id, Role.OFFICER) if m.id is not None]
    key = f"funds:{number}:{ledger.branch_id}:{status.value}:{ctx.incoming.dedup_key}"
    if status is StatementStatus.RETURNED:
        told = await _tell(ctx, officers, key, say(T, "n_returned", number=number, reviewer=me(ctx).name,
                                                   note=note))
        return say(T, "returned", number=number, told=say("notify", "told", result=told))
    figs = await figures(ctx.session, ctx.settings.funds.tree, ledger, period)
    published = await publish_now(ctx, statement, ledger, period, figs)
    await _tell(ctx, officers, key, say(T, "n_approved", number=number, reviewer=me(ctx).name))
    return say(T, "approved", number=number, published_text=published)


async def _tell(ctx: Context, member_ids: list[int], key: str, text: str) -> Notified:
    return await notify_members(ctx.session, settings=ctx.settings, member_ids=member_ids,
                                key=lambda m: f"{key}:member:{m}", text=text, skip=me(ctx).id)
