"""A new sign-up on PostgreSQL in one statement — the 报名 rush.

When an event opens, hundreds of members sign up for it within seconds, and every
sign-up needs the event's row lock: its counts decide place or waitlist, its last
numbers the order. A row lock is held until the transaction ends, so what a sign-up
does after taking it decides how many sign-ups per second the event takes.

``admit`` therefore does a first sign-up of a member as one statement: it locks the
event row, inserts the sign-up with the next numbers, and adds it to the counts:

    WITH e AS (SELECT … FROM event WHERE id = … AND <what was checked is unchanged>
               FOR UPDATE),
         ins AS (INSERT INTO event_signup … SELECT … FROM e
                 ON CONFLICT ON CONSTRAINT uq_event_signup_member DO NOTHING RETURNING …),
         bump AS (UPDATE event SET <counts + this sign-up> FROM ins WHERE …)
    SELECT … FROM ins, e

Waiting for the lock, PostgreSQL reads the newest committed event row (READ COMMITTED
re-reads a row it waited for), so the counts are exact. The conflict clause sees
committed sign-ups the statement's snapshot does not, so a member signing up twice at
once is caught. No row comes back when the member already has a sign-up or the event
changed since it was read (cancelled, edited): the caller then takes the lock the
ordinary way and looks again.

The statement runs on an autocommit connection beside the message's transaction
(``models.db.side_connection``), so the lock is held while it runs and no longer: the
rest of the message (the reply, its dedup record, the commit) no longer queues every
other sign-up behind it. The sign-up therefore stands even if the message's
transaction fails afterwards; a redelivered message finds it and is told where it
stands, so it is never made twice. The caller must not hold the event's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text, bindparam, case, literal, select, true, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.base import UTCDateTime, snapshot, table_of
from models.db import side_connection
from models.events.tables import CONFIRMED, OPEN, WAITLIST, Event, Signup

_s = table_of(Signup)
_e = table_of(Event)

# the event fields the sign-up rules read (open, deadline, audience, guests, fields):
# the statement admits only while they are as the caller saw them
CHECKED = ("deadline", "starts_at", "ends_at", "audience_branch_id", "audience_gender",
           "max_guests", "fields")


_GUESTS = bindparam("guests", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())


def _locked_event() -> Any:
    return (
        select(_e)
        .where(_e.c.id == bindparam("event_id"), _e.c.status == OPEN,
               *(_e.c[name].is_not_distinct_from(bindparam(f"seen_{name}", type_=_e.c[name].type))
                 for name in CHECKED))
        .with_for_update()
        .cte("e")
    )


def _insert(e: Any) -> Any:
    from sqlalchemy.dialects import postgresql  # loaded only where PostgreSQL runs this

    fits = literal(1) + _GUESTS <= e.c.capacity - e.c.places_taken
    return (
        postgresql.insert(_s)
        .from_select(
            ["event_id", "member_id", "seq", "status", "guests", "note", "answers",
             "signed_up_at", "confirmed_at", "place_seq", "updated_at"],
            select(
                e.c.id, bindparam("member_id", type_=Integer), e.c.last_seq + 1,
                case((fits, CONFIRMED), else_=WAITLIST), _GUESTS,
                bindparam("signup_note", type_=Text), bindparam("signup_answers", type_=Text), _NOW,
                case((fits, _NOW)), case((fits, e.c.last_place + 1)), _NOW,
            ),
        )
        .on_conflict_do_nothing(constraint="uq_event_signup_member")
        .returning(_s.c.event_id, _s.c.status)
        .cte("ins")
    )


def _statement() -> Any:
    e = _locked_event()
    ins = _insert(e)
    placed = ins.c.status == CONFIRMED
    bump = (
        update(_e)
        .where(_e.c.id == ins.c.event_id)
        .values(
            last_seq=_e.c.last_seq + 1,
            places_taken=_e.c.places_taken + case((placed, literal(1) + _GUESTS), else_=0),
            confirmed_count=_e.c.confirmed_count + case((placed, 1), else_=0),
            waiting_count=_e.c.waiting_count + case((placed, 0), else_=1),
            last_place=_e.c.last_place + case((placed, 1), else_=0),
        )
        .cte("bump")
    )
    return select(ins.c.status.label("signup_status"), *e.c).select_from(ins.join(e, true())).add_cte(bump)


# SQLAlchemy cannot cache an INSERT … SELECT, and compiling this statement costs more
# than running it: it is built and compiled once, on first use, and sent as SQL text.
_COMPILED: dict[str, tuple[str, tuple[str, ...], dict[str, Any], dict[str, Any]]] = {}


def _compiled(dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any], dict[str, Any]]:
    if dialect.name not in _COMPILED:
        compiled = _statement().compile(dialect=dialect)
        assert compiled.positiontup is not None, "a positional paramstyle is expected"
        binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                 for bind, name in compiled.bind_names.items()}
        _COMPILED[dialect.name] = (compiled.string, tuple(compiled.positiontup),
                                   dict(compiled.params), binds)
    return _COMPILED[dialect.name]


async def _run(connection: AsyncConnection, params: dict[str, Any]) -> dict[str, Any] | None:
    sql, names, defaults, binds = _compiled(connection.dialect)
    values = {**defaults, **params}
    args = tuple(
        value if (convert := binds.get(name)) is None or value is None else convert(value)
        for name, value in ((name, values[name]) for name in names)
    )
    row = (await connection.exec_driver_sql(sql, args)).first()
    return None if row is None else dict(row._mapping)


@dataclass(frozen=True, slots=True)
class Admitted:
    """The sign-up made: its status, its number (place or waitlist position) and the
    event as it is now, counts included."""

    status: str
    number: int
    event: Event


async def admit(
    session: AsyncSession, *, seen: Event, member_id: int, guests: int, note: str | None,
    answers: str, now: datetime,
) -> Admitted | None:
    """Sign ``member_id`` up for ``seen`` in one statement, or None (see the module)."""
    params: dict[str, Any] = {
        "event_id": seen.id, "member_id": member_id, "guests": guests, "signup_note": note,
        "signup_answers": answers, "now": now,
        **{f"seen_{name}": getattr(seen, name) for name in CHECKED},
    }
    async with side_connection(session) as side:
        values = await _run(side if side is not None else await session.connection(), params)
    if values is None:
        return None
    status = values.pop("signup_status")
    placed = status == CONFIRMED
    number = (values["confirmed_count"] if placed else values["waiting_count"]) + 1
    values["last_seq"] += 1
    if placed:
        values["places_taken"] += 1 + guests
        values["confirmed_count"] += 1
        values["last_place"] += 1
    else:
        values["waiting_count"] += 1
    return Admitted(status, number, snapshot(Event, values))
