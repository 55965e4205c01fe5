"""An event opening: many sign-ups at once, retried deliveries and repeats, on SQLite
and PostgreSQL (where a first sign-up is one statement beside the message's transaction)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.pipeline import Pipeline
from models.db import Database
from models.events.queries import event_by_number
from models.events.standing import recount
from models.events.tables import Signup
from models.org import Member, Role
from tests.factories import make_member, message
from tests.handlers.test_events_concurrency import crowd, number

PLACES = 12


async def open_event(pipeline: Pipeline, db: Database, members: int) -> None:
    await make_member(db, "10001", "王干部", roles=[Role.OFFICER], accounts=[("console", "officer")])
    created = await pipeline.handle(message(
        f"发起活动 新春游园会 时间 下周六 9:00 地点 体育馆 名额 {PLACES}", sender="officer"
    ))
    assert created is not None and created.text.startswith("已发起活动 A1")
    await crowd(db, members)


async def signups(db: Database) -> list[tuple[int, int, str, int | None]]:
    """(member, seq, status, place_seq) of every sign-up, in sign-up order."""
    async with db.read() as session:
        rows = await session.execute(
            select(Signup.member_id, Signup.seq, Signup.status, Signup.place_seq).order_by(Signup.seq)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def counts_match(db: Database) -> None:
    async with db.read() as session:
        event = await event_by_number(session, 1)
        assert event is not None and event.id is not None
        stored = {name: getattr(event, name) for name in (await recount(session, event.id))}
        assert stored == await recount(session, event.id)


async def test_a_rush_with_retries_and_repeats_fills_exactly_the_places(
    pipeline: Pipeline, db: Database
) -> None:
    await open_event(pipeline, db, 60)
    firsts = [message("报名 A1", sender=f"p{i}", message_id=f"rush{i}") for i in range(60)]
    retries = [message("报名 A1", sender=f"p{i}", message_id=f"rush{i}") for i in range(0, 60, 4)]
    repeats = [message("报名 A1", sender=f"p{i}", message_id=f"again{i}") for i in range(1, 60, 4)]
    replies = await asyncio.gather(*(pipeline.handle(m) for m in [*firsts, *retries, *repeats]))
    texts = [reply.text if reply is not None else "" for reply in replies]
    first_texts, retry_texts, repeat_texts = texts[:60], texts[60:75], texts[75:]
    # the member who sends 报名 again is told where they stand
    assert all("你仍是第" in text or "你仍在候补" in text for text in repeat_texts), repeat_texts

    results = [number(text) for text in first_texts]
    assert sorted(n for s, n in results if s == "confirmed") == list(range(1, PLACES + 1))
    assert sorted(n for s, n in results if s == "waitlist") == list(range(1, 60 - PLACES + 1))
    # a retried delivery gets the answer of the first, never a second sign-up
    assert retry_texts == [first_texts[i] for i in range(0, 60, 4)]

    rows = await signups(db)
    assert len(rows) == 60 and len({member for member, *_ in rows}) == 60
    assert [seq for _, seq, _, _ in rows] == list(range(1, 61))
    # places go to the first in sign-up order; the waitlist follows in that order
    assert [status for _, _, status, _ in rows] == ["confirmed"] * PLACES + ["waitlist"] * (60 - PLACES)
    assert [place for _, _, _, place in rows[:PLACES]] == list(range(1, PLACES + 1))
    await counts_match(db)


async def test_who_signs_up_after_an_answer_stands_behind_it(pipeline: Pipeline, db: Database) -> None:
    await open_event(pipeline, db, 40)
    early = await asyncio.gather(*(pipeline.handle(message("报名 A1", sender=f"p{i}")) for i in range(20)))
    late = await asyncio.gather(*(pipeline.handle(message("报名 A1", sender=f"p{i}")) for i in range(20, 40)))
    assert all(reply is not None for reply in [*early, *late])
    async with db.read() as session:
        seq_of = dict((await session.execute(
            select(Member.staff_no, Signup.seq).join(Signup, Signup.member_id == Member.id)
        )).tuples().all())
    assert max(seq_of[f"3{i:04d}"] for i in range(20)) < min(seq_of[f"3{i:04d}"] for i in range(20, 40))
    assert sorted(seq_of.values()) == list(range(1, 41))
    await counts_match(db)
