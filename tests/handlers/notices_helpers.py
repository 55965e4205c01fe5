"""A small union for the 公告 / 公示 / 异议 tests, with a clock the tests set."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bot.config import Settings
from bot.messages import Reply
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from handlers import build_registry
from models.db import Database
from models.notices.tables import Notice
from models.org import Chat, Role
from models.outbox import OutboxMessage
from tests.factories import get_branch, make_member, make_settings, message

SETTINGS = make_settings(
    onebot={"enabled": True, "api_url": "http://127.0.0.1:9"},
    qq_official={"enabled": True, "app_id": "1", "secret": "s"},
)
# Saturday 5 December 2026, 10:00 in Shanghai
NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


@dataclass
class Union:
    """The pipeline and the clock its messages see."""

    db: Database
    pipeline: Pipeline
    settings: Settings
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    async def say(self, text_: str, sender: str, *, group: bool = False) -> str:
        incoming = message(text_, sender=sender, channel="onebot",
                           chat_type="group" if group else "private",
                           chat_id="111" if group else None)
        reply: Reply | None = await self.pipeline.handle(incoming)
        assert reply is not None
        return reply.text

    async def outbox(self) -> list[tuple[str, str, str]]:
        async with self.db.read() as session:
            rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return [(r.key, r.target, json.loads(r.payload)["text"]) for r in rows]

    async def notice(self, number: str) -> Notice:
        async with self.db.read() as session:
            found = await session.scalar(select(Notice).where(Notice.number == number))
            assert found is not None
            return found


async def add_chat(db: Database, channel: str, chat_id: str, name: str, branch: str | None) -> None:
    async with db.write() as session:
        branch_id = (await get_branch(session, branch)).id if branch else None
        session.add(Chat(channel=channel, chat_id=chat_id, chat_type="group", name=name,
                         branch_id=branch_id))


async def make_union(db: Database, monkeypatch: pytest.MonkeyPatch, settings: Settings = SETTINGS) -> Union:
    """校干部 (9001) of the 校工会; 院干部 (9002) and 会员 (9003) of 计算机学院; 外院干部 (9004)."""
    await make_member(db, "1", "校干部", branch="示范大学工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "9001")])
    await make_member(db, "2", "院干部", branch="计算机学院分工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "9002")])
    await make_member(db, "3", "王会员", branch="计算机学院分工会", accounts=[("onebot", "9003")])
    await make_member(db, "4", "外院干部", branch="外国语学院分工会", roles=[Role.OFFICER],
                      accounts=[("onebot", "9004")])
    await make_member(db, "5", "李会员", branch="外国语学院分工会", accounts=[("onebot", "9005")])
    await add_chat(db, "onebot", "111", "计算机学院教职工群", "计算机学院分工会")
    await add_chat(db, "onebot", "222", "外院教职工群", "外国语学院分工会")
    await add_chat(db, "onebot", "333", "未登记的群", None)
    await add_chat(db, "qq_official", "GRP", "计算机学院QQ官方群", "计算机学院分工会")
    clock = [NOW]
    pipeline = Pipeline(db=db, settings=settings, registry=build_registry(), metrics=Metrics(),
                        clock=lambda: clock[0])
    union = Union(db, pipeline, settings, clock)
    return union


async def replica(db: Database) -> Database:
    """A second handle on the same database, as a second process would have."""
    if db.is_sqlite:
        return Database(db.url)
    async with db.read() as session:
        path = str(await session.scalar(text("SHOW search_path")))
    return Database(db.url, connect_args={"server_settings": {"search_path": path}})
