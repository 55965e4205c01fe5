"""经费 — the command words (``register``)."""

from __future__ import annotations

from bot.registry import Command, Registry
from handlers.funds import recording, statements
from handlers.funds.common import speaks
from models.org import Role


def register(registry: Registry) -> None:
    registry.add(Command(
        name="经费", aliases=("经费查询",), handler=speaks(statements.balance_command), topic="funds",
        summary="本分工会经费的余额和本期收支（可写期间，如 2026Q3；「经费 科目」列出收支科目）",
        usage="经费 [期间]", example="经费 2026Q3",
    ))
    registry.add(Command(
        name="记账", handler=speaks(recording.record_command), role=Role.OFFICER, topic="funds",
        summary="记一笔收入或支出（私聊只发「记账」可一步一步填写）",
        usage="记账 收入|支出 <金额> <类别> <事项> [日期]", example="记账 支出 300 文体 羽毛球赛奖品",
    ))
    registry.add(Command(
        name="冲销", handler=speaks(recording.reverse_command), role=Role.OFFICER, topic="funds",
        summary="记错的账用一笔反向流水冲销（原流水保留）",
        usage="冲销 <流水号> <原因>", example="冲销 J2026-0042 金额写错",
    ))
    registry.add(Command(
        name="拨付", aliases=("下拨",), handler=speaks(recording.transfer_command),
        role=Role.OFFICER, topic="funds",
        summary="校工会向分工会拨付经费（两本账同时记账）",
        usage="拨付 <分工会> <金额> <事项>", example="拨付 计算机学院分工会 2万 2026年活动经费",
    ))
    registry.add(Command(
        name="慰问", aliases=("慰问金",), handler=speaks(recording.relief_command), scope="private",
        role=Role.OFFICER, topic="funds",
        summary="登记发给会员的慰问金并记账（按每人每年的标准检查）",
        usage="慰问 <工号> <类型> <金额> [事由]", example="慰问 10001 生日 300",
    ))
    registry.add(Command(
        name="经费公示", handler=speaks(statements.statement_command), role=Role.OFFICER, topic="funds",
        summary="起草某一期的经费公示；写「发布」则提交经审审核或直接发布到本分工会的群",
        usage="经费公示 <期间> [发布]", example="经费公示 2026Q3 发布",
    ))
    registry.add(Command(
        name="审核", aliases=("审核公示",), handler=speaks(statements.review_command), role=Role.AUDITOR,
        topic="funds", summary="经审委员审核经费公示：通过即发布，退回写明意见",
        usage="审核 <公示编号> 通过|退回 <意见>", example="审核 F2026Q3 通过",
    ))
    registry.add_dialog(recording.RECORD_DIALOG)
