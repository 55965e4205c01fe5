"""A sign-up whose message fails, and an event changed between the read and the admit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.base import utcnow
from models.db import Database
from models.events.admin import cancel_event
from models.events.signups import Applicant, sign_up
from models.events.standing import lock_for
from models.events.tables import Event, EventRefusal, Timing
from tests.factories import make_member
from tests.handlers.test_events_rush import counts_match, signups
from tests.models.test_events_domain import TZ, seed_event


async def test_a_sign_up_whose_message_fails_is_never_made_twice(db: Database) -> None:
    await seed_event(db, capacity=2)
    member = await make_member(db, "20001", "会员1")
    assert member.id is not None
    applicant = Applicant(member.id, member.branch_id, member.gender)

    async def attempt(fail: bool) -> str | None:
        async with db.write() as session:
            outcome = await sign_up(
                session, locked=await lock_for(session, 1, applicant.member_id), who=applicant,
                guests=None, note=None, answers={}, now=utcnow(), tz=TZ, timing=Timing(),
            )
            if fail:
                raise RuntimeError("the reply could not be stored")
            return outcome.was

    with pytest.raises(RuntimeError):
        await attempt(fail=True)
    was = await attempt(fail=False)
    # PostgreSQL: the sign-up stood and the redelivery is told so; SQLite: it was rolled back
    assert was == (None if db.is_sqlite else "confirmed")
    rows = await signups(db)
    assert [(seq, status, place) for _, seq, status, place in rows] == [(1, "confirmed", 1)]
    await counts_match(db)


async def test_an_event_cancelled_after_it_was_read_takes_no_sign_up(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite reads under its write lock: nothing can change after the read")
    await seed_event(db, capacity=5)
    member = await make_member(db, "20001", "会员1")
    assert member.id is not None
    async with db.write() as session:
        locked = await lock_for(session, 1, member.id)
        assert not locked.held
        async with db.write() as other:
            event = await other.scalar(select(Event).where(Event.number == 1).with_for_update())
            assert event is not None
            await cancel_event(other, event=event, reason=None, now=utcnow(), tz=TZ, timing=Timing())
        with pytest.raises(EventRefusal) as refused:
            await sign_up(
                session, locked=locked, who=Applicant(member.id, member.branch_id, member.gender),
                guests=None, note=None, answers={}, now=utcnow() + timedelta(seconds=1), tz=TZ,
                timing=Timing(),
            )
    assert refused.value.reason == "event_cancelled"
    assert await signups(db) == []
