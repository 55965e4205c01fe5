"""公示: publish with a 公示期 (at once or 发布 <时间>), list, show, and the private dialog.

``公示 <标题> [条件 G3] 期满 <日期|N个工作日> <内容> [发布 <时间>]``; without 期满 the
period is ``[notices] objection_days`` working days. The kind (评优条件 / 评优结果 / 经费 /
院务 / 其他) comes from the title's words; in a private chat the bot asks when it cannot
tell, in a group it is 其他. ``发布公示`` alone in a private chat asks for each part in turn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import dialogs
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.messages import Reply
from bot.publication import local, publish_to_groups
from bot.registry import Command, Registry
from bot.render import say
from handlers.notices.common import T, find, groups_text, list_reply, page_number, speaks, split_schedule
from handlers.notices.terms import detect_category, parse_category, read_term, split_conditions, split_term
from handlers.notices.views import show_disclosure
from handlers.notices.withdraw import withdraw_command
from models.notices.publish import Draft, create
from models.notices.tables import Kind, State, parse_number
from models.org import Role


def _text(limit: int, macro: str) -> Any:
    def parse(text: str) -> str:
        value = text.strip()
        if not value or len(value) > limit:
            raise UserError(say(T, macro, limit=limit))
        return value

    return parse


def _term(text: str) -> str:
    value = text.strip()
    return "" if value in ("默认", "按默认", "默认期限") else value


DIALOG = dialogs.Dialog(
    name="disclosure",
    steps=(
        dialogs.Step("title", (T, "ask_title"), _text(100, "bad_title")),
        dialogs.Step("category", (T, "ask_category"), parse_category),
        dialogs.Step("term", (T, "ask_term"), _term),
        dialogs.Step("body", (T, "ask_body"), _text(10_000, "bad_body")),
    ),
    finish=lambda ctx, values: finish(ctx, values),
    command="发布公示",
)


def register(registry: Registry) -> None:
    registry.add(Command(
        name="公示", handler=speaks(disclosure_command), topic="notices", args_optional=True,
        summary="查看公示；干部发布公示（公示期按工作日计算）",
        usage="公示 [<编号>|<页码>]　或　公示 <标题> 期满 <日期|N个工作日> <内容> [发布 <时间>]",
        example="公示 2026年度工会积极分子评选结果 期满 5个工作日 经各分工会推荐，拟评选张三等10人",
    ))
    registry.add(Command(
        name="发布公示", handler=speaks(new_disclosure_command), role=Role.OFFICER, topic="notices",
        summary="发布公示（私聊只发「发布公示」可一步一步填写）", args_optional=True,
        usage="发布公示 <标题> 期满 <日期|N个工作日> <内容> [发布 <时间>]",
        example="发布公示 经费收支情况 期满 12月11日 2026年第四季度收支如下……",
    ))
    registry.add(Command(
        name="撤回公示", handler=speaks(withdraw_command(Kind.DISCLOSURE)), role=Role.OFFICER,
        topic="notices", summary="撤回公示：定时的不再发布，已发到群里的补发撤回说明",
        usage="撤回公示 <编号>", example="撤回公示 S8",
    ))
    registry.add_dialog(DIALOG)


async def disclosure_command(ctx: Context, args: str) -> Reply | str:
    text = args.strip()
    if not text:
        return await list_reply(ctx, Kind.DISCLOSURE, 1)
    page = page_number(text)
    if page is not None:
        return await list_reply(ctx, Kind.DISCLOSURE, page)
    if parse_number(text, "S") is not None:
        return await show_disclosure(ctx, await find(ctx, Kind.DISCLOSURE, text))
    if not ctx.has_role(Role.OFFICER):
        raise PermissionDenied(say(T, "officers_publish", word="公示"))
    return await new_disclosure_command(ctx, text)


async def new_disclosure_command(ctx: Context, args: str) -> Reply | str:
    values = _values(ctx, args)
    if not values.get("title") or not values.get("body"):
        if ctx.is_group:
            raise UserError(say(T, "disclosure_usage"))
        return await dialogs.start(ctx, DIALOG, values)
    if "category" not in values:
        if not ctx.is_group:
            return await dialogs.start(ctx, DIALOG, values)
        values["category"] = "其他"
    return await finish(ctx, values)


def _values(ctx: Context, args: str) -> dict[str, Any]:
    text, when = split_schedule(ctx, args)
    values: dict[str, Any] = {}
    if when is not None:
        values["publish_at"] = when.isoformat()
    if not text:
        return values
    title, term, body = split_term(text)
    title, conditions = split_conditions(title)
    values.update(title=title, term=term or "", body=body, conditions=conditions or "")
    category = detect_category(title)
    if category is not None:
        values["category"] = category
    if not body:
        del values["body"]
    return values


async def finish(ctx: Context, values: dict[str, Any]) -> Reply | str:
    assert ctx.member is not None and ctx.member.id is not None
    settings = ctx.settings.notices
    title, body = values["title"], values["body"]
    if len(title) > settings.title_max_chars:
        raise UserError(say(T, "bad_title", limit=settings.title_max_chars))
    if len(body) > settings.text_max_chars:
        raise UserError(say(T, "too_long", word="公示", limit=settings.text_max_chars))
    publish_at = datetime.fromisoformat(values["publish_at"]) if values.get("publish_at") else ctx.now
    term = read_term(ctx, values.get("term") or None, publish_at)
    wanted = values.get("conditions")
    conditions = await find(ctx, Kind.ANNOUNCEMENT, wanted) if wanted else None
    notice = await create(ctx.session, Draft(
        kind=Kind.DISCLOSURE, branch_id=ctx.member.branch_id, author_id=ctx.member.id, title=title,
        body=body, category=values["category"], publish_at=publish_at, ends_at=term.ends_at,
        estimated=bool(term.estimated_years), refers_to_id=conditions.id if conditions else None,
    ), ctx.now)
    await ctx.audit("notice_publish" if notice.state == State.PUBLISHED else "notice_schedule",
                    f"notice:{notice.number}", after={
                        "title": title, "category": notice.category, "body": body,
                        "publish_at": notice.publish_at, "ends_at": notice.ends_at})
    common = {"notice": notice, "ends": local(term.ends_at, ctx.tz), "term": term,
              "published": local(notice.publish_at, ctx.tz)}
    if notice.state == State.SCHEDULED:
        return say(T, "disclosure_scheduled", **common)
    result = await publish_to_groups(ctx.session, ctx.settings, notice)
    return say(T, "disclosure_done", groups=groups_text(result), **common)
