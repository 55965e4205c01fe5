"""记账 (with a guided dialog in private chat), 冲销, 拨付 and 慰问 — officers' entries."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select

from bot import dialogs
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.messages import Reply
from bot.render import say
from bot.scope import reach, require_reach
from handlers.funds.common import (
    T,
    branch_label,
    branch_named,
    leading_branch,
    local_today,
    managed_branch,
    me,
    union_branch,
)
from models.funds.amounts import DEFAULT_MAX_YUAN, parse_amount, yuan
from models.funds.ledger import NewEntry, entry_by_number, find_ledger, record, reverse, transfer
from models.funds.refusals import Refused
from models.funds.relief import Payout, pay
from models.funds.tables import FundEntry, FundLedger, Kind, parse_entry_number
from models.members import member_by_staff_no

KIND_WORDS = {"收入": Kind.INCOME, "收": Kind.INCOME, "支出": Kind.EXPENSE, "支": Kind.EXPENSE}
_DAY = re.compile(r"(?:(?P<y>\d{4})[-/.年])?(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?")
_RELATIVE = {"今天": 0, "昨天": 1, "前天": 2}


def parse_entry_day(text: str, today: date) -> date | None:
    """A past day for an entry (``2026-12-03``, ``12月3日``, ``12-03``, ``昨天``); a day
    without a year is the latest one not after ``today``. None if ``text`` is no day."""
    if text in _RELATIVE:
        return today - timedelta(days=_RELATIVE[text])
    match = _DAY.fullmatch(text)
    if match is None:
        return None
    year = int(match["y"]) if match["y"] else today.year
    try:
        day = date(year, int(match["m"]), int(match["d"]))
    except ValueError:
        raise UserError(say(T, "day_bad", text=text, today=today.isoformat())) from None
    if match["y"] is None and day > today:
        day = day.replace(year=year - 1) if not (day.month == 2 and day.day == 29) else day
    return day


def _kind(text: str) -> str:
    kind = KIND_WORDS.get(text.strip())
    if kind is None:
        raise UserError(say(T, "kind_bad", text=text.strip()))
    return kind.value


def _amount_text(text: str) -> str:
    try:
        parse_amount(text, max_yuan=DEFAULT_MAX_YUAN)
    except Refused as exc:
        raise UserError(say(T, exc.code, **exc.values)) from None
    return text.strip()


def _text(text: str) -> str:
    if not text.strip():
        raise UserError(say(T, "description_missing"))
    return text.strip()


RECORD_DIALOG = dialogs.Dialog(
    name="funds_record",
    steps=(
        dialogs.Step("kind", (T, "ask_kind"), _kind),
        dialogs.Step("amount", (T, "ask_amount"), _amount_text),
        dialogs.Step("category", (T, "ask_category"), _text),
        dialogs.Step("description", (T, "ask_description"), _text),
    ),
    finish=lambda ctx, values: _finish_dialog(ctx, values),
    command="记账",
)


# ---------------------------------------------------------------- 记账


async def _parse_record(ctx: Context, words: list[str]) -> dict[str, Any]:
    """The fields written so far, each checked; stops at the first one missing."""
    values: dict[str, Any] = {}
    fields = [("kind", _kind), ("amount", _amount_text), ("category", _text)]
    for (key, parse), word in zip(fields, words, strict=False):
        values[key] = parse(word)
    rest = words[3:]
    if len(rest) > 1:
        day = parse_entry_day(rest[-1], local_today(ctx))
        if day is not None:
            values["day"], rest = day.isoformat(), rest[:-1]
    if rest:
        values["description"] = " ".join(rest)
    return values


async def record_command(ctx: Context, args: str) -> Reply | str:
    branch, words = await leading_branch(ctx, args.split())
    values = await _parse_record(ctx, words)
    if branch is not None:
        values["branch"] = await managed_branch(ctx, branch)
    if RECORD_DIALOG.next_step(values) is None:
        return await _record(ctx, values)
    if ctx.is_group:
        raise UserError(say(T, "record_usage"))
    return await dialogs.start(ctx, RECORD_DIALOG, values)


async def _finish_dialog(ctx: Context, values: dict[str, Any]) -> Reply | str:
    """The dialog's last answer: record, or ask again for a category that is not one."""
    try:
        ctx.settings.funds.tree.match(values["category"], values["kind"])
    except Refused as exc:
        values.pop("category")
        again = await dialogs.start(ctx, RECORD_DIALOG, values)
        return Reply(say(T, exc.code, **exc.values) + "\n" + again.text)
    try:
        return await _record(ctx, values)
    except Refused as exc:
        raise UserError(say(T, exc.code, **exc.values)) from None


async def _record(ctx: Context, values: dict[str, Any]) -> str:
    settings, today = ctx.settings.funds, local_today(ctx)
    kind = Kind(values["kind"])
    amount = parse_amount(values["amount"], max_yuan=settings.max_amount_yuan)
    category = settings.tree.match(values["category"], kind.value)
    day = date.fromisoformat(values["day"]) if "day" in values else today
    branch = int(values.get("branch") or me(ctx).branch_id)
    entry, ledger = await record(ctx.session, branch, NewEntry(
        kind=kind, amount_fen=amount, category_code=category.code, description=values["description"],
        occurred_on=day, recorded_by=me(ctx).id,
    ), now=ctx.now, today=today)
    path = settings.tree.path(category.code)
    await ctx.audit("funds.record", f"fund_entry:{branch}:{entry.number}", after={
        "kind": kind.value, "amount_fen": amount, "category": path, "description": entry.description,
        "occurred_on": day, "balance_fen": ledger.balance_fen})
    return say(T, "recorded", entry=entry.number, kind=kind.label, amount=yuan(amount), path=path,
               balance=yuan(ledger.balance_fen), ledger=await branch_label(ctx, branch), day=day.isoformat())


# ---------------------------------------------------------------- 冲销


async def _ledger_of_number(ctx: Context, number: str) -> int:
    """The branch whose ledger holds ``number``: the sender's own first, else the one in reach."""
    own = await find_ledger(ctx.session, me(ctx).branch_id)
    if own is not None and await entry_by_number(ctx.session, own.id or 0, number) is not None:
        return own.branch_id
    mine = await reach(ctx)
    rows = await ctx.session.execute(
        select(col(FundLedger.branch_id)).join(FundEntry, col(FundEntry.ledger_id) == col(FundLedger.id))
        .where(col(FundEntry.number) == number))
    found = [int(b) for (b,) in rows.all() if mine.covers(int(b))]
    if len(found) > 1:
        raise UserError(say(T, "entry_in_several", number=number,
                            branches=[await branch_label(ctx, b) for b in found]))
    if not found:
        raise Refused("entry_unknown", number=number)
    return found[0]


async def reverse_command(ctx: Context, args: str) -> str:
    branch, words = await leading_branch(ctx, args.split())
    if not words:
        raise UserError(say(T, "reverse_usage"))
    number = parse_entry_number(words[0])
    if number is None:
        raise UserError(say(T, "entry_bad", text=words[0]))
    reason = " ".join(words[1:])
    if not reason:
        raise UserError(say(T, "reverse_reason_missing", number=number))
    branch_id = await managed_branch(ctx, branch) if branch else await _ledger_of_number(ctx, number)
    ledger = await find_ledger(ctx.session, branch_id)
    original = await entry_by_number(ctx.session, ledger.id or 0, number) if ledger else None
    if original is not None and original.transfer_key is not None and not (await reach(ctx)).union_wide:
        raise PermissionDenied(say(T, "transfer_union_only"))
    done = await reverse(ctx.session, branch_id, number, recorded_by=me(ctx).id, now=ctx.now,
                         today=local_today(ctx),
                         description=say(T, "reversal_description", number=number, reason=reason))
    after = await find_ledger(ctx.session, branch_id)
    original = done.original
    await ctx.audit("funds.reverse", f"fund_entry:{branch_id}:{number}",
                    before={"number": number, "amount_fen": original.amount_fen, "kind": original.kind},
                    after={"reversals": [e.number for e in done.entries], "reason": reason})
    return say(T, "reversed", original=number, entries=[e.number for e in done.entries],
               amount=yuan(done.original.amount_fen), balance=yuan(after.balance_fen if after else 0),
               ledger=await branch_label(ctx, branch_id))


# ---------------------------------------------------------------- 拨付


async def transfer_command(ctx: Context, args: str) -> str:
    words = args.split()
    if len(words) < 3:
        raise UserError(say(T, "transfer_usage"))
    if not (await reach(ctx)).union_wide:
        raise PermissionDenied(say(T, "transfer_union_only"))
    branch = await branch_named(ctx, words[0])
    if branch is None or branch.id is None:
        raise UserError(say(T, "branch_unknown", name=words[0]))
    settings, union = ctx.settings.funds, await union_branch(ctx)
    amount = parse_amount(words[1], max_yuan=settings.max_amount_yuan)
    text, union_name = " ".join(words[2:]), await branch_label(ctx, union)
    done = await transfer(
        ctx.session, union_branch=union, branch=branch.id, amount_fen=amount, recorded_by=me(ctx).id,
        categories=(settings.tree.match(settings.transfer_expense, "expense").code,
                    settings.tree.match(settings.transfer_income, "income").code),
        descriptions=(say(T, "transfer_out", branch=branch.name, text=text),
                      say(T, "transfer_in", union=union_name, text=text)),
        now=ctx.now, today=local_today(ctx))
    await ctx.audit("funds.transfer", f"branch:{branch.id}", after={
        "amount_fen": amount, "description": text, "paid": done.paid.number,
        "received": done.received.number})
    return say(T, "transferred", branch=branch.name, amount=yuan(amount), paid=done.paid.number,
               received=done.received.number, union_balance=yuan(done.union_ledger.balance_fen),
               branch_balance=yuan(done.branch_ledger.balance_fen))


# ---------------------------------------------------------------- 慰问


async def relief_command(ctx: Context, args: str) -> str:
    settings = ctx.settings.funds
    kinds = list(settings.relief_types)
    words = args.split()
    if len(words) < 3:
        raise UserError(say(T, "relief_usage", kinds=kinds))
    member = await member_by_staff_no(ctx.session, words[0])
    if member is None or member.id is None or not member.active:
        raise UserError(say(T, "member_unknown", staff_no=words[0]))
    await require_reach(ctx, member.branch_id, what=say(T, "member_what", staff_no=member.staff_no))
    if words[1] not in settings.relief_types:
        raise UserError(say(T, "relief_kind_unknown", text=words[1], kinds=kinds))
    kind, amount = words[1], parse_amount(words[2], max_yuan=settings.max_amount_yuan)
    limit = settings.limit_fen(kind)
    entry, _ledger, total = await pay(ctx.session, me(ctx).branch_id, Payout(
        member_id=member.id, kind=kind, amount_fen=amount, limit_fen=limit,
        category_code=settings.tree.match(settings.relief_types[kind], "expense").code,
        reason=" ".join(words[3:]) or None, description=say(T, "relief_description", kind=kind),
    ), recorded_by=me(ctx).id, now=ctx.now, today=local_today(ctx))
    await ctx.audit("funds.relief", f"member:{member.id}", after={
        "kind": kind, "amount_fen": amount, "entry": entry.number, "year_total_fen": total})
    return say(T, "relief_done", name=member.name, kind=kind, amount=yuan(amount), entry=entry.number,
               total=yuan(total), limit=yuan(limit) if limit is not None else "")
