"""What the 公告 and 公示 handlers share: reading numbers and 发布 <时间>, who sees what, views."""

from __future__ import annotations

import re
from datetime import datetime

from bot.args import parse_when
from bot.broadcast import BroadcastResult
from bot.context import Context
from bot.errors import UserError
from bot.publication import local
from bot.registry import answers_refusals
from bot.render import say
from bot.scope import reach
from models.notices import queries
from models.notices.objections import Refused
from models.notices.tables import Kind, Notice, parse_number
from models.org import Role

T = "disclosures"
WORDS = {Kind.ANNOUNCEMENT: "公告", Kind.DISCLOSURE: "公示"}
PREFIX_OF = {Kind.ANNOUNCEMENT: "G", Kind.DISCLOSURE: "S"}

# ``发布 <时间>`` at the end: the word on its own, followed by a short time expression
_SCHEDULE = re.compile(r"(?:^|(?<=\s))发布(?:\s*[:：]\s*|\s+)(?P<when>\S.{0,23})$")
_PAGE = re.compile(r"(?:第\s*)?([0-9]{1,4})\s*页?")


def refusal(ctx: Context, exc: Refused) -> UserError:
    """The sentence for a refusal, its times in the union's time zone."""
    values = {name: value.astimezone(ctx.tz) if isinstance(value, datetime) else value
              for name, value in exc.values.items()}
    return UserError(say(T, exc.code, **values))


speaks = answers_refusals(Refused, answer=refusal)


def split_schedule(ctx: Context, text: str) -> tuple[str, datetime | None]:
    """The text without a trailing ``发布 <时间>``, and that time (None: publish now)."""
    match = _SCHEDULE.search(text.strip())
    if match is None:
        return text.strip(), None
    when = parse_when(match.group("when"), now=ctx.now, tz=ctx.tz)
    return text.strip()[: match.start()].strip(), when


def page_number(text: str) -> int | None:
    """``2`` / ``第2页`` → 2; None when ``text`` is not a page number."""
    match = _PAGE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


async def viewer(ctx: Context) -> queries.Viewer:
    assert ctx.member is not None
    mine = await reach(ctx)
    officer = ctx.has_role(Role.OFFICER)
    return await queries.viewer(
        ctx.session, ctx.member.branch_id, officer=officer, union_wide=officer and mine.union_wide,
        manages=mine.branches,
    )


async def find(ctx: Context, kind: Kind, text: str, *, anywhere: bool = False) -> Notice:
    """The notice numbered ``text`` the sender may see (``anywhere``: whatever its branch, for an
    officer's command whose scope check then names the owner); one clear sentence otherwise."""
    word = WORDS[kind]
    number = parse_number(text, PREFIX_OF[kind])
    if number is None:
        raise UserError(say(T, "bad_number", word=word, prefix=PREFIX_OF[kind], text=text))
    notice = await queries.by_number(ctx.session, number)
    if notice is None or not (anywhere or await queries.may_see(ctx.session, notice, await viewer(ctx))):
        raise UserError(say(T, "no_such_notice", word=word, number=number))
    return notice


async def list_reply(ctx: Context, kind: Kind, page: int) -> str:
    who = await viewer(ctx)
    found = await queries.page_of(ctx.session, kind, who, page, ctx.settings.notices.page_size)
    return say(
        T, "list_page", word=WORDS[kind], page=found,
        rows=[(n, n.shown(ctx.now).value, local(n.ends_at, ctx.tz),
               local(n.published_at or n.publish_at, ctx.tz)) for n in found.items],
    )


def groups_text(result: BroadcastResult) -> str:
    """How many groups a notice was queued for and which cannot be reached."""
    return say(T, "groups_reached", result=result, per_channel=result.per_channel())
