"""Proposals after filing: collection rounds (提案征集), review by officers (立案, 不立案,
转建议), replies by the departments' 承办人 (答复) and ratings by proposers (评价)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.args import parse_day, parse_pairs
from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.notify import Notified
from bot.registry import Command, Registry
from bot.render import say
from bot.text import shown
from handlers.proposals.common import (
    T,
    clean_text,
    close_day,
    day_text,
    example_day,
    known_departments,
    local_today,
    month_day,
    policy,
    record,
    round_days,
    speaks,
    take_number,
    tell,
)
from models.org import Role
from models.proposals import flow, rounds
from models.proposals.queries import cosigner_ids, handler_ids
from models.proposals.tables import BEFORE_REVIEW, Outcome, Rating, Status

OUTCOME_WORDS = {"不能采纳": Outcome.DECLINED, "不予采纳": Outcome.DECLINED, "不采纳": Outcome.DECLINED,
                 "采纳": Outcome.ADOPTED, "暂缓": Outcome.DEFERRED, "暂缓采纳": Outcome.DEFERRED}
RATING_WORDS = {"基本满意": Rating.FAIR, "不满意": Rating.UNSATISFIED, "满意": Rating.SATISFIED}
SEPARATORS = re.compile(r"[\s、,，;；]+")
REASON_KEY = re.compile(r"^理由(?:\s*[:：]\s*|\s+)")


def register(registry: Registry) -> None:
    registry.add(Command(
        name="提案征集", handler=speaks(round_command), topic="proposals",
        summary="查看提案征集时间；干部可发起、改截止日期或结束征集",
        usage="提案征集 [开始 <名称> 截止 <日期> | 截止 <日期> | 结束]",
        example="提案征集 开始 六届三次教代会 截止 2026-12-31",
    ))
    registry.add(Command(
        name="立案", handler=speaks(accept_command), role=Role.OFFICER, topic="proposals",
        args_optional=True,
        summary="提案立案，交主办（和协办）部门办理",
        usage="立案 <编号> 主办 <部门> [协办 <部门>…] [期限 <日期>]",
        example="立案 T2026-007 主办 后勤管理处 协办 财务处 期限 2026-12-31",
    ))
    registry.add(Command(
        name="不立案", handler=speaks(reject_command), role=Role.OFFICER, topic="proposals",
        args_optional=True,
        summary="提案不予立案，写明理由", usage="不立案 <编号> <理由>",
        example="不立案 T2026-007 属于个人诉求，不符合立案条件",
    ))
    registry.add(Command(
        name="转建议", handler=speaks(convert_command), role=Role.OFFICER, topic="proposals",
        args_optional=True,
        summary="提案转为意见建议处理，写明理由", usage="转建议 <编号> <理由>",
        example="转建议 T2026-007 可由后勤管理处直接改进，转为意见建议",
    ))
    registry.add(Command(
        name="答复", handler=speaks(reply_command), role=Role.HANDLER, topic="proposals",
        args_optional=True,
        summary="承办人答复本部门承办的提案（评价前可再发一次修改）",
        usage="答复 <编号> 采纳|暂缓|不能采纳 <内容>",
        example="答复 T2026-007 采纳 自12月1日起晚餐供应延长至19:30",
    ))
    registry.add(Command(
        name="评价", handler=speaks(rate_command), topic="proposals",
        args_optional=True,
        summary="提案人评价答复", usage="评价 <编号> 满意|基本满意|不满意 [意见]",
        example="评价 T2026-007 基本满意 希望尽快落实",
    ))


def _require_officer(ctx: Context, command: str) -> None:
    if not ctx.has_role(Role.OFFICER):
        raise PermissionDenied(say("basics", "denied", command=command, role=Role.OFFICER.label))


def _officer_id(ctx: Context) -> int:
    assert ctx.member is not None and ctx.member.id is not None
    return ctx.member.id


# ---------------------------------------------------------------- 提案征集


def _close_of(ctx: Context, day: date) -> datetime:
    """A round closing on ``day`` accepts proposals until the end of that local day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.tz).astimezone(UTC)


async def round_command(ctx: Context, args: str) -> str:
    if not args:
        return await _show_round(ctx)
    pairs = parse_pairs(args, ("开始", "截止", "结束"))
    if "" in pairs:
        raise UserError(say(T, "round_usage", **round_days(ctx)))
    if "结束" in pairs:
        _require_officer(ctx, "提案征集 结束")
        if pairs["结束"] or len(pairs) > 1:
            raise UserError(say(T, "round_usage", **round_days(ctx)))
        ended = await rounds.end_round(ctx.session, now=ctx.now)
        await ctx.audit("proposal_round.end", f"proposal_round:{ended.id}", after={"name": ended.name})
        return say(T, "round_ended", name=ended.name)
    _require_officer(ctx, "提案征集 开始" if "开始" in pairs else "提案征集 截止")
    if not pairs.get("截止"):
        raise UserError(say(T, "round_usage", **round_days(ctx)))
    day = parse_day(pairs["截止"], now=ctx.now, tz=ctx.tz)
    if "开始" not in pairs:
        found, before = await rounds.move_round_close(ctx.session, closes_at=_close_of(ctx, day), now=ctx.now)
        await ctx.audit("proposal_round.move", f"proposal_round:{found.id}",
                        before={"closes_at": before}, after={"closes_at": found.closes_at})
        return say(T, "round_moved", name=found.name, closes=day_text(day),
                   before=day_text(close_day(ctx, before)))
    name = " ".join(pairs["开始"].split())
    if not name or len(name) > 64:
        raise UserError(say(T, "round_usage", **round_days(ctx)))
    started = await rounds.start_round(
        ctx.session, name=name, closes_at=_close_of(ctx, day), officer_id=_officer_id(ctx), now=ctx.now
    )
    await ctx.audit("proposal_round.start", f"proposal_round:{started.id}",
                    after={"name": name, "closes_at": started.closes_at})
    return say(T, "round_started", name=name, closes=day_text(day))


async def _show_round(ctx: Context) -> str:
    current = await rounds.open_round(ctx.session, ctx.now)
    last = current or await rounds.latest_round(ctx.session)
    return say(
        T, "round_show", name=last.name if last else None, is_open=current is not None,
        closes=day_text(close_day(ctx, last.closes_at)) if last else "",
        open_all_year=ctx.settings.proposals.open_all_year,
        officer=ctx.has_role(Role.OFFICER), **round_days(ctx),
    )


# ---------------------------------------------------------------- 立案


def _departments(text: str) -> list[str]:
    return [name for name in SEPARATORS.split(text.strip()) if name]


async def _accept_usage(ctx: Context, number: str) -> UserError:
    return UserError(say(
        T, "accept_usage", days=ctx.settings.proposals.reply_days, number=number,
        known=await known_departments(ctx), day=day_text(example_day(ctx)),
    ))


async def _assignment(ctx: Context, number: str, rest: str) -> tuple[str, list[str], date]:
    """``主办 <部门> [协办 <部门>…] [期限 <日期>]`` → lead, helpers, reply deadline."""
    pairs = parse_pairs(rest, ("主办", "协办", "期限"))
    if "" in pairs or not pairs.get("主办"):
        raise await _accept_usage(ctx, number)
    leads = _departments(pairs["主办"])
    if len(leads) > 1:
        raise UserError(say(T, "one_lead", names=leads, number=number))
    lead = leads[0]
    helpers = list(dict.fromkeys(_departments(pairs.get("协办", ""))))
    if "协办" in pairs and not helpers:
        raise await _accept_usage(ctx, number)
    if lead in helpers:
        raise UserError(say(T, "lead_also_helper", name=lead))
    known = await known_departments(ctx)
    for name in (lead, *helpers):
        if name not in known:
            raise UserError(say(T, "unknown_department", name=shown(name, 20), known=known, number=number))
    if "期限" in pairs:
        return lead, helpers, parse_day(pairs["期限"], now=ctx.now, tz=ctx.tz)
    return lead, helpers, local_today(ctx) + timedelta(days=ctx.settings.proposals.reply_days)


async def _tell_departments(
    ctx: Context, number: str, lead: str, helpers: list[str], values: dict[str, Any]
) -> tuple[Notified, list[str]]:
    """Tell each department's 承办人 of the assignment; also the departments without one."""
    told = Notified()
    unstaffed = []
    for department in (lead, *helpers):
        handlers = await handler_ids(ctx.session, [department])
        if not handlers:
            unstaffed.append(department)
        told += await tell(ctx, handlers, f"proposal:{number}:assigned", "n_assigned",
                           department=department, is_lead=department == lead, **values)
    return told, unstaffed


async def accept_command(ctx: Context, args: str) -> str:
    known = await known_departments(ctx)
    lead_example = f"主办 {known[0]}" if known else ""
    number, rest = await take_number(ctx, args, "立案", lead_example, statuses=(Status.REVIEW,))
    lead, helpers, deadline = await _assignment(ctx, number, rest)
    proposal = await flow.load(ctx.session, number)
    change = await flow.accept(
        ctx.session, proposal=proposal, officer_id=_officer_id(ctx), lead=lead, helpers=helpers,
        deadline=deadline, now=ctx.now, policy=policy(ctx),
    )
    await record(ctx, change)
    values = {"number": number, "title": proposal.title, "lead": lead, "helpers": helpers,
              "deadline": day_text(deadline)}
    people = [proposal.proposer_id, *await cosigner_ids(ctx.session, proposal.id or 0)]
    told = await tell(ctx, people, f"proposal:{number}:accepted", "n_accepted", **values)
    assigned, unstaffed = await _tell_departments(ctx, number, lead, helpers, values)
    told += assigned
    return say(T, "accepted", unstaffed=unstaffed, told=told, **values)


# ---------------------------------------------------------------- 不立案 and 转建议


async def _decline(ctx: Context, args: str, to: Status, command: str) -> str:
    number, rest = await take_number(ctx, args, command, "理由", statuses=BEFORE_REVIEW)
    note = REASON_KEY.sub("", rest, count=1)
    if not note.strip():
        raise UserError(say(T, "decline_usage", command=command, number=number,
                            known=await known_departments(ctx)))
    note = clean_text(note, "理由", ctx.settings.proposals.text_max_chars)
    proposal = await flow.load(ctx.session, number)
    change = await flow.decline(
        ctx.session, proposal=proposal, officer_id=_officer_id(ctx), to=to, note=note, now=ctx.now
    )
    await record(ctx, change)
    converted = to is Status.CONVERTED
    people = [proposal.proposer_id, *await cosigner_ids(ctx.session, proposal.id or 0)]
    told = await tell(ctx, people, f"proposal:{number}:{change.kind}", "n_declined",
                      number=number, title=proposal.title, converted=converted, note=note)
    return say(T, "declined", number=number, converted=converted, told=told)


async def reject_command(ctx: Context, args: str) -> str:
    return await _decline(ctx, args, Status.REJECTED, "不立案")


async def convert_command(ctx: Context, args: str) -> str:
    return await _decline(ctx, args, Status.CONVERTED, "转建议")


# ---------------------------------------------------------------- 答复


def _leading_word(text: str, words: dict[str, Outcome] | dict[str, Rating]) -> tuple[str, str] | None:
    for word in sorted(words, key=len, reverse=True):
        if text.startswith(word):
            return word, text[len(word):].strip(" :：\n\t")
    return None


async def reply_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    number, rest = await take_number(ctx, args, "答复", "采纳 具体措施", statuses=(Status.ACCEPTED,))
    found = _leading_word(rest, OUTCOME_WORDS)
    day = month_day(example_day(ctx))
    if found is None:
        raise UserError(say(T, "reply_usage", number=number, day=day))
    word, content = found
    if not content:
        raise UserError(say(T, "reply_needs_content", outcome=word, number=number, day=day))
    content = clean_text(content, "答复内容", ctx.settings.proposals.text_max_chars)
    department = ctx.member.department
    if not department:
        raise UserError(say(T, "no_department"))
    proposal = await flow.load(ctx.session, number)
    change = await flow.reply(
        ctx.session, proposal=proposal, author_id=ctx.member.id, department=department,
        outcome=OUTCOME_WORDS[word], content=content, now=ctx.now,
    )
    await record(ctx, change)
    revised = change.kind == "revised"
    values = {"number": number, "title": proposal.title, "department": department,
              "lead": change.data["lead"], "outcome": OUTCOME_WORDS[word].label, "revised": revised}
    key = f"proposal:{number}:reply:{change.data['reply_id']}:v{change.data['revision']}"
    told = await tell(ctx, [proposal.proposer_id], key, "n_replied", content=content, **values)
    return say(T, "replied", told=told, **values)


# ---------------------------------------------------------------- 评价


async def rate_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    number, rest = await take_number(ctx, args, "评价", "满意", statuses=(Status.REPLIED,))
    found = _leading_word(rest, RATING_WORDS)
    if found is None:
        raise UserError(say(T, "rate_usage", number=number))
    word, comment = found
    comment = clean_text(comment, "意见", ctx.settings.proposals.text_max_chars) if comment else ""
    proposal = await flow.load(ctx.session, number)
    handling_round = proposal.handling_round
    change = await flow.rate(
        ctx.session, proposal=proposal, member_id=ctx.member.id, rating=RATING_WORDS[word],
        comment=comment or None, now=ctx.now, today=local_today(ctx), policy=policy(ctx),
    )
    await record(ctx, change)
    sent_back = bool(change.data.get("sent_back"))
    values = {"number": number, "title": proposal.title, "rating": word, "comment": comment,
              "sent_back": sent_back, "closed": change.after is Status.CLOSED,
              "deadline": day_text(proposal.deadline), "rater": ctx.member.name,
              "by_proposer": change.data["by_proposer"]}
    departments = [d for d, lead in await flow.assignments(ctx.session, proposal.id or 0)
                   if lead or sent_back]
    await tell(ctx, await handler_ids(ctx.session, departments),
               f"proposal:{number}:rated:r{handling_round}:{ctx.member.id}", "n_rated", **values)
    return say(T, "rated", **values)
