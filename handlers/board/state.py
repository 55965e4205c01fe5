"""The board's state on the application: rendered pages, members recently checked, the
stylesheet and the link key. Kept on the board's own sub-application."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

#: How long a rendered page is served from memory before it is built again.
PAGE_SECONDS = 20.0
#: How many rendered pages are kept (the most recently used).
PAGE_SLOTS = 512
#: How long "this member is active" is believed before the database is asked again.
MEMBER_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Rendered:
    """A page as sent: its body, entity tag and status."""

    body: bytes
    etag: str
    status: int = 200


@dataclass(slots=True)
class PageCache:
    """Rendered pages by path and query, each kept ``PAGE_SECONDS`` (least recently used
    dropped first), so a group opening the same link does not reach the database each time.
    Requests for a page being rendered wait for that rendering instead of starting another."""

    seconds: float = PAGE_SECONDS
    slots: int = PAGE_SLOTS
    clock: Callable[[], float] = time.monotonic
    _pages: OrderedDict[str, tuple[float, Rendered]] = field(default_factory=OrderedDict)
    _pending: dict[str, asyncio.Task[Rendered]] = field(default_factory=dict)

    async def build(self, key: str, render: Callable[[], Awaitable[Rendered]]) -> Rendered:
        """The page ``render`` makes, made once for all who ask while it is being made;
        kept when it is a ``200``."""
        task = self._pending.get(key)
        if task is None:
            task = self._pending[key] = asyncio.ensure_future(render())
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        page = await asyncio.shield(task)
        if page.status == 200:
            self.put(key, page)
        return page

    def get(self, key: str) -> Rendered | None:
        found = self._pages.get(key)
        if found is None:
            return None
        if self.clock() - found[0] > self.seconds:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: str, page: Rendered) -> None:
        self._pages[key] = (self.clock(), page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.slots:
            self._pages.popitem(last=False)

    def clear(self) -> None:
        self._pages.clear()


@dataclass(slots=True)
class ActiveMembers:
    """Whether a member is active, remembered for ``MEMBER_SECONDS``."""

    seconds: float = MEMBER_SECONDS
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, tuple[float, bool]] = field(default_factory=dict)

    def get(self, member_id: int) -> bool | None:
        found = self._seen.get(member_id)
        if found is None or self.clock() - found[0] > self.seconds:
            return None
        return found[1]

    def put(self, member_id: int, active: bool) -> None:
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[member_id] = (self.clock(), active)


@dataclass(frozen=True, slots=True)
class Stylesheet:
    """The board's CSS and the versioned name it is served under."""

    body: bytes
    name: str  # board-<hash>.css


PAGES = web.AppKey("board_pages", PageCache)
MEMBERS = web.AppKey("board_members", ActiveMembers)
STYLE = web.AppKey("board_style", Stylesheet)
