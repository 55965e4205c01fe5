"""经费 through the real pipeline: 记账 (and its dialog), 冲销, 拨付, 慰问, 经费, 经费公示,
审核, scope, the audit log and the group notices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.audit import AuditLog
from models.db import Database
from models.funds.tables import FundCheckpoint, FundEntry, FundStatement
from models.funds.verify import verify_all
from models.org import Chat, Role
from models.outbox import OutboxMessage
from tests.factories import get_branch, make_member, make_settings, message
from tests.models.funds.support import NOW

CS, FL, UNION = "计算机学院分工会", "外国语学院分工会", "示范大学工会"


@dataclass
class Funds:
    db: Database
    pipeline: Pipeline

    async def say(self, who: str, text: str, *, group: bool = False) -> str:
        reply = await self.pipeline.handle(message(
            text, sender=who, channel="onebot", chat_type="group" if group else "private",
            chat_id="111" if group else None))
        assert reply is not None
        assert "出了点问题" not in reply.text, reply.text
        return reply.text


def funds_settings(tmp_path: Path, **funds: Any) -> Settings:
    return make_settings(
        funds={"key_file": str(tmp_path / "funds.key"), "limits": {"生日": 300}, **funds},
        onebot={"enabled": True, "api_url": "http://127.0.0.1:9"},
        server={"public_url": "https://union.example.edu.cn"},
    )


def funds_pipeline(db: Database, settings: Settings) -> Pipeline:
    """The pipeline at ``NOW``."""
    return Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics(), clock=lambda: NOW)


@pytest.fixture
async def funds(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Funds:
    await make_member(db, "1", "校干部", branch=UNION, roles=[Role.OFFICER], accounts=[("onebot", "u")])
    await make_member(db, "2", "院干部", branch=CS, roles=[Role.OFFICER], accounts=[("onebot", "cs")])
    await make_member(db, "3", "会员甲", branch=CS, accounts=[("onebot", "m")])
    await make_member(db, "4", "外院干部", branch=FL, roles=[Role.OFFICER], accounts=[("onebot", "fl")])
    await make_member(db, "5", "经审乙", branch=CS, roles=[Role.AUDITOR], accounts=[("onebot", "au")])
    async with db.write() as session:
        branch = await get_branch(session, CS)
        session.add(Chat(channel="onebot", chat_id="111", chat_type="group", name="计算机学院教职工群",
                         branch_id=branch.id))
    settings = funds_settings(tmp_path)
    return Funds(db, funds_pipeline(db, settings))


async def _audit(db: Database, action: str) -> list[AuditLog]:
    async with db.read() as session:
        return list(await session.scalars(select(AuditLog).where(col(AuditLog.action) == action)))


async def _outbox(db: Database) -> list[tuple[str, str, str]]:
    async with db.read() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return [(r.target_kind, r.target, json.loads(r.payload)["text"]) for r in rows]


# ---------------------------------------------------------------- 记账


async def test_record_shows_number_path_and_balance(funds: Funds) -> None:
    assert await funds.say("cs", "记账 收入 1.2万 上级补助 年度活动经费 2026-03-01") == (
        "已记账 J2026-0001：计算机学院分工会 收入 12,000.00 元，上级工会补助收入（2026-03-01）。"
        "当前余额 12,000.00 元。记错了可以发送「冲销 J2026-0001 原因」。")
    reply = await funds.say("cs", "记账 支出 ￥300.50元 文体 羽毛球赛 奖品 12月3日")
    assert reply.startswith(
        "已记账 J2026-0002：计算机学院分工会 支出 300.50 元，职工活动支出/文体活动（2026-12-03）。")
    assert "当前余额 11,699.50 元" in reply
    (audit,) = (await _audit(funds.db, "funds.record"))[-1:]
    assert json.loads(audit.after or "")["description"] == "羽毛球赛 奖品"


@pytest.mark.parametrize(("text", "expected"), [
    ("记账 支出 -5 文体 奖品", "金额要大于零：「-5」是负数。"),
    ("记账 支出 三百 文体 奖品", "金额请用阿拉伯数字写：「三百」请写成例如 300 或 1.2万。"),
    ("记账 支出 1.234 文体 奖品", "金额最多写到分（小数点后两位）"),
    ("记账 支出 1e9 文体 奖品", "「1e9」不是金额"),
    ("记账 支出 300 维权 奖品", "「维权」对应好几个明细科目，请写具体的一个：维权支出/劳动关系协调、"),
    ("记账 支出 300 文体比赛 奖品", "没有「文体比赛」这个类别，是不是：职工活动支出/文体活动"),
    ("记账 转账 300 文体 奖品", "「转账」要写「收入」或「支出」"),
    ("记账 支出 300 文体 奖品 2026-12-06", "日期 2026-12-06 还没到，不能提前记账"),
    ("记账 支出 300 文体 奖品 2025-12-06", "日期 2025-12-06 早于本账的建账日期 2026-01-01。"),
    ("记账 支出 300 文体 奖品 2026-02-30", "「2026-02-30」不是有效日期"),
])
async def test_bad_entries_are_refused_and_store_nothing(funds: Funds, text: str, expected: str) -> None:
    assert (await funds.say("cs", text)).startswith(expected)
    async with funds.db.read() as session:
        assert list(await session.scalars(select(FundEntry))) == []


async def test_record_dialog_asks_for_what_is_missing(funds: Funds) -> None:
    assert (await funds.say("cs", "记账")).endswith("这笔是收入还是支出？请回复「收入」或「支出」。")
    assert (await funds.say("cs", "支出")).startswith("金额是多少元？")
    assert (await funds.say("cs", "三百")).startswith("金额请用阿拉伯数字写")
    assert (await funds.say("cs", "300")).startswith("记在哪个类别？")
    assert (await funds.say("cs", "宣传")).startswith("请写上事项")
    assert (await funds.say("cs", "展板制作")).startswith(
        "已记账 J2026-0001：计算机学院分工会 支出 300.00 元，职工活动支出/宣传活动")
    assert (await funds.say("cs", "记账 支出 300")).endswith(
        "记在哪个类别？写科目名称或别名，例如：文体、职工集体福利、会费")
    assert (await funds.say("cs", "取消")).startswith("已取消")


async def test_an_unknown_category_in_the_dialog_is_asked_again(funds: Funds) -> None:
    await funds.say("cs", "记账 支出 300")
    await funds.say("cs", "火箭")
    reply = await funds.say("cs", "展板")
    assert reply.startswith("没有「火箭」这个类别")
    assert reply.endswith("记在哪个类别？写科目名称或别名，例如：文体、职工集体福利、会费")
    assert (await funds.say("cs", "宣传")).startswith(
        "已记账 J2026-0001：计算机学院分工会 支出 300.00 元，职工活动支出/宣传活动")


async def test_members_may_not_record(funds: Funds) -> None:
    assert "干部" in await funds.say("m", "记账 支出 300 文体 奖品")


# ---------------------------------------------------------------- 冲销, 拨付, scope


async def test_reversal_and_its_audit(funds: Funds) -> None:
    await funds.say("cs", "记账 支出 300 文体 奖品")
    assert await funds.say("cs", "冲销 j2026-1 金额写错") == (
        "已冲销 J2026-0001（300.00 元），冲销流水 J2026-0002。计算机学院分工会当前余额 0.00 元。")
    assert (await funds.say("cs", "冲销 J2026-0001 再来")).startswith("J2026-0001 已经由 J2026-0002 冲销过了")
    assert (await funds.say("cs", "冲销 J2026-0001")).startswith("请写上冲销的原因")
    assert (await funds.say("fl", "冲销 J2026-0001 越权")).startswith("本账里没有流水 J2026-0001")
    (audit,) = await _audit(funds.db, "funds.reverse")
    assert json.loads(audit.before or "")["amount_fen"] == 30000
    assert json.loads(audit.after or "")["reversals"] == ["J2026-0002"]


async def test_transfer_is_for_the_union_and_posts_both_sides(funds: Funds) -> None:
    assert (await funds.say("cs", "拨付 外国语学院分工会 1000 经费")).startswith("拨付是校工会的经费下拨")
    assert await funds.say("u", "拨付 计算机学院分工会 2万 2026年活动经费") == (
        "已拨付计算机学院分工会 20,000.00 元：校工会支出 J2026-0001，计算机学院分工会收入 J2026-0001。"
        "校工会余额 -20,000.00 元，计算机学院分工会余额 20,000.00 元。")
    assert "当前余额 20,000.00 元" in await funds.say("m", "经费")
    assert (await funds.say("cs", "冲销 J2026-0001 拨错了")).startswith("拨付是校工会的经费下拨")
    assert (await funds.say("u", "冲销 计算机学院分工会 J2026-0001 拨错了")).startswith("已冲销")
    assert "当前余额 0.00 元" in await funds.say("m", "经费")


async def test_a_branch_officer_cannot_book_in_another_branch(funds: Funds) -> None:
    assert "只能管理本分工会" in await funds.say("fl", "记账 计算机学院分工会 支出 300 文体 奖品")
    assert (await funds.say("u", "记账 计算机学院分工会 支出 300 文体 奖品")).startswith(
        "已记账 J2026-0001：计算机学院分工会")


# ---------------------------------------------------------------- 慰问


async def test_relief_limits_and_privacy(funds: Funds) -> None:
    assert (await funds.say("cs", "慰问 3 生日 200 生日快乐")).startswith(
        "已登记会员甲的生日慰问 200.00 元，记账 J2026-0001。今年生日慰问已发 200.00 元（标准 300.00 元）。")
    assert await funds.say("cs", "慰问 3 生日 200") == (
        "超出标准：生日慰问每人每年不超过 300.00 元，这位会员今年已发 200.00 元，这次 200.00 元。"
        "本年度最多还能发 100.00 元。")
    assert (await funds.say("cs", "慰问 3 买车 200")).startswith("没有「买车」这种慰问")
    assert (await funds.say("fl", "慰问 3 生日 100")).startswith(
        "会员 3属于计算机学院分工会，你是外国语学院分工会的干部")
    group = await funds.say("cs", "经费", group=True)
    assert "会员甲" not in group and "13800000000" not in group
    async with funds.db.read() as session:
        (entry,) = await session.scalars(select(FundEntry))
    assert entry.description == "生日慰问"


# ---------------------------------------------------------------- 经费公示 and 审核


async def _books(funds: Funds) -> None:
    await funds.say("cs", "记账 收入 5000 上级补助 活动经费 2026-07-02")
    await funds.say("cs", "记账 支出 1200 文体 羽毛球赛 2026-08-15")
    await funds.say("cs", "记账 支出 300 集体福利 慰问品 2026-09-30")


async def test_statement_review_and_publication(funds: Funds) -> None:
    await _books(funds)
    draft = await funds.say("cs", "经费公示 2026Q3")
    assert draft.startswith(
        "计算机学院分工会经费收支公示（2026年第三季度）F2026Q3\n期初余额：0.00 元\n本期收入：5,000.00 元")
    assert "  职工活动支出：1,500.00 元\n    文体活动：1,200.00 元\n    职工集体福利：300.00 元" in draft
    assert "期末余额：3,500.00 元" in draft and "工会主席：" in draft
    assert draft.endswith("确认无误后发送「经费公示 2026Q3 发布」，将先交经审委员审核。")
    sent = await funds.say("cs", "经费公示 2026Q3 发布")
    assert sent.startswith("经费公示 F2026Q3 已提交经审委员经审乙审核")
    (request,) = [t for k, who, t in await _outbox(funds.db) if who == "au"]
    assert request.startswith("请审核经费公示：\n计算机学院分工会经费收支公示")
    assert (await funds.say("au", "审核 F2026Q3 退回")).startswith("退回请写上意见")
    assert (await funds.say("au", "审核 F2026Q3 退回 请补充明细")).startswith("已退回经费公示 F2026Q3")
    assert any("请补充明细" in t for _k, who, t in await _outbox(funds.db) if who == "cs")
    assert (await funds.say("au", "审核 F2026Q3 通过")).startswith("经费公示 F2026Q3 现在是「已退回」")
    await funds.say("cs", "经费公示 2026Q3 发布")
    approved = await funds.say("au", "审核 f2026q3 通过")
    assert approved.startswith(
        "已审核通过经费公示 F2026Q3。经费公示 F2026Q3（2026年第三季度）已发布，已排队发到 1 个群")
    assert "https://union.example.edu.cn/board/funds/2026Q3?branch=" in approved
    groups = [t for kind, who, t in await _outbox(funds.db) if kind == "group"]
    assert groups == [
        "【经费公示】计算机学院分工会2026年第三季度经费收支：期初余额 0.00 元，收入 5,000.00 元，"
        "支出 1,500.00 元，"
        f"期末余额 3,500.00 元。明细和核验信息见公开栏：{approved.split('公开栏：')[1]}（F2026Q3）"]
    assert (await funds.say("cs", "经费公示 2026Q3 发布")).startswith(
        "2026年第三季度的经费公示 F2026Q3 已经发布")
    async with funds.db.read() as session:
        (statement,) = await session.scalars(select(FundStatement))
        (checkpoint,) = await session.scalars(select(FundCheckpoint))
        assert [r.problem for r in await verify_all(session, checkpoint.public_key)] == [None]
    assert statement.status == "published" and checkpoint.entry_count == 3
    assert json.loads(statement.summary or "")["figures"]["closing_fen"] == 350000
    shown = await funds.say("m", "经费 2026Q3")
    assert "最近一次经费公示：F2026Q3（2026年第三季度，2026-12-05 公示）" in shown
    actions = [a.action for a in await _audit_all(funds.db)]
    assert actions.count("funds.statement_review") == 2 and "funds.statement_publish" in actions


async def _audit_all(db: Database) -> list[AuditLog]:
    async with db.read() as session:
        return list(await session.scalars(select(AuditLog).order_by(col(AuditLog.id))))


async def test_without_a_reviewer_publication_is_direct(funds: Funds) -> None:
    await _books(funds)
    assert (await funds.say("fl", "经费公示 2026Q3 发布")).startswith(
        "经费公示 F2026Q3（2026年第三季度）已发布；本分工会还没有登记能发送的群")
    assert (await funds.say("cs", "经费公示 2026Q4 发布")).startswith(
        "2026年第四季度还没有结束，2027-01-01 以后才能发布")


async def test_members_see_totals_by_top_category(funds: Funds) -> None:
    await _books(funds)
    reply = await funds.say("m", "经费 2026Q3", group=True)
    assert "2026年第三季度：收入 5,000.00 元，支出 1,500.00 元。" in reply
    assert "· 支出 职工活动支出 1,500.00 元" in reply
    assert "还没有发布过经费公示" in reply
    assert (await funds.say("m", "经费 2026Q5")).startswith("「2026Q5」不是期间")
    assert "30102 文体活动" in await funds.say("m", "经费 科目")


def test_the_roster_knows_the_auditor_role() -> None:
    from models.roster import validate_row

    entry = validate_row({"工号": "5", "姓名": "经审乙", "性别": "女", "出生日期": "1980-01-01",
                          "分工会": CS, "角色": "经审、干部", "手机": ""})
    assert not isinstance(entry, str)
    assert entry.roles == {Role.MEMBER, Role.AUDITOR, Role.OFFICER}
    assert Role.from_label("经费审查委员会委员") is Role.AUDITOR


async def test_a_group_gets_the_usage_instead_of_a_dialog(funds: Funds) -> None:
    assert (await funds.say("cs", "记账 支出 300", group=True)).endswith(
        "请按这样的格式记账：记账 支出 300 文体 羽毛球赛奖品（可在最后加日期，如 12月3日）；"
        "收入写「记账 收入 5000 会费 11月会费」。私聊只发「记账」可以一步一步填写。")
    assert "只能" in await funds.say("cs", "慰问 3 生日 100", group=True)


async def test_without_review_configured_the_officer_publishes(
    db: Database, funds: Funds, tmp_path: Path
) -> None:
    settings = funds_settings(tmp_path, require_review=False)
    direct = Funds(db, funds_pipeline(db, settings))
    await _books(direct)
    assert "将先交经审委员审核" not in await direct.say("cs", "经费公示 2026Q3")
    assert (await direct.say("cs", "经费公示 2026Q3 发布")).startswith(
        "经费公示 F2026Q3（2026年第三季度）已发布，已排队发到 1 个群")
    assert [who for _k, who, _t in await _outbox(db)] == ["111"]
