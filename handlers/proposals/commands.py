"""教代会提案 — proposals: the command words, 附议 and 撤回.

Filing is in ``handlers.proposals.filing``, the officers' and departments' commands in
``handlers.proposals.review``, the views and statistics in ``handlers.proposals.views``;
``register`` adds them all.
"""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply
from bot.registry import Command, Registry
from bot.render import say
from handlers.proposals import filing as proposal_filing
from handlers.proposals import review as proposal_review
from handlers.proposals import views as proposal_views
from handlers.proposals.common import T, is_number_word, policy, record, speaks, take_number, tell
from models.org import Role
from models.proposals import flow
from models.proposals.queries import cosigner_ids
from models.proposals.tables import BEFORE_REVIEW


def register(registry: Registry) -> None:
    registry.add(Command(
        name="提案", handler=speaks(propose_command), topic="proposals",
        summary="提交教代会提案（私聊只发「提案」可一步一步填写），或查看某件提案",
        usage="提案 标题：… 理由：… 建议：…　或　提案 <编号>",
        example="提案 标题：关于延长食堂晚餐供应时间的提案 理由：加班教师吃饭难 建议：晚餐延长到19:30",
    ))
    registry.add(Command(
        name="附议", handler=speaks(cosign_command), role=Role.REPRESENTATIVE, topic="proposals",
        args_optional=True,
        summary="附议别的代表提出的提案", usage="附议 <编号>", example="附议 T2026-007",
    ))
    registry.add(Command(
        name="撤回", aliases=("撤回提案",), handler=speaks(withdraw_command), topic="proposals",
        args_optional=True,
        summary="在审查之前撤回自己的提案", usage="撤回 <编号>", example="撤回 T2026-007",
    ))
    proposal_filing.register_dialogs(registry)
    proposal_views.register(registry)
    proposal_review.register(registry)


# ---------------------------------------------------------------- 提案


async def propose_command(ctx: Context, args: str) -> Reply | str:
    """``提案 <编号>`` shows a proposal; anything else files one."""
    if is_number_word(args):
        return await proposal_views.show_proposal(ctx, args)
    return await proposal_filing.file_from_message(ctx, args)


# ---------------------------------------------------------------- 附议 and 撤回


async def cosign_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    number, _rest = await take_number(ctx, args, "附议", statuses=BEFORE_REVIEW)
    proposal = await flow.load(ctx.session, number)
    change = await flow.cosign(
        ctx.session, proposal=proposal, member_id=ctx.member.id, now=ctx.now, policy=policy(ctx)
    )
    await record(ctx, change)
    values = {"number": number, "title": proposal.title, "count": proposal.cosigner_count,
              "needed": ctx.settings.proposals.min_cosigners, "to_review": change.data["to_review"]}
    await tell(ctx, [proposal.proposer_id], f"proposal:{number}:cosigned:{ctx.member.id}",
               "n_cosigned", name=ctx.member.name, **values)
    return say(T, "cosigned", **values)


async def withdraw_command(ctx: Context, args: str) -> str:
    assert ctx.member is not None and ctx.member.id is not None
    number, _rest = await take_number(ctx, args, "撤回", statuses=BEFORE_REVIEW)
    proposal = await flow.load(ctx.session, number)
    change = await flow.withdraw(ctx.session, proposal=proposal, member_id=ctx.member.id, now=ctx.now)
    await record(ctx, change)
    await tell(ctx, await cosigner_ids(ctx.session, proposal.id or 0), f"proposal:{number}:withdrawn",
               "n_withdrawn", number=number, title=proposal.title, proposer=ctx.member.name)
    return say(T, "withdrawn", number=number, title=proposal.title)
