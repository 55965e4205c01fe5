"""Filing a proposal — 提交提案: who may file and when, the fields, the guided dialog.

A proposal needs 标题 (案由), 理由 and 建议, and optionally a 类别 from the config.
They come in one message (``提案 标题：… 理由：… 建议：…``) or, in a private chat,
one question at a time. Each question is a one-step dialog whose finish checks the
answer against the configured limits at once and asks the next question, so a
too-long title or an unknown category is refused right after it is typed.
"""

from __future__ import annotations

from typing import Any

from bot import dialogs
from bot.args import parse_pairs
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.messages import Reply
from bot.registry import Registry
from bot.render import say
from bot.text import shown
from handlers.proposals.common import T, clean_text, close_day, day_text, local_today, policy, record
from models.org import Role
from models.proposals import flow, rounds
from models.proposals.tables import TITLE_COLUMN, Status

FIELD_KEYS = ("标题", "案由", "理由", "建议", "类别")
FIELDS = ("title", "reason", "suggestion", "category")  # the order the dialog asks in
FIELD_NAMES = {"title": "标题", "reason": "理由", "suggestion": "建议", "category": "类别"}
REQUIRED = ("title", "reason", "suggestion")
NO_CATEGORY = frozenset({"无", "不选", "跳过", "不分类", "没有"})


class BadField(Exception):
    """A field that cannot be used: ``key`` names it, ``message`` says why."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# ---------------------------------------------------------------- who and when


async def filing_round(ctx: Context) -> int | None:
    """May the sender file now? The open round's id (None: open all year), else refused."""
    rules = ctx.settings.proposals
    if rules.filers == "representatives" and not ctx.has_role(Role.REPRESENTATIVE):
        raise PermissionDenied(say(T, "not_filer"))
    current = await rounds.open_round_id(ctx.session, ctx.now)
    if current is not None:
        return current
    if rules.open_all_year:
        return None
    last = await rounds.latest_round(ctx.session)
    if last is None or last.opens_at > ctx.now:
        raise UserError(say(T, "round_never"))
    raise UserError(say(T, "round_closed", name=last.name, closes=day_text(close_day(ctx, last.closes_at))))


# ---------------------------------------------------------------- fields


def read_fields(args: str) -> dict[str, str]:
    """``标题：… 理由：… 建议：… 类别：…`` → the fields given (text before any key is the title)."""
    pairs = parse_pairs(args, FIELD_KEYS)
    if "标题" in pairs and "案由" in pairs:
        raise UserError(say("args", "duplicate_key", key="标题", keys=["标题", "理由", "建议"]))
    head = pairs.pop("", None)
    title = pairs.pop("标题", None)
    title = pairs.pop("案由", None) if title is None else title
    if head is not None and title is not None:
        raise UserError(say(T, "file_usage"))
    values = {"title": head if title is None else title}
    for key in ("reason", "suggestion", "category"):
        if FIELD_NAMES[key] in pairs:
            values[key] = pairs[FIELD_NAMES[key]]
    return {key: value for key, value in values.items() if value is not None}


def check_fields(ctx: Context, values: dict[str, Any]) -> dict[str, str]:
    """The fields present, checked against the configured limits and categories."""
    rules = ctx.settings.proposals
    limits = {"title": min(rules.title_max_chars, TITLE_COLUMN), "reason": rules.text_max_chars,
              "suggestion": rules.text_max_chars}
    checked: dict[str, str] = {}
    for key, limit in limits.items():
        if key in values:
            text = " ".join(str(values[key]).split()) if key == "title" else str(values[key])
            try:
                checked[key] = clean_text(text, FIELD_NAMES[key], limit)
            except UserError as exc:
                raise BadField(key, exc.message) from None
    if "category" in values:
        checked["category"] = pick_category(ctx, str(values["category"]))
    return checked


def pick_category(ctx: Context, text: str) -> str:
    """A configured category by name or by its number in the list; "" for none."""
    categories = ctx.settings.proposals.categories
    text = text.strip()
    if not text or text in NO_CATEGORY:
        return ""
    if not categories:
        raise BadField("category", say(T, "no_categories"))
    if text.isdigit() and 1 <= int(text) <= len(categories):
        return categories[int(text) - 1]
    if text in categories:
        return text
    raise BadField("category", say(T, "bad_category", text=shown(text, 20), categories=categories))


async def file_proposal(ctx: Context, values: dict[str, str], round_id: int | None) -> str:
    """File the checked fields; the audit log keeps the full text."""
    assert ctx.member is not None and ctx.member.id is not None
    draft = flow.Draft(values["title"], values["reason"], values["suggestion"],
                       values.get("category") or None)
    change = await flow.file(
        ctx.session, draft=draft, proposer_id=ctx.member.id, round_id=round_id,
        year=local_today(ctx).year, now=ctx.now, policy=policy(ctx),
    )
    await record(ctx, change, reason=draft.reason, suggestion=draft.suggestion)
    return say(T, "filed", number=change.number, title=draft.title,
               needed=ctx.settings.proposals.min_cosigners, to_review=change.after is Status.REVIEW)


async def file_from_message(ctx: Context, args: str) -> Reply | str:
    """``提案 …`` with some text: file it, or (private chat) ask for what is missing."""
    round_id = await filing_round(ctx)
    if not args:
        if ctx.is_group:
            raise UserError(say(T, "file_usage"))
        return await ask_next(ctx, {}, opening=True)
    values = read_fields(args)
    try:
        checked = check_fields(ctx, values)
    except BadField as bad:
        raise UserError(bad.message) from None
    missing = [FIELD_NAMES[key] for key in REQUIRED if key not in checked]
    if missing and ctx.is_group:
        raise UserError(say(T, "file_missing", missing=missing))
    if missing:
        return await ask_next(ctx, checked, opening=True)
    return await file_proposal(ctx, checked, round_id)


# ---------------------------------------------------------------- the guided dialog


def _answer(text: str) -> str:
    value = text.strip()
    if not value:
        raise UserError(say(T, "field_empty", field="这一项"))
    return value


async def _after_answer(ctx: Context, values: dict[str, Any]) -> Reply | str:
    """Check what has been answered so far, then ask the next question or file."""
    try:
        checked = check_fields(ctx, values)
    except BadField as bad:
        values.pop(bad.key)
        return await ask_next(ctx, values, error=bad.message)
    return await ask_next(ctx, checked)


def _step_dialog(key: str) -> dialogs.Dialog:
    return dialogs.Dialog(
        name=f"proposal_{key}", steps=(dialogs.Step(key, (T, f"ask_{key}"), _answer),),
        finish=_after_answer, command="提案",
    )


DIALOGS = {key: _step_dialog(key) for key in FIELDS}


def register_dialogs(registry: Registry) -> None:
    for dialog in DIALOGS.values():
        registry.add_dialog(dialog)


def question(ctx: Context, key: str) -> str:
    """The question for a field; the category one lists the configured categories."""
    if key == "category":
        return say(T, "category_question", categories=ctx.settings.proposals.categories)
    return DIALOGS[key].steps[0].ask()


async def ask_next(
    ctx: Context, values: dict[str, Any], *, error: str | None = None, opening: bool = False
) -> Reply | str:
    """Ask for the first field still missing (one question per message), or file."""
    if not ctx.settings.proposals.categories:
        values.setdefault("category", "")
    missing = next((key for key in FIELDS if key not in values), None)
    if missing is None:
        return await file_proposal(ctx, values, await filing_round(ctx))
    await dialogs.start(ctx, DIALOGS[missing], values)
    return Reply(say(T, "dialog_question", question=question(ctx, missing), error=error, opening=opening))
