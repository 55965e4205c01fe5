"""The QQ accounts connected by OneBot v11 reverse WebSocket, and API calls over them.

One ``Link`` per connected account (``X-Self-ID``). An API call is an action frame
``{"action", "params", "echo"}``; the implementation answers with ``{"status",
"retcode", "data", "echo"}`` on the same socket, matched here by ``echo``. A call
that gets no answer within ``CALL_TIMEOUT`` seconds raises ``TimeoutError``; a call
on a socket that closes meanwhile raises ``LinkGone``.

``Links`` keeps the newest link of each account (a new connection replaces the
older one) and picks the account that sends an outbox message: the one the message
came in on when its key names it, else one that is in the target group (per its
``get_group_list``, asked on connect and every ``GROUPS_REFRESH_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from typing import Any, Final

from aiohttp import web
from prometheus_client import Counter, Gauge

from bot.outbox.queue import Target

logger = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0
MAX_CALLS: Final = 256  # API calls waiting for an answer, per link
MAX_GROUPS: Final = 50_000
GROUPS_REFRESH_SECONDS: Final = 600.0
GROUPS_RETRY_SECONDS: Final = 30.0  # a refresh asked for when a group was not found
_SELF_IN_KEY = re.compile(r"^late:onebot:(\d{1,20}):")


class LinkGone(Exception):
    """The socket closed (or was never there) before the call was answered."""


class Link:
    """One connected QQ account: its socket, the calls waiting for answers, its groups."""

    def __init__(self, self_id: str, ws: web.WebSocketResponse) -> None:
        self.self_id = self_id
        self.ws = ws
        self.groups: set[str] | None = None  # None: not known yet
        self.groups_at = 0.0  # monotonic time of the last group list (or attempt)
        self.online = True  # false while the heartbeat says the account is offline
        self.closed = False
        self.why: str | None = None  # why this side closed it
        self._calls: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._echo = itertools.count(1)
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send an action frame and wait for its answer (the whole response object)."""
        if self.closed:
            raise LinkGone
        if len(self._calls) >= MAX_CALLS:
            raise TimeoutError("too many calls waiting for an answer")
        echo = f"ub{next(self._echo)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[echo] = waiter
        frame = json.dumps({"action": action, "params": params, "echo": echo}, ensure_ascii=False)
        try:
            async with self._send_lock:
                await self.ws.send_str(frame)
            async with asyncio.timeout(CALL_TIMEOUT):
                return await waiter
        except (ConnectionError, RuntimeError):
            raise LinkGone from None
        finally:
            self._calls.pop(echo, None)

    def answered(self, response: dict[str, Any]) -> bool:
        """Hand a response frame to the call waiting for it; False when none is."""
        echo = response.get("echo")
        waiter = self._calls.get(echo) if isinstance(echo, str) else None
        if waiter is None or waiter.done():
            return False
        waiter.set_result(response)
        return True

    def gone(self) -> None:
        """The socket closed: every waiting call fails with ``LinkGone``."""
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for waiter in self._calls.values():
            if not waiter.done():
                waiter.set_exception(LinkGone())
        self._calls.clear()

    @property
    def waiting(self) -> int:
        return len(self._calls)

    def reaches(self, target: Target) -> bool | None:
        """True/False when this account is/is not in the target group; None: not known."""
        if target.kind != "group":
            return True
        if self.groups is None:
            return None
        return target.id in self.groups

    async def close(self, code: int, reason: str) -> None:
        self.why = self.why or reason
        self.gone()
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode()[:120])

    def refresh_groups_soon(self, older_than: float) -> None:
        """Ask for the group list again when the last one is older than ``older_than`` s."""
        if self.closed or time.monotonic() - self.groups_at < older_than:
            return
        self.groups_at = time.monotonic()
        task = asyncio.ensure_future(self.refresh_groups())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh_groups(self) -> None:
        """Ask the implementation which groups this account is in (``get_group_list``)."""
        self.groups_at = time.monotonic()
        try:
            answer = await self.call("get_group_list", {})
        except (LinkGone, TimeoutError):
            return
        data = answer.get("data")
        if answer.get("retcode") != 0 or not isinstance(data, list):
            logger.warning("onebot: account %s did not give its group list (retcode %s)",
                           self.self_id, answer.get("retcode"))
            return
        groups = {str(item.get("group_id")) for item in data[:MAX_GROUPS] if isinstance(item, dict)}
        self.groups = {group for group in groups if group.isdigit()}
        logger.info("onebot: account %s is in %d group(s)", self.self_id, len(self.groups))

    def joined(self, group: str, member: bool) -> None:
        """The account joined (``member``) or left a group (notice events)."""
        if self.groups is None:
            return
        if member and len(self.groups) < MAX_GROUPS:
            self.groups.add(group)
        elif not member:
            self.groups.discard(group)


class Links:
    """The newest link of each connected account."""

    def __init__(self, connected: Gauge, ended: Counter) -> None:
        self.by_id: dict[str, Link] = {}
        self.connected = connected
        self.ended = ended

    def attach(self, link: Link) -> Link | None:
        """Make ``link`` its account's link; returns the link it replaces, if any."""
        old = self.by_id.get(link.self_id)
        self.by_id[link.self_id] = link
        self.connected.set(len(self.by_id))
        return old

    def detach(self, link: Link, reason: str) -> None:
        link.gone()
        if self.by_id.get(link.self_id) is link:
            del self.by_id[link.self_id]
        self.connected.set(len(self.by_id))
        self.ended.labels(reason).inc()

    def current(self, self_id: str) -> Link | None:
        link = self.by_id.get(self_id)
        return link if link is not None and not link.closed else None

    def pick(self, target: Target, key: str) -> Link | None:
        """The link that sends ``target`` its message; None when no account can."""
        named = _SELF_IN_KEY.match(key)
        usable = [link for link in self.by_id.values() if link.online and not link.closed]
        if named is not None:
            usable.sort(key=lambda link: link.self_id != named.group(1))
        for wanted in (True, None):
            for link in usable:
                if link.reaches(target) is wanted:
                    return link
        for link in usable:
            link.refresh_groups_soon(GROUPS_RETRY_SECONDS)
        return None

    async def close_all(self, code: int, reason: str) -> None:
        links = list(self.by_id.values())
        await asyncio.gather(*(link.close(code, reason) for link in links))

