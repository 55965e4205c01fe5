"""``公开栏`` in chat: a personal link in private chat, never in a group; the address in
public mode; and the link it gives opens the board."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from handlers.board import links
from models.db import Database
from tests.board.conftest import board_app, board_settings
from tests.clock import FrozenClock
from tests.factories import make_member, message

URL = re.compile(r"https://union\.example\.edu\.cn(/board/enter\?t=\S+)")


def pipeline_of(db: Database, settings: Settings, clock: FrozenClock) -> Pipeline:
    return Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics(), clock=clock)


async def answer(pipeline: Pipeline, words: str, **kw: Any) -> str:
    reply = await pipeline.handle(message(words, **kw))
    assert reply is not None
    return reply.text


async def test_in_private_chat_a_member_gets_a_personal_link_that_opens_the_board(
    db: Database, clock: FrozenClock, tmp_path: Path, aiohttp_client: Any,
) -> None:
    settings = board_settings(tmp_path)
    member = await make_member(db, "10001", "张三", accounts=[("console", "zs")], phone="13812345678")
    text = await answer(pipeline_of(db, settings, clock), "公开栏", sender="zs")
    assert text.startswith("这是您的公开栏专属链接，30 天内有效（到 ")
    assert "请不要转发到群里" in text
    path = URL.search(text)
    assert path is not None
    token = path[1].split("t=")[1]
    found = links.read(settings.board.key_file, token, clock.seconds())
    assert found is not None and found.member_id == member.id
    assert found.expires == int(clock.seconds()) + 30 * 86400
    client = await aiohttp_client(board_app(db, settings, clock))
    response = await client.get(path[1], allow_redirects=False)
    assert response.status == 303 and links.COOKIE in response.cookies


async def test_in_a_group_no_personal_link_is_posted(
    db: Database, clock: FrozenClock, tmp_path: Path,
) -> None:
    await make_member(db, "10001", "张三", accounts=[("console", "zs")])
    text = await answer(pipeline_of(db, board_settings(tmp_path), clock), "公开栏", sender="zs",
                        chat_type="group")
    assert text == "公开栏的链接是每位会员专用的，不在群里发。请私聊“工会助手”发送：公开栏"
    assert "http" not in text and "enter" not in text


async def test_an_unbound_person_is_asked_to_bind_first(
    db: Database, clock: FrozenClock, tmp_path: Path,
) -> None:
    text = await answer(pipeline_of(db, board_settings(tmp_path), clock), "公开栏", sender="stranger")
    assert "先绑定工号" in text and "http" not in text


async def test_in_public_mode_anyone_gets_the_plain_address(
    db: Database, clock: FrozenClock, tmp_path: Path,
) -> None:
    pipeline = pipeline_of(db, board_settings(tmp_path, "public"), clock)
    for kw in ({"sender": "stranger"}, {"sender": "stranger", "chat_type": "group"}):
        text = await answer(pipeline, "公开栏", **kw)  # type: ignore[arg-type]
        assert text.splitlines()[-1] == "https://union.example.edu.cn/board/"


async def test_help_lists_the_command(db: Database, clock: FrozenClock, tmp_path: Path) -> None:
    await make_member(db, "10001", "张三", accounts=[("console", "zs")])
    pipeline = pipeline_of(db, board_settings(tmp_path), clock)
    listing = await answer(pipeline, "帮助", sender="zs")
    assert re.search(r"【公告公示】.*公开栏", listing)
    explained = await answer(pipeline, "帮助 公开栏", sender="zs")
    assert explained.startswith(
        "公开栏：得到公开栏网页（公告、公示、金点子、提案、活动）的个人链接，请私聊发送")
