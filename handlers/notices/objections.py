"""异议 and 答复异议: real-name objections to an open 公示, by private chat only.

In a group ``异议`` gets one sentence pointing to the private chat and nothing of the text
is stored (the refusal rolls the message's work back; only that sentence is kept as the
reply). An objection is numbered (``Y3``), sent privately to the officers of the branch
that published the 公示 and acknowledged to the objector; ``答复异议`` sends the answer
privately to the objector. Objectors are named only in officers' private messages and the
audit log.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply
from bot.notify import notify_members
from bot.outbox.queue import notify_member
from bot.publication import local
from bot.registry import Command, Registry
from bot.render import say
from bot.scope import require_reach
from handlers.notices.common import T, find, speaks
from models.notices import objections
from models.notices.tables import Kind, Notice, NoticeObjection, parse_number
from models.org import Branch, Member, Role


def register(registry: Registry) -> None:
    registry.add(Command(
        name="异议", aliases=("提出异议",), handler=speaks(objection_command), topic="notices",
        summary="对公示中的内容提出异议（实名，只能私聊，只有工会干部看得到）",
        usage="异议 <编号> <内容>", example="异议 S8 张三的获奖材料中有一项成果不属于本人",
    ))
    registry.add(Command(
        name="答复异议", handler=speaks(answer_command), role=Role.OFFICER, topic="notices",
        scope="private", summary="答复会员对公示提出的异议（私信发给异议人）",
        usage="答复异议 <异议编号> <内容>", example="答复异议 Y3 经核实，该成果为张三主持完成",
    ))


async def objection_command(ctx: Context, args: str) -> str:
    if ctx.is_group:
        raise UserError(say(T, "objection_in_group"))
    number, _, text = args.strip().partition(" ")
    text = text.strip()
    if not number or not text:
        raise UserError(say(T, "objection_usage"))
    notice = await find(ctx, Kind.DISCLOSURE, number)
    assert ctx.member is not None and ctx.member.id is not None
    objection = await objections.file(ctx.session, notice, ctx.member.id, text, ctx.now)
    await ctx.audit("notice_objection", f"notice:{notice.number}", after={
        "objection": objection.number, "member": ctx.member.name, "staff_no": ctx.member.staff_no,
        "text": text,
    })
    branch = await ctx.session.get(Branch, ctx.member.branch_id)
    officers = await objections.officers_for(ctx.session, notice.branch_id)
    told = await notify_members(
        ctx.session, settings=ctx.settings, member_ids=officers, skip=ctx.member.id,
        key=lambda member_id: f"notice:{notice.number}:objection:{objection.number}:member:{member_id}",
        text=say(T, "objection_to_officers", notice=notice, objection=objection, member=ctx.member,
                 branch=branch.name if branch else "", ends=local(notice.ends_at, ctx.tz)),
    )
    return say(T, "objection_received", notice=notice, objection=objection, delivered=bool(told.reached))


async def answer_command(ctx: Context, args: str) -> Reply | str:
    number, _, text = args.strip().partition(" ")
    text = text.strip()
    wanted = parse_number(number, "Y")
    if wanted is None or not text:
        raise UserError(say(T, "answer_usage"))
    objection = await objections.by_number(ctx.session, wanted)
    if objection is None:
        raise UserError(say(T, "no_such_objection", number=wanted))
    notice = await ctx.session.get(Notice, objection.notice_id)
    assert notice is not None and ctx.member is not None
    await require_reach(ctx, notice.branch_id, what=f"公示 {notice.number}")
    await objections.answer(ctx.session, objection, text, ctx.member.id, ctx.now)
    await ctx.audit("notice_objection_answer", f"objection:{objection.number}",
                    after={"notice": notice.number, "answer": text})
    reached = await _tell_objector(ctx, notice, objection, text)
    objector = await ctx.session.get(Member, objection.member_id)
    return say(T, "answer_done", objection=objection, reached=reached,
               name=objector.name if objector else "")


async def _tell_objector(ctx: Context, notice: Notice, objection: NoticeObjection, text: str) -> bool:
    target = await notify_member(
        ctx.session, settings=ctx.settings, member_id=objection.member_id,
        key=f"notice:{notice.number}:objection:{objection.number}:answer",
        reply=Reply(say(T, "answer_to_objector", notice=notice, objection=objection, answer=text)),
    )
    return target is not None
