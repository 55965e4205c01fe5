"""What every scheduled message has in common: occasions, deliveries and their sources.

An *occasion* is one thing the calendar or the data says must happen at a time (the 2027
端午 notice, the birthday list of 3 March). A *delivery* is one message of an occasion to
one recipient, with the outbox idempotency key that makes it go out exactly once.

A *source* is a small module that knows one kind of occasion. It answers two questions:

``occasions(world, start, end)``
    the occasions due in ``(start, end]`` — cheap: from the calendar and the settings,
    or from one indexed query; it runs every minute.
``deliveries(world, occasion)``
    the messages of one occasion, one per recipient, in a stable order (sorted by
    recipient id), so that two runners insert the same keys in the same order.

A source whose occasion changes state (a scheduled notice becoming published) also has
``claim(world, occasion)``: the run calls it first, in the same transaction, and queues
the deliveries only when it returns True, so of two runs at once exactly one does the work.

Sources are listed in :mod:`scheduler.sources`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.messages import Reply
from bot.outbox.queue import Target
from scheduler.audience import Roster, load_roster


@dataclass(frozen=True, slots=True)
class Occasion:
    """One scheduled thing: ``key`` is unique per occasion (e.g. ``holiday:2027-端午``)."""

    key: str
    source: str  # the name of the source that knows it
    due_at: datetime  # UTC
    title: str  # one line for people, e.g. "端午节慰问通知（节日 6月9日）"
    payload: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message of an occasion to one recipient.

    ``target`` is None when the recipient cannot be reached; ``problem`` then says why.
    A ``nobody`` delivery keeps an occasion without any recipient in the plan, with why.
    ``compose`` renders the message (only called when it is really queued or previewed).
    """

    key: str  # the outbox idempotency key, ≤ 255 characters
    label: str  # who, for the plan: "计算机学院教职工群（QQ（OneBot））", "张三（10001）"
    target: Target | None
    compose: Callable[[], Reply] = field(compare=False, repr=False)
    problem: str | None = None
    group: bool = False  # a group chat (else a person)
    nobody: bool = False  # stands for recipients that do not exist yet (``problem`` says why)


@dataclass(slots=True)
class World:
    """What a source may look at: the session, the settings and the moment of the run."""

    session: AsyncSession
    settings: Settings
    now: datetime  # UTC; the moment the plan is made or the run happens
    _roster: Roster | None = None

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.union.tz

    async def roster(self) -> Roster:
        """Members, branches, officers and accounts, loaded once per world."""
        if self._roster is None:
            self._roster = await load_roster(self.session)
        return self._roster


class Source(Protocol):
    """A kind of scheduled message (see the module docstring)."""

    name: str

    async def occasions(self, world: World, start: datetime, end: datetime) -> list[Occasion]:
        """The occasions due after ``start`` and at or before ``end`` (both UTC)."""
        ...

    async def deliveries(self, world: World, occasion: Occasion) -> list[Delivery]:
        """The messages of ``occasion``, in a stable order."""
        ...


@runtime_checkable
class Claiming(Protocol):
    """A source whose occasions are claimed before they run (see the module docstring)."""

    async def claim(self, world: World, occasion: Occasion) -> bool:
        """Take the occasion for this run; False when another run has taken it."""
        ...
