"""The rules of events: places, waitlist, promotion, check-in, changes, numbering."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.base import utcnow
from models.db import Database
from models.events.admin import EventDraft, cancel_event, create_event, modify_event
from models.events.queries import event_by_number, roster
from models.events.signups import Applicant, SignupOutcome, check_in, sign_up, withdraw
from models.events.standing import lock_for, recount, standing_of
from models.events.tables import CANCELLED, Event, EventRefusal, Signup, Timing, code_of, parse_code
from models.org import Member
from tests.factories import make_member

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing()


async def seed_event(
    db: Database, *, number: int = 1, capacity: int = 3, max_guests: int = 0,
    starts_in: timedelta = timedelta(days=7), lasts: timedelta | None = None,
    deadline_in: timedelta | None = None, branch_id: int | None = None,
    gender: str | None = None, fields: tuple[str, ...] = (),
) -> Event:
    now = utcnow()
    starts_at = now + starts_in
    async with db.write() as session:
        event = Event(
            number=number, title="教职工羽毛球赛", place="体育馆", starts_at=starts_at,
            ends_at=starts_at + lasts if lasts else None,
            deadline=now + deadline_in if deadline_in is not None else None,
            capacity=capacity, max_guests=max_guests, audience_branch_id=branch_id,
            audience_gender=gender, fields=json.dumps(list(fields), ensure_ascii=False),
        )
        session.add(event)
    return event


async def members(db: Database, count: int, *, first: int = 0, **kw: object) -> list[Member]:
    return [
        await make_member(db, f"2{i:04d}", f"会员{i}", **kw)  # type: ignore[arg-type]
        for i in range(first, first + count)
    ]


def who(member: Member) -> Applicant:
    assert member.id is not None
    return Applicant(member.id, member.branch_id, member.gender)


async def join(
    db: Database, member: Member, *, number: int = 1, guests: int | None = None,
    note: str | None = None, answers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> SignupOutcome:
    async with db.write() as session:
        assert member.id is not None
        return await sign_up(
            session, locked=await lock_for(session, number, member.id), who=who(member),
            guests=guests, note=note, answers=answers or {}, now=now or utcnow(), tz=TZ,
            timing=TIMING,
        )


async def leave(
    db: Database, member: Member, number: int = 1, *, now: datetime | None = None
) -> tuple[str, list[int]]:
    async with db.write() as session:
        event = await event_by_number(session, number, lock=True)
        assert event is not None and member.id is not None
        result = await withdraw(session, event=event, member_id=member.id, now=now or utcnow(), tz=TZ)
    return result.was, [p.member_id for p in result.promoted]


async def places(db: Database, number: int = 1) -> list[tuple[str, int, str]]:
    """The roster; also checks that the counts kept on the event match the sign-ups."""
    async with db.read() as session:
        event = await event_by_number(session, number)
        assert event is not None and event.id is not None
        kept = {name: getattr(event, name) for name in (
            "places_taken", "confirmed_count", "waiting_count", "last_seq", "last_place")}
        assert kept == await recount(session, event.id)
        return [(line.name, line.number, line.status) for line in await roster(session, event.id)]


# ---------------------------------------------------------------- places and waitlist


async def test_places_then_waitlist_with_gapless_numbers(db: Database) -> None:
    await seed_event(db, capacity=3)
    people = await members(db, 5)
    outcomes = [await join(db, m) for m in people]
    assert [(o.standing.status, o.standing.number) for o in outcomes] == [
        ("confirmed", 1), ("confirmed", 2), ("confirmed", 3), ("waitlist", 1), ("waitlist", 2),
    ]
    assert all(o.was is None for o in outcomes)
    assert [(number, status) for _, number, status in await places(db)] == [
        (1, "confirmed"), (2, "confirmed"), (3, "confirmed"), (1, "waitlist"), (2, "waitlist"),
    ]


async def test_a_freed_place_goes_to_the_first_waiting_party_that_fits(db: Database) -> None:
    await seed_event(db, capacity=4, max_guests=2)
    a, b, c, d = await members(db, 4)
    await join(db, a, guests=1)
    await join(db, b, guests=1)
    assert (await join(db, c, guests=2)).standing.status == "waitlist"  # a party of 3
    assert (await join(db, d)).standing.status == "waitlist"
    was, promoted = await leave(db, a)  # frees 2 places: C (3) does not fit, D (1) does
    assert was == "confirmed"
    assert promoted == [d.id]
    assert await places(db) == [
        ("会员1", 1, "confirmed"), ("会员3", 2, "confirmed"), ("会员2", 1, "waitlist"),
    ]
    _, promoted = await leave(db, b)  # now 3 free: C fits
    assert promoted == [c.id]
    assert await places(db) == [("会员3", 1, "confirmed"), ("会员2", 2, "confirmed")]


async def test_signing_up_again_updates_guests_and_note_and_keeps_the_place(db: Database) -> None:
    await seed_event(db, capacity=4, max_guests=2)
    a, b = await members(db, 2)
    await join(db, a, note="素食")
    await join(db, b)
    again = await join(db, a, guests=1)
    assert again.was == "confirmed"
    assert (again.standing.number, again.standing.guests, again.standing.note) == (1, 1, "素食")
    cleared = await join(db, a, note="")
    assert cleared.standing.note is None and cleared.standing.guests == 1
    assert await places(db) == [("会员0", 1, "confirmed"), ("会员1", 2, "confirmed")]


async def test_more_guests_than_places_left_is_refused_and_nothing_changes(db: Database) -> None:
    await seed_event(db, capacity=3, max_guests=2)
    a, b = await members(db, 2)
    await join(db, a)
    await join(db, b, guests=1)
    with pytest.raises(EventRefusal) as info:
        await join(db, a, guests=2)
    assert info.value.reason == "no_room_for_guests"
    assert info.value.values["free"] == 0
    async with db.read() as session:
        assert a.id is not None
        standing = await standing_of(session, 1, a.id)
    assert standing is not None and standing.guests == 0
    assert len(await places(db)) == 2


async def test_a_waiting_member_who_brings_fewer_guests_may_get_a_place(db: Database) -> None:
    await seed_event(db, capacity=2, max_guests=2)
    a, b = await members(db, 2)
    await join(db, a)
    assert (await join(db, b, guests=2)).standing.status == "waitlist"
    now_fits = await join(db, b, guests=0)
    assert now_fits.was == "waitlist"
    assert (now_fits.standing.status, now_fits.standing.number) == ("confirmed", 2)
    assert await places(db) == [("会员0", 1, "confirmed"), ("会员1", 2, "confirmed")]


async def test_withdrawing_twice_and_signing_up_again_goes_to_the_back(db: Database) -> None:
    await seed_event(db, capacity=1)
    a, b, c = await members(db, 3)
    await join(db, a)
    await join(db, b)
    await join(db, c)
    assert await leave(db, b) == ("waitlist", [])
    with pytest.raises(EventRefusal) as info:
        await leave(db, b)
    assert (info.value.reason, info.value.values["withdrawn"]) == ("not_signed_up", True)
    (never,) = await members(db, 1, first=3)
    with pytest.raises(EventRefusal) as info:
        await leave(db, never)
    assert (info.value.reason, info.value.values["withdrawn"]) == ("not_signed_up", False)
    back = await join(db, b)
    assert (back.was, back.standing.status, back.standing.number) == (None, "waitlist", 2)
    async with db.read() as session:
        seqs = (await session.execute(select(Signup.member_id, Signup.seq).order_by(Signup.seq))).all()
    assert [tuple(row) for row in seqs] == [(a.id, 1), (c.id, 3), (b.id, 4)]
    assert await places(db) == [("会员0", 1, "confirmed"), ("会员2", 1, "waitlist"), ("会员1", 2, "waitlist")]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"deadline_in": timedelta(seconds=-1)}, "signup_closed"),
        ({"starts_in": timedelta(days=-2)}, "event_finished"),
        ({"starts_in": timedelta(hours=-3), "lasts": timedelta(hours=1)}, "event_finished"),
        ({"gender": "男"}, "not_in_audience"),
        ({"max_guests": 1, "guests": 2}, "too_many_guests"),
        ({"fields": ("尺码",)}, "missing_answers"),
    ],
)
async def test_sign_up_refusals(db: Database, setup: dict[str, object], reason: str) -> None:
    setup = dict(setup)
    guests = setup.pop("guests", None)
    await seed_event(db, **setup)  # type: ignore[arg-type]
    (a,) = await members(db, 1)
    with pytest.raises(EventRefusal) as info:
        await join(db, a, guests=guests)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert await places(db) == []


async def test_only_the_audience_branch_may_sign_up(db: Database) -> None:
    (cs,) = await members(db, 1, branch="计算机学院分工会")
    (lib,) = await members(db, 1, first=1, branch="图书馆分工会")
    await seed_event(db, branch_id=cs.branch_id)
    assert (await join(db, cs)).standing.status == "confirmed"
    with pytest.raises(EventRefusal):
        await join(db, lib)


async def test_a_cancelled_event_takes_no_sign_ups(db: Database) -> None:
    await seed_event(db)
    a, b = await members(db, 2)
    await join(db, a)
    async with db.write() as session:
        event = await event_by_number(session, 1, lock=True)
        assert event is not None
        told = await cancel_event(session, event=event, reason="下雨", now=utcnow(), tz=TZ, timing=TIMING)
    assert [p.member_id for p in told] == [a.id]
    with pytest.raises(EventRefusal) as info:
        await join(db, b)
    assert (info.value.reason, info.value.values["reason"]) == ("event_cancelled", "下雨")
    assert info.value.values["at"] is not None
    with pytest.raises(EventRefusal) as info:
        await leave(db, a)
    assert info.value.reason == "event_cancelled"


async def test_withdrawing_after_the_end_names_the_end_not_the_start(db: Database) -> None:
    event = await seed_event(db, lasts=timedelta(hours=2))
    (a,) = await members(db, 1)
    await join(db, a)
    with pytest.raises(EventRefusal) as info:
        await leave(db, a, now=event.starts_at + timedelta(hours=1))
    assert (info.value.reason, info.value.values["starts_at"]) == ("too_late_to_withdraw", event.starts_at)
    with pytest.raises(EventRefusal) as info:
        await leave(db, a, now=event.starts_at + timedelta(hours=3))
    assert (info.value.reason, info.value.values["ended"]) == ("event_finished", event.ends_at)


# ---------------------------------------------------------------- check-in


async def _check_in(db: Database, member: Member, at: datetime) -> tuple[bool, datetime]:
    async with db.write() as session:
        event = await event_by_number(session, 1)
        assert event is not None and member.id is not None
        done = await check_in(session, event=event, member_id=member.id, now=at, tz=TZ, timing=TIMING)
    return done.already, done.at


async def test_check_in_window_and_who_may_check_in(db: Database) -> None:
    event = await seed_event(db, capacity=1, starts_in=timedelta(hours=2), lasts=timedelta(hours=2))
    a, b, c = await members(db, 3)
    await join(db, a)
    await join(db, b)
    start = event.starts_at
    with pytest.raises(EventRefusal) as info:
        await _check_in(db, a, start - timedelta(minutes=31))
    assert info.value.reason == "checkin_not_yet"
    assert info.value.values["opens"] == start - timedelta(minutes=30)
    first = start - timedelta(minutes=10)
    assert await _check_in(db, a, first) == (False, first)
    assert await _check_in(db, a, start) == (True, first)
    for member, reason in ((b, "checkin_waitlisted"), (c, "checkin_not_signed_up")):
        with pytest.raises(EventRefusal) as info:
            await _check_in(db, member, start)
        assert info.value.reason == reason
    with pytest.raises(EventRefusal) as info:
        await _check_in(db, a, start + timedelta(hours=2))
    assert (info.value.reason, info.value.values["ended"]) == ("checkin_over", event.ends_at)


async def test_check_in_refusals_tell_withdrawn_from_never_and_name_the_end_first(db: Database) -> None:
    event = await seed_event(db, starts_in=timedelta(hours=2), lasts=timedelta(hours=2))
    a, b = await members(db, 2)
    await join(db, a)
    await leave(db, a)
    for member, withdrawn in ((a, True), (b, False)):
        with pytest.raises(EventRefusal) as info:
            await _check_in(db, member, event.starts_at)
        assert (info.value.reason, info.value.values["withdrawn"]) == ("checkin_not_signed_up", withdrawn)
    with pytest.raises(EventRefusal) as info:  # over for everyone, signed up or not
        await _check_in(db, b, event.starts_at + timedelta(hours=3))
    assert info.value.reason == "checkin_over"


# ---------------------------------------------------------------- creating and changing


def draft(**changes: object) -> EventDraft:
    start = utcnow() + timedelta(days=3)
    values: dict[str, object] = {
        "title": "迎新春茶话会", "place": "教工之家", "starts_at": start, "capacity": 50,
    }
    values.update(changes)
    return EventDraft(**values)  # type: ignore[arg-type]


async def test_codes_count_up_and_read_back() -> None:
    assert code_of(12) == "A12"
    assert [parse_code(t) for t in ("A12", "a7", "A012", "A0", "B3", "A", "A1x", "12")] == [
        12, 7, 12, None, None, None, None, None,
    ]


async def test_create_numbers_events_a1_a2(db: Database) -> None:
    async with db.write() as session:
        first = await create_event(session, draft=draft(), created_by=None, now=utcnow())
        second = await create_event(session, draft=draft(fields=("尺码",)), created_by=None, now=utcnow())
    assert (first.code, second.code) == ("A1", "A2")
    assert second.field_names == ["尺码"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"starts_at": utcnow() - timedelta(minutes=1)}, "start_in_past"),
        ({"ends_at": utcnow() + timedelta(days=2)}, "end_before_start"),
        ({"deadline": utcnow() + timedelta(days=4)}, "deadline_after_start"),
        ({"deadline": utcnow() - timedelta(hours=1)}, "deadline_in_past"),
    ],
)
async def test_create_refuses_impossible_times(db: Database, changes: dict[str, object], reason: str) -> None:
    async with db.write() as session:
        with pytest.raises(EventRefusal) as info:
            await create_event(session, draft=draft(**changes), created_by=None, now=utcnow())
        assert info.value.reason == reason
    async with db.read() as session:
        assert (await session.scalars(select(Event))).all() == []


async def _modify(db: Database, **changes: object) -> tuple[tuple[str, ...], list[int], int]:
    async with db.write() as session:
        event = await event_by_number(session, 1, lock=True)
        assert event is not None
        result = await modify_event(session, event=event, changes=changes, now=utcnow(), tz=TZ, timing=TIMING)
        return result.changed, [p.member_id for p in result.promoted], event.revision


async def test_raising_capacity_promotes_lowering_below_taken_is_refused(db: Database) -> None:
    await seed_event(db, capacity=2, max_guests=2)
    a, b, c, d = await members(db, 4)
    await join(db, a, guests=1)
    for m in (b, c, d):
        await join(db, m)
    with pytest.raises(EventRefusal) as info:
        await _modify(db, capacity=1)
    assert (info.value.reason, info.value.values["taken"]) == ("capacity_below_taken", 2)
    with pytest.raises(EventRefusal) as info:
        await _modify(db, max_guests=0)
    assert (info.value.reason, info.value.values["most"]) == ("guests_below_taken", 1)
    changed, promoted, revision = await _modify(db, capacity=4)
    assert (changed, promoted, revision) == (("capacity",), [b.id, c.id], 0)
    assert [status for _, _, status in await places(db)] == ["confirmed"] * 3 + ["waitlist"]


async def test_moving_the_event_counts_a_revision(db: Database) -> None:
    event = await seed_event(db)
    changed, _, revision = await _modify(db, place="操场", starts_at=event.starts_at + timedelta(days=1))
    assert (set(changed), revision) == ({"place", "starts_at"}, 1)
    assert (await _modify(db, place="操场"))[0] == ()


async def moved_and_updated(
    db: Database, at: datetime, **changes: object
) -> tuple[datetime | None, datetime]:
    async with db.write() as session:
        event = await event_by_number(session, 1, lock=True)
        assert event is not None
        await modify_event(session, event=event, changes=changes, now=at, tz=TZ, timing=TIMING)
    async with db.read() as session:
        event = await event_by_number(session, 1)
        assert event is not None
        return event.moved_at, event.updated_at


async def test_only_a_change_of_time_or_place_marks_the_event_moved(db: Database) -> None:
    event = await seed_event(db, lasts=timedelta(hours=2))
    now = utcnow()
    assert await moved_and_updated(db, now, capacity=5, note="自带球拍") == (None, now)
    first = now + timedelta(minutes=1)
    assert await moved_and_updated(db, first, place="操场") == (first, first)
    later = now + timedelta(minutes=2)
    assert await moved_and_updated(db, later, max_guests=1, audience_gender="女") == (first, later)
    end = now + timedelta(minutes=3)
    assert await moved_and_updated(db, end, ends_at=event.starts_at + timedelta(hours=3)) == (end, end)


async def test_narrowing_the_audience_never_drops_anyone(db: Database) -> None:
    await seed_event(db)
    (man,) = await members(db, 1, gender="男")
    await join(db, man)
    with pytest.raises(EventRefusal) as info:
        await _modify(db, audience_gender="女")
    assert (info.value.reason, info.value.values["names"]) == ("audience_excludes", ["会员0"])


async def test_a_cancelled_event_cannot_be_cancelled_or_changed(db: Database) -> None:
    await seed_event(db)
    async with db.write() as session:
        event = await event_by_number(session, 1, lock=True)
        assert event is not None
        await cancel_event(session, event=event, reason=None, now=utcnow(), tz=TZ, timing=TIMING)
        assert event.status == CANCELLED
        with pytest.raises(EventRefusal) as info:
            await cancel_event(session, event=event, reason=None, now=utcnow(), tz=TZ, timing=TIMING)
        assert info.value.reason == "event_cancelled"
        assert info.value.values["at"] == event.cancelled_at
    with pytest.raises(EventRefusal) as info:
        await _modify(db, capacity=10)
    assert info.value.reason == "event_cancelled"
