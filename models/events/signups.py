"""Sign-ups — 报名: places, the waitlist (候补), promotion and check-in (签到).

Every change happens under the event's row lock: ``sign_up`` takes it itself, the other
functions expect the caller to hold it (``queries.event_by_number(..., lock=True)``).
On PostgreSQL that is ``SELECT … FOR UPDATE``, so concurrent sign-ups for one event
queue up and each sees what the previous one did; SQLite serialises writers by itself.
On PostgreSQL a member's first sign-up holds the lock for one statement only
(``models.events.admit``), so a rush of sign-ups when an event opens does not queue
behind each message's whole transaction.

Places are counted in persons (the member plus guests). A new party gets a place when
it fits into what is left; otherwise it waits. Whenever places free up, the waitlist is
walked in sign-up order and every party that fits is promoted, so no waiting party ever
fits into the free places.

The event row keeps the counts (places taken, parties with a place and waiting) and the
last numbers handed out, so a sign-up needs no scan of the others: its sign-up number
``seq`` and place number ``place_seq`` come from the row, and as the newest it stands
behind everyone. Place numbers (第 n 位) shown to people are ranks by ``place_seq``
among those holding a place, waitlist positions ranks by ``seq``: both always gapless
(``models.events.standing`` reads them).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import execute_core, set_loaded, table_of
from models.events.admit import admit
from models.events.standing import (
    COUNT_COLUMNS,
    Locked,
    Mine,
    Standing,
    hold_lock,
    mine_of,
    standing_from,
)
from models.events.tables import (
    ACTIVE,
    CANCELLED,
    CONFIRMED,
    OPEN,
    WAITLIST,
    WITHDRAWN,
    Event,
    EventRefusal,
    Signup,
    Timing,
    admits,
    cancelled_refusal,
    closes_at,
    finished_refusal,
    refuse_unless_open,
)
from models.fixed_sql import FixedStatement

logger = logging.getLogger(__name__)

_s = table_of(Signup)
_e = table_of(Event)

_BUMP = FixedStatement(
    update(_e).where(_e.c.id == bindparam("event_id")).values({
        name: _e.c[name] + bindparam(f"d_{name}") for name in COUNT_COLUMNS
    })
)
_WAITING = (
    select(_s.c.id, _s.c.member_id, _s.c.seq, _s.c.guests)
    .where(_s.c.event_id == bindparam("event_id"), _s.c.status == WAITLIST)
    .order_by(_s.c.seq)
)
_INSERT = FixedStatement(
    insert(_s).values(
        event_id=bindparam("event_id"), member_id=bindparam("member_id"), seq=bindparam("seq"),
        status=bindparam("status"), guests=bindparam("guests"), note=bindparam("note"),
        answers=bindparam("answers"), signed_up_at=bindparam("now"),
        confirmed_at=bindparam("confirmed_at"), place_seq=bindparam("place_seq"),
        updated_at=bindparam("now"),
    )
)
_RESTART = FixedStatement(
    update(_s).where(_s.c.id == bindparam("signup_id")).values(
        seq=bindparam("seq"), status=bindparam("status"), guests=bindparam("guests"),
        note=bindparam("note"), answers=bindparam("answers"), signed_up_at=bindparam("now"),
        confirmed_at=bindparam("confirmed_at"), place_seq=bindparam("place_seq"), cancelled_at=None,
        checked_in_at=None, updated_at=bindparam("now"),
    )
)
_AMEND = FixedStatement(
    update(_s).where(_s.c.id == bindparam("signup_id")).values(
        guests=bindparam("guests"), note=bindparam("note"), answers=bindparam("answers"),
        updated_at=bindparam("now"),
    )
)
_PROMOTE = FixedStatement(
    update(_s).where(_s.c.id == bindparam("signup_id")).values(
        status=CONFIRMED, place_seq=bindparam("place_seq"), confirmed_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)
_WITHDRAW = FixedStatement(
    update(_s).where(_s.c.id == bindparam("signup_id")).values(
        status=WITHDRAWN, cancelled_at=bindparam("now"), updated_at=bindparam("now")
    )
)
_CHECK_IN = FixedStatement(
    update(_s).where(_s.c.id == bindparam("signup_id")).values(
        checked_in_at=bindparam("now"), updated_at=bindparam("now")
    )
)


@dataclass(frozen=True, slots=True)
class Promotion:
    """A waiting party that got a place."""

    signup_id: int
    member_id: int
    seq: int
    guests: int
    place: int


@dataclass(frozen=True, slots=True)
class SignupOutcome:
    event: Event
    standing: Standing
    was: str | None  # the status before (None: a new sign-up); guests, note, answers updated
    promoted: tuple[Promotion, ...]  # others who got a place because this freed some


@dataclass(frozen=True, slots=True)
class Withdrawal:
    was: str  # CONFIRMED or WAITLIST
    promoted: tuple[Promotion, ...]


@dataclass(frozen=True, slots=True)
class CheckIn:
    at: datetime
    already: bool
    guests: int


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who signs up: the member's id, branch and gender (for the audience rule)."""

    member_id: int
    branch_id: int
    gender: str | None


async def _bump(session: AsyncSession, event: Event, **deltas: int) -> None:
    """Change the event's counts in the database and on ``event`` itself."""
    params: dict[str, int] = {f"d_{name}": deltas.get(name, 0) for name in COUNT_COLUMNS}
    await _BUMP.execute(session, {"event_id": event.id, **params})
    for name, delta in deltas.items():
        set_loaded(event, name, getattr(event, name) + delta)


# ---------------------------------------------------------------- signing up


def _check_request(event: Event, guests: int, answers: dict[str, str]) -> None:
    if guests > event.max_guests:
        raise EventRefusal("too_many_guests", code=event.code, limit=event.max_guests, guests=guests)
    missing = [name for name in event.field_names if not answers.get(name)]
    if missing:
        raise EventRefusal("missing_answers", code=event.code, missing=missing, fields=event.field_names)


async def sign_up(
    session: AsyncSession, *, locked: Locked, who: Applicant, guests: int | None,
    note: str | None, answers: dict[str, str], now: datetime, tz: ZoneInfo, timing: Timing,
) -> SignupOutcome:
    """Sign ``who`` up for the event ``lock_for`` read, or update their sign-up (what is
    not given is kept).

    ``note=""`` clears the note. Raises ``EventRefusal`` for a closed, cancelled or
    finished event, a member outside the audience, too many guests or missing answers.
    Not under the lock (PostgreSQL), a first sign-up is one statement (``admit``);
    anything else takes the lock and looks again. ``locked.event`` is kept up to date.
    """
    event, mine = locked.event, locked.mine
    refuse_unless_open(event, now, tz, timing)
    if not admits(event, who.branch_id, who.gender):
        raise EventRefusal("not_in_audience", code=event.code)
    if not locked.held:
        return await _sign_up_unlocked(session, locked, who, guests, note, answers, now, tz, timing)
    if mine is not None and mine.status in ACTIVE:
        return await _amend(session, event, mine, guests, note, answers, now)
    return await _add(session, event, mine, who, guests or 0, note, answers, now)


async def _add(
    session: AsyncSession, event: Event, mine: Mine | None, who: Applicant, new_guests: int,
    note: str | None, answers: dict[str, str], now: datetime,
) -> SignupOutcome:
    """A new sign-up (or one after withdrawing), under the lock: last in line."""
    _check_request(event, new_guests, answers)
    confirmed = 1 + new_guests <= event.capacity - event.places_taken
    # the newest sign-up is last in line: behind every place given and every party waiting
    position = (event.confirmed_count if confirmed else event.waiting_count) + 1
    params = {
        "event_id": event.id, "member_id": who.member_id, "seq": event.last_seq + 1,
        "status": CONFIRMED if confirmed else WAITLIST,
        "place_seq": event.last_place + 1 if confirmed else None,
        "confirmed_at": now if confirmed else None,
        "guests": new_guests, "note": note or None, "now": now,
        "answers": json.dumps(answers, ensure_ascii=False),
    }
    if mine is None:
        await _INSERT.execute(session, params)
    else:
        await _RESTART.execute(session, {**params, "signup_id": mine.id})
    if confirmed:
        await _bump(session, event, places_taken=1 + new_guests, confirmed_count=1, last_seq=1,
                    last_place=1)
    else:
        await _bump(session, event, waiting_count=1, last_seq=1)
    standing = Standing(str(params["status"]), position, new_guests, note or None, answers)
    return SignupOutcome(event, standing, was=None, promoted=())


async def _sign_up_unlocked(
    session: AsyncSession, locked: Locked, who: Applicant, guests: int | None,
    note: str | None, answers: dict[str, str], now: datetime, tz: ZoneInfo, timing: Timing,
) -> SignupOutcome:
    """A first sign-up in one statement; the same 报名 again (nothing to change) is
    told where it stands; else the lock is taken and everything re-read."""
    event, mine = locked.event, locked.mine
    if mine is not None and mine.status in ACTIVE and guests is None and note is None and not answers:
        assert event.id is not None
        standing = await standing_from(session, event.id, mine)
        return SignupOutcome(event, standing, was=mine.status, promoted=())
    if mine is None:
        _check_request(event, guests or 0, answers)
        admitted = await admit(
            session, seen=event, member_id=who.member_id, guests=guests or 0, note=note or None,
            answers=json.dumps(answers, ensure_ascii=False), now=now,
        )
        if admitted is not None:
            _refresh(event, admitted.event)
            standing = Standing(admitted.status, admitted.number, guests or 0, note or None, answers)
            return SignupOutcome(event, standing, was=None, promoted=())
    fresh = await hold_lock(session, event.number, who.member_id)
    _refresh(event, fresh.event)
    return await sign_up(
        session, locked=Locked(event, fresh.mine), who=who, guests=guests, note=note,
        answers=answers, now=now, tz=tz, timing=timing,
    )


def _refresh(event: Event, newer: Event) -> None:
    """Give ``event`` the values of ``newer``, a later read of the same row."""
    for column in _e.c:
        set_loaded(event, column.name, getattr(newer, column.name))


async def _amend(
    session: AsyncSession, event: Event, mine: Mine, guests: int | None, note: str | None,
    answers: dict[str, str], now: datetime,
) -> SignupOutcome:
    """Change guests, note or answers of an active sign-up, keeping its place in line."""
    assert event.id is not None
    new_guests = mine.guests if guests is None else guests
    merged = {**json.loads(mine.answers or "{}"), **answers}
    _check_request(event, new_guests, merged)
    more = new_guests - mine.guests
    if mine.status == CONFIRMED and more > 0 and more > event.capacity - event.places_taken:
        raise EventRefusal(
            "no_room_for_guests", code=event.code, free=event.capacity - event.places_taken,
            guests=mine.guests, wanted=new_guests,
        )
    new_note = mine.note if note is None else (note or None)
    answers_json = json.dumps(merged, ensure_ascii=False)
    await _AMEND.execute(session, {
        "signup_id": mine.id, "guests": new_guests, "note": new_note, "now": now,
        "answers": answers_json,
    })
    if mine.status == CONFIRMED and more:
        await _bump(session, event, places_taken=more)
    promoted = await promote(session, event, now) if more < 0 or mine.status == WAITLIST else ()
    mine_now = next((p for p in promoted if p.signup_id == mine.id), None)
    if mine_now is not None:
        standing = Standing(CONFIRMED, mine_now.place, new_guests, new_note, merged)
    else:
        updated = Mine(mine.id, mine.status, mine.seq, mine.place_seq, new_guests, new_note,
                       answers_json, mine.checked_in_at)
        standing = await standing_from(session, event.id, updated)
    others = tuple(p for p in promoted if p.signup_id != mine.id)
    return SignupOutcome(event, standing, was=mine.status, promoted=others)


async def promote(session: AsyncSession, event: Event, now: datetime) -> tuple[Promotion, ...]:
    """Give free places to waiting parties that fit, in sign-up order."""
    assert event.id is not None
    free = event.capacity - event.places_taken
    if event.status != OPEN or free <= 0 or event.waiting_count == 0:
        return ()
    chosen = []
    for signup_id, member_id, seq, guests in (await execute_core(
        session, _WAITING, {"event_id": event.id}
    )).all():
        if 1 + guests <= free:
            chosen.append((signup_id, member_id, seq, guests))
            free -= 1 + guests
            if free == 0:
                break
    if not chosen:
        return ()
    promoted = []
    for index, (signup_id, member_id, seq, guests) in enumerate(chosen, start=1):
        await _PROMOTE.execute(session, {
            "signup_id": signup_id, "place_seq": event.last_place + index, "now": now,
        })
        promoted.append(Promotion(signup_id, member_id, seq, guests, event.confirmed_count + index))
    await _bump(
        session, event, places_taken=sum(1 + p.guests for p in promoted),
        confirmed_count=len(promoted), waiting_count=-len(promoted), last_place=len(promoted),
    )
    logger.info("event %s: promoted %d from the waitlist", event.code, len(promoted))
    return tuple(promoted)


# ---------------------------------------------------------------- withdrawing and check-in


async def _active_signup(session: AsyncSession, event: Event, member_id: int, *, refusal: str) -> Mine:
    """The member's active sign-up for an event; ``refusal`` (saying whether the member
    withdrew or never signed up) if there is none."""
    assert event.id is not None
    mine = await mine_of(session, event.id, member_id)
    if mine is None or mine.status not in ACTIVE:
        raise EventRefusal(refusal, code=event.code, withdrawn=mine is not None)
    return mine


async def withdraw(
    session: AsyncSession, *, event: Event, member_id: int, now: datetime, tz: ZoneInfo
) -> Withdrawal:
    """Take a member's sign-up back (取消报名); a freed place goes to the waitlist."""
    if event.status == CANCELLED:
        raise cancelled_refusal(event)
    mine = await _active_signup(session, event, member_id, refusal="not_signed_up")
    if now >= closes_at(event, tz):
        raise finished_refusal(event)
    if now >= event.starts_at:
        raise EventRefusal("too_late_to_withdraw", code=event.code, starts_at=event.starts_at)
    await _WITHDRAW.execute(session, {"signup_id": mine.id, "now": now})
    if mine.status == CONFIRMED:
        await _bump(session, event, places_taken=-(1 + mine.guests), confirmed_count=-1)
        return Withdrawal(mine.status, await promote(session, event, now))
    await _bump(session, event, waiting_count=-1)
    return Withdrawal(mine.status, ())


async def check_in(
    session: AsyncSession, *, event: Event, member_id: int, now: datetime, tz: ZoneInfo,
    timing: Timing,
) -> CheckIn:
    """Record that a member with a place has arrived (签到), within the check-in window."""
    if event.status == CANCELLED:
        raise cancelled_refusal(event)
    if now >= closes_at(event, tz):
        raise EventRefusal("checkin_over", code=event.code, ended=event.ends_at)
    mine = await _active_signup(session, event, member_id, refusal="checkin_not_signed_up")
    if mine.status == WAITLIST:
        raise EventRefusal("checkin_waitlisted", code=event.code)
    opens = event.starts_at - timing.checkin_margin
    if now < opens:
        raise EventRefusal("checkin_not_yet", code=event.code, opens=opens)
    if mine.checked_in_at is not None:
        return CheckIn(mine.checked_in_at, already=True, guests=mine.guests)
    await _CHECK_IN.execute(session, {"signup_id": mine.id, "now": now})
    return CheckIn(now, already=False, guests=mine.guests)
