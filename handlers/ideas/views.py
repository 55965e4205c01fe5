"""Looking at ideas and supporting them: 点子 <编号>, 点子榜 [页], 我的点子, 支持, 取消支持.

Every view shows an anonymous idea's submitter as 匿名 — to officers too. Only the
submitter is told it is theirs (我的点子, and 「你提出的」 on the idea itself), and only in
private chat: in a group those answers would tell everyone.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.render import say
from handlers.ideas.common import T, author_label, close_day, keys, member_id, take_number, this_year
from models.ideas import queries, rounds
from models.ideas.support import is_own, load, support, withdraw_support
from models.ideas.tables import Idea, Status

MINE_LIMIT = 30


async def show_idea(ctx: Context, args: str) -> str:
    number, _rest = take_number(args, "点子 D31")
    idea = await load(ctx.session, number)
    me = member_id(ctx)
    found_round = await queries.round_of(ctx.session, idea)
    name = await queries.named_author(ctx.session, idea)
    return say(
        T, "idea_detail", idea=idea, status=Status(idea.status).label,
        author=author_label(idea, name), own=not ctx.is_group and is_own(idea, me, keys(ctx)),
        branch=None if idea.anonymous else await queries.branch_name(ctx.session, idea.branch_id),
        round=found_round.name if found_round else None,
        submitted=idea.submitted_at.astimezone(ctx.tz).strftime("%Y-%m-%d"),
        supported=idea.id is not None and await queries.supported_by(ctx.session, idea.id, me),
    )


def _page(args: str) -> int:
    word = args.strip().removeprefix("第").removesuffix("页").strip()
    if not word:
        return 1
    if not word.isdigit() or not 1 <= int(word) <= 10_000:
        raise UserError(say(T, "bad_page", text=args.strip()[:10]))
    return int(word)


async def board_command(ctx: Context, args: str) -> str:
    """点子榜 [页]: the sender's open round by support, else this year's ideas."""
    assert ctx.member is not None
    page = _page(args)
    current = await rounds.round_for(ctx.session, ctx.member.branch_id, ctx.now)
    year = this_year(ctx)
    where = queries.scope_clause(round_id=current.id if current else None, year=year)
    size = ctx.settings.ideas.page_size
    lines, total = await queries.ranking(ctx.session, where, page=page, size=size)
    pages = max(1, -(-total // size))
    if page > pages and total:
        raise UserError(say(T, "page_beyond", page=page, pages=pages))
    return say(T, "board", lines=lines, total=total, page=page, pages=pages, first=(page - 1) * size + 1,
               round=current.name if current else None, year=year)


async def mine_command(ctx: Context, args: str) -> str:
    lines, total = await queries.mine(ctx.session, member_id(ctx), keys(ctx), MINE_LIMIT,
                                      anonymous=not ctx.is_group)
    return say(T, "mine", lines=lines, total=total, labels={s.value: s.label for s in Status},
               in_group=ctx.is_group)


def _not_in_group(ctx: Context, idea: Idea, command: str) -> None:
    """Supports of an anonymous idea are given privately: in a group, the submitter's
    answer (you cannot support your own idea) would tell everyone who filed it."""
    if ctx.is_group and idea.anonymous:
        raise UserError(say(T, "anonymous_support_in_group", number=idea.number, command=command))


async def support_command(ctx: Context, args: str) -> str:
    number, _rest = take_number(args, "支持 D31")
    idea = await load(ctx.session, number)
    _not_in_group(ctx, idea, "支持")
    done = await support(
        ctx.session, idea=idea, member_id=member_id(ctx), now=ctx.now, year=this_year(ctx),
        cap=ctx.settings.ideas.max_supports, keys=keys(ctx),
    )
    return say(T, "supported", number=idea.number, title=idea.title, count=done.count,
               used=done.used, cap=done.cap)


async def unsupport_command(ctx: Context, args: str) -> str:
    number, _rest = take_number(args, "取消支持 D31")
    idea = await load(ctx.session, number)
    _not_in_group(ctx, idea, "取消支持")
    count = await withdraw_support(
        ctx.session, idea=idea, member_id=member_id(ctx), now=ctx.now, year=this_year(ctx)
    )
    return say(T, "unsupported", number=idea.number, title=idea.title, count=count)


async def round_line(ctx: Context) -> str:
    """点子征集 without arguments: the round open for the sender, or the last one."""
    assert ctx.member is not None
    current = await rounds.round_for(ctx.session, ctx.member.branch_id, ctx.now)
    last = current or await rounds.latest_for(ctx.session, ctx.member.branch_id)
    return say(T, "round_show", name=last.name if last else None, is_open=current is not None,
               closes=close_day(ctx, last.closes_at).isoformat() if last else "",
               rounds_only=ctx.settings.ideas.rounds_only)
