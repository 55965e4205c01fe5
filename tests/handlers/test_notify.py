"""A reply says 已通知 only for those the outbox can reach, and names the others."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.pipeline import Pipeline
from models.db import Database
from models.org import Role
from tests.factories import make_member, message
from tests.handlers.test_proposals_support import (
    People,
    cast,
    make_pipeline,
    no,
    outbox,
    proposal_settings,
    say,
)

FILE = "提案 标题：关于延长食堂晚餐供应时间的提案 理由：加班教师吃饭难 建议：晚餐延长到19:30"
NOBODY = "以下 {n} 人没有绑定能接收通知的账号，请另行告知：{names}。"


@pytest.fixture
def settings() -> Settings:
    """QQ cannot push (not configured), so nobody with only a QQ account can be told."""
    settings = proposal_settings()
    return settings.model_copy(update={"onebot": settings.onebot.model_copy(update={"enabled": False})})


@pytest.fixture
async def people(db: Database) -> People:
    return await cast(db)


async def test_proposal_replies_name_who_could_not_be_told(
    db: Database, settings: Settings, people: People
) -> None:
    pipeline: Pipeline = make_pipeline(db, settings)
    await say(pipeline, "zs", FILE)
    await say(pipeline, "ls", f"附议 {no(1)}")
    await say(pipeline, "ww", f"附议 {no(1)}")
    accepted = await say(pipeline, "of", f"立案 {no(1)} 主办 后勤管理处")
    assert accepted.endswith("。" + NOBODY.format(n=4, names="张三、李四、王五、孙八"))
    assert "已通知" not in accepted and "已私信通知" not in accepted
    replied = await say(pipeline, "hq", f"答复 {no(1)} 采纳 自12月1日起晚餐供应延长至19:30")
    assert "（采纳）。" + NOBODY.format(n=1, names="张三") in replied
    await say(pipeline, "zs", FILE)
    declined = await say(pipeline, "of", f"不立案 {no(2)} 附议人数不足")
    assert declined == f"已将 {no(2)} 作不立案处理。" + NOBODY.format(n=1, names="张三")
    assert await outbox(db) == {}


async def test_some_told_and_some_named(db: Database, people: People) -> None:
    settings = proposal_settings()
    await make_member(db, "1009", "陈代表", roles=[Role.REPRESENTATIVE], accounts=[("console", "chen")])
    pipeline = make_pipeline(db, settings)
    await say(pipeline, "zs", FILE)
    await say(pipeline, "ls", f"附议 {no(1)}")
    await pipeline.handle(message(f"附议 {no(1)}", sender="chen"))
    declined = await say(pipeline, "of", f"不立案 {no(1)} 理由不充分")
    assert declined == (f"已将 {no(1)} 作不立案处理。已私信通知张三、李四。"
                        + NOBODY.format(n=1, names="陈代表"))


async def test_refusals_name_the_real_state(db: Database, people: People) -> None:
    pipeline = make_pipeline(db, proposal_settings())
    await say(pipeline, "zs", FILE)
    assert (await say(pipeline, "zs", f"撤回 {no(1)}")).startswith("已撤回提案")
    assert await say(pipeline, "zs", f"撤回 {no(1)}") == f"{no(1)} 已经撤回了，无需再次撤回。"
    assert (await say(pipeline, "of", f"不立案 {no(1)} 理由")).startswith(
        f"{no(1)} 已由提案人撤回，不能再立案、不立案或转建议。")
    assert (await say(pipeline, "ls", f"附议 {no(1)}")).startswith(f"{no(1)} 已由提案人撤回，已经不能附议了")
    await say(pipeline, "zs", FILE)
    await say(pipeline, "of", f"不立案 {no(2)} 理由不充分")
    assert (await say(pipeline, "zs", f"撤回 {no(2)}")).startswith(
        f"{no(2)} 已作不立案处理，提案委员会已经作出决定，不能再撤回了")
