"""金点子 under load and under scrutiny, on SQLite and PostgreSQL.

Concurrency: 200 members supporting one idea at once (each sending 支持 twice) give
exactly 200 supports. Anonymity: every output an officer can see in a full scenario —
replies, group replies, the board, statistics, the export and the audit log — is
searched for the anonymous submitter's name, 工号 and account id.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.appkeys import DB, SETTINGS
from bot.config import Settings
from bot.downloads import _build
from bot.pipeline import Pipeline
from models.db import Database
from models.events.links import DownloadLink
from models.ideas.tables import Idea, IdeaSupport
from models.org import Member
from tests.factories import make_member
from tests.handlers.ideas_support import (
    FL,
    YEAR,
    audit_text,
    cast,
    idea,
    idea_settings,
    in_group,
    make_pipeline,
    outbox,
    say,
)
from tests.handlers.test_events_concurrency import crowd

SECRET_NAME, SECRET_NO, SECRET_ACCOUNT = "欧阳明远", "19870412", "qq-7731902"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return idea_settings(tmp_path)


async def test_200_members_supporting_at_once_count_exactly(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path))
    await cast(db)
    await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")
    await crowd(db, 200)
    replies = await asyncio.gather(*(
        say(pipeline, f"p{i}", "支持 D1", channel="console") for i in range(200) for _twice in (1, 2)
    ))
    added = [text for text in replies if text.startswith("已支持 D1")]
    again = [text for text in replies if text == "你已经支持过 D1 了，每人每条只能支持一次。"]
    assert (len(added), len(again)) == (200, 200)
    assert sorted(int(text.split("目前共 ")[1].split(" 人")[0]) for text in added) == list(range(1, 201))
    async with db.read() as session:
        rows = await session.scalar(select(func.count()).select_from(IdeaSupport))
        people = await session.scalar(select(func.count(func.distinct(IdeaSupport.member_id))))
    assert rows == people == 200
    assert (await idea(db, "D1")).support_count == 200


async def test_the_same_text_twice_at_once_is_one_idea(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path))
    await cast(db)
    text = "匿名点子 教学楼厕所太少，课间总是排长队"
    replies = await asyncio.gather(*(say(pipeline, "zs", text) for _ in range(5)))
    assert sum(reply.startswith("收到你的匿名金点子，编号 D1") for reply in replies) == 1
    assert all(("不用重复提交" in reply) for reply in replies if not reply.startswith("收到"))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Idea)) == 1


async def _officer_outputs(pipeline: Pipeline, db: Database, settings: Settings) -> list[str]:
    """Everything officers and other members see in a scenario around anonymous idea D1."""
    seen = [
        await say(pipeline, "ls", "支持 D1"),
        await in_group(pipeline, "ls", "点子榜"),
        await in_group(pipeline, "ls", "点子 D1"),
    ]
    for officer in ("of", "flo"):
        seen += [await say(pipeline, officer, "点子榜"), await say(pipeline, officer, "点子 D1"),
                 await say(pipeline, officer, "点子统计")]
    seen.append(await say(pipeline, "flo", "评选 D1 金点子 很好的建议"))
    seen.append(await say(pipeline, "of", "评选 D1 采纳 交 后勤管理处 已安排"))
    seen.append(await say(pipeline, "of", f"导出点子 {YEAR}"))
    async with db.read() as session:
        link = await session.scalar(select(DownloadLink).order_by(DownloadLink.id.desc()))  # type: ignore[union-attr]
    assert link is not None

    class Request:
        def __init__(self) -> None:
            self.app = {DB: db, SETTINGS: settings}

    built = await _build(Request(), link)  # type: ignore[arg-type]
    assert built is not None
    sheet = openpyxl.load_workbook(io.BytesIO(built.data)).active
    seen.append(repr([[cell.value for cell in row] for row in sheet.iter_rows()]))
    seen.append(await audit_text(db))
    seen += [text for key, (_target, text) in (await outbox(db)).items() if ":author" not in key]
    return seen


async def test_no_officer_output_reveals_an_anonymous_submitter(
    pipeline: Pipeline, db: Database, settings: Settings
) -> None:
    await cast(db)
    secret = await make_member(db, SECRET_NO, SECRET_NAME, branch=FL, accounts=[("onebot", SECRET_ACCOUNT)])
    answer = await say(pipeline, SECRET_ACCOUNT, "匿名点子 标题：夜间照明 校园北区小路晚上太暗，建议增加路灯")
    assert answer.startswith("收到你的匿名金点子，编号 D1《夜间照明》")
    seen = await _officer_outputs(pipeline, db, settings)
    assert len(seen) > 10 and "夜间照明" in "\n".join(seen)
    for text in seen:
        for needle in (SECRET_NAME, SECRET_NO, SECRET_ACCOUNT):
            assert needle not in text, (needle, text)
    stored = await idea(db, "D1")
    assert stored.member_id is None and secret.id is not None
    assert stored.author_tag is not None and len(bytes.fromhex(stored.author_tag)) == 32
    # the submitter alone still sees and hears about it
    assert "（你提出的）" in await say(pipeline, SECRET_ACCOUNT, "点子 D1")
    assert "D1《夜间照明》（匿名）" in await say(pipeline, SECRET_ACCOUNT, "我的点子")
    told = [(target, text) for key, (target, text) in (await outbox(db)).items() if ":author" in key]
    assert len(told) == 2 and all(target.endswith(SECRET_ACCOUNT) for target, _text in told)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 10


async def test_a_different_key_cannot_find_the_submitter(
    pipeline: Pipeline, db: Database, tmp_path: Path
) -> None:
    await cast(db)
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    other = make_pipeline(db, idea_settings(tmp_path / "elsewhere"))
    assert (await say(other, "zs", "我的点子")).startswith("你还没有提交过金点子。")
    assert (await say(pipeline, "zs", "我的点子")).startswith("你提交的金点子（共 1 条）")
    assert (tmp_path / "ideas.key").stat().st_mode & 0o777 == 0o600


async def test_one_member_supporting_many_at_once_stays_within_the_cap(db: Database, tmp_path: Path) -> None:
    pipeline = make_pipeline(db, idea_settings(tmp_path, max_supports=2))
    await cast(db)
    for i in range(6):
        await say(pipeline, "zs", f"点子 第{i}条建议，内容写得足够长")
    replies = await asyncio.gather(*(say(pipeline, "ls", f"支持 D{i}") for i in range(1, 7)))
    assert sum(text.startswith("已支持") for text in replies) == 2, replies
    assert sum(text.startswith("本轮你已经支持了 2 条点子") for text in replies) == 4
    async with db.read() as session:
        assert await session.scalar(select(func.sum(Idea.support_count))) == 2
        assert await session.scalar(select(func.count()).select_from(IdeaSupport)) == 2


async def test_nothing_in_a_group_tells_who_filed_an_anonymous_idea(pipeline: Pipeline, db: Database) -> None:
    await cast(db)
    await say(pipeline, "zs", "点子 食堂增加夜宵窗口，方便加班老师")
    await say(pipeline, "zs", "匿名点子 教学楼厕所太少，课间总是排长队")
    asked = ("点子 D2", "支持 D2", "取消支持 D2", "我的点子")
    author_sees = [await in_group(pipeline, "zs", text) for text in asked]
    other_sees = [await in_group(pipeline, "ls", text) for text in asked[:3]]
    assert author_sees[:3] == other_sees
    assert other_sees[1] == "D2 是匿名点子，请私聊机器人发送「支持 D2」。"
    assert author_sees[3].splitlines() == [
        "你提交的金点子（共 1 条）：", "D1《食堂增加夜宵窗口，方便加班老师》0 人支持，待评选",
        "（群里只列实名提交的点子。）"]
    assert "你提出的" not in author_sees[0]
    assert (await idea(db, "D2")).support_count == 0
    assert (await say(pipeline, "ls", "支持 D2")).startswith("已支持 D2")
