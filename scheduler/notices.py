"""公告 and 公示 on the calendar: scheduled publication and the end of a 公示期.

Publication: a notice saved with ``发布 <时间>`` is published when its time comes — also
late, after a downtime, as long as it is still scheduled. The run first *claims* it
(``scheduled → published`` in one conditional UPDATE, see ``models.notices.publish``) and
only the run that made the change queues its copies, under the same outbox keys as a
notice published at once: two replicas at the same minute, or a restart in between, send
each group one copy. A notice withdrawn in time is no longer scheduled and is never sent.

Both are caught up at the next run after a downtime, however long, so neither is ever
listed as missed. Expiry: when a 公示期 ends, the officers of the publishing branch are told privately how
many objections came and which are unanswered; the claim (``expired_at``) makes it once.

Keys: ``broadcast:<notice key>:chat:<chat id>`` (as ``bot.publication``) and
``notice:<number>:expired:member:<member id>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Reply
from bot.outbox.queue import CHANNEL_LABELS, chat_target, unreachable_reason
from bot.publication import chat_key, group_text, local
from bot.render import say
from models.chats import group_chats_of, sync_robots
from models.notices import queries
from models.notices.publish import claim_expiry, claim_publication
from models.notices.tables import Notice
from scheduler.occasions import Delivery, Occasion, World

PUBLISH_SOURCE = "notice-publish"
EXPIRY_SOURCE = "notice-expiry"
T = "disclosures"


@dataclass(frozen=True, slots=True)
class NoticeOccasion:
    notice_id: int
    number: str


def _occasion(source: str, kind: str, notice: Notice, due: datetime, title: str) -> Occasion:
    assert notice.id is not None
    return Occasion(key=f"notice:{notice.number}:{kind}", source=source, due_at=due, title=title,
                    payload=NoticeOccasion(notice.id, notice.number))


class NoticePublications:
    """Scheduled 公告 and 公示, published to their branch's groups."""

    name = PUBLISH_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        # overdue ones too: a notice still scheduled after a downtime goes out at the next run,
        # so none is ever missed (a window ending in the past asks for missed ones)
        if end < world.now:
            return []
        return [
            _occasion(PUBLISH_SOURCE, "publish", notice, notice.publish_at,
                      say(T, "publish_title", notice=notice))
            for notice in await queries.due_publications(world.session, end)
        ]

    async def claim(self, world: World, occasion: Occasion) -> bool:
        item: NoticeOccasion = occasion.payload
        return await claim_publication(world.session, item.notice_id, world.now)

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: NoticeOccasion = occasion.payload
        notice = await world.session.get(Notice, item.notice_id)
        if notice is None:
            return []
        await world.session.refresh(notice)
        settings = world.settings
        await sync_robots(world.session, settings.wecom.robots if settings.wecom.enabled else ())
        text = await group_text(world.session, settings, notice)
        result = []
        for chat in await group_chats_of(world.session, notice.branch_id):
            assert chat.id is not None
            target = chat_target(chat)
            problem = unreachable_reason(settings, target.channel, target.kind)
            result.append(Delivery(
                key=chat_key(notice.number, chat.id),
                label=f"{chat.name or chat.chat_id}（{CHANNEL_LABELS.get(chat.channel, chat.channel)}）",
                target=None if problem else target, compose=fixed(text), problem=problem, group=True,
            ))
        return result


class NoticeExpiries:
    """公示 whose period ended: the publishing branch's officers hear how it went."""

    name = EXPIRY_SOURCE

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        if end < world.now:  # as publications: caught up at the next run, never missed
            return []
        found = []
        for notice in await queries.ending(world.session, end):
            assert notice.ends_at is not None
            found.append(_occasion(EXPIRY_SOURCE, "expired", notice, notice.ends_at,
                                   say(T, "expiry_title", notice=notice)))
        return found

    async def claim(self, world: World, occasion: Occasion) -> bool:
        item: NoticeOccasion = occasion.payload
        return await claim_expiry(world.session, item.notice_id, world.now)

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        item: NoticeOccasion = occasion.payload
        notice = await world.session.get(Notice, item.notice_id)
        if notice is None or notice.id is None:
            return []
        objections = await queries.objections_of(world.session, notice.id)
        text = say(T, "expiry_report", notice=notice, ends=local(notice.ends_at, world.tz),
                   total=len(objections), unanswered=[o.number for o in objections if o.answered_at is None])
        roster = await world.roster()
        _, officers = roster.officers_for(notice.branch_id)
        problem = say("reminders", "no_private_account")
        result = []
        for person in sorted(officers, key=lambda p: p.id):
            target = roster.target_of(world.settings, person.id)
            result.append(Delivery(
                key=f"{occasion.key}:member:{person.id}", label=person.label, target=target,
                compose=fixed(text), problem=None if target else problem,
            ))
        return result


def fixed(text: str) -> Callable[[], Reply]:
    def compose() -> Reply:
        return Reply(text)

    return compose
