"""金点子 — ideas: submitting (named or anonymous), support, the ranking, 评选 and reports."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply
from bot.registry import Command, Registry
from handlers.ideas import manage, reports, submit, views
from handlers.ideas.common import is_number_word, speaks


async def idea_command(ctx: Context, args: str) -> Reply | str:
    """``点子 <编号>`` shows an idea; anything else submits one."""
    if is_number_word(args):
        return await views.show_idea(ctx, args)
    return await submit.named_idea(ctx, args)


def register(registry: Registry) -> None:
    registry.add(Command(
        name="点子", aliases=("金点子",), handler=speaks(idea_command), topic="ideas", args_optional=True,
        summary="提交一条金点子（私聊只发「点子」可按提示填写），或查看某条点子",
        usage="点子 <内容>　或　点子 <编号>", example="点子 食堂增加夜宵窗口，方便加班的老师",
    ))
    registry.add(Command(
        name="匿名点子", aliases=("匿名金点子",), handler=speaks(submit.anonymous_idea), topic="ideas",
        args_optional=True, summary="匿名提交金点子（请私聊机器人发送，任何人都看不到提出人）",
        usage="匿名点子 <内容>", example="匿名点子 建议校车增加晚班",
    ))
    registry.add(Command(
        name="支持", aliases=("支持点子",), handler=speaks(views.support_command), topic="ideas",
        summary="支持一条金点子（每条一次，不能支持自己的）", usage="支持 <编号>", example="支持 D31",
    ))
    registry.add(Command(
        name="取消支持", handler=speaks(views.unsupport_command), topic="ideas",
        summary="收回对一条金点子的支持", usage="取消支持 <编号>", example="取消支持 D31",
    ))
    registry.add(Command(
        name="点子榜", aliases=("金点子榜", "点子排行"), handler=speaks(views.board_command), topic="ideas",
        summary="按支持数排列的金点子", usage="点子榜 [页]", example="点子榜 2",
    ))
    registry.add(Command(
        name="我的点子", aliases=("我的金点子",), handler=speaks(views.mine_command), topic="ideas",
        summary="我提交的金点子（包括匿名的）和评选结果", usage="我的点子", example="我的点子",
    ))
    for dialog in submit.DIALOGS.values():
        registry.add_dialog(dialog)
    manage.register(registry)
    reports.register(registry)
