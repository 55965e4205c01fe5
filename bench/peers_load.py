"""The load generator of ``bench/peers.py``: plays the OneBot v11 implementation.

Over HTTP POST it posts signed events (keep-alive) and takes the reply from the quick
operation in the answer, or, when the answer is empty, from the ``send_msg`` /
``send_group_msg`` call the bot makes to the fake OneBot HTTP API served here. Over the
reverse WebSocket it connects as one QQ account, sends events and answers the bot's API
calls by their ``echo``. Each worker has its own group and one message in flight, so a
reply is matched to its message by the group it goes to.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import statistics
import time
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
from aiohttp import web

REPLY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Figures:
    rate: float  # messages answered per second
    p50: float  # ms
    p99: float  # ms


def figures(count: int, elapsed: float, latencies: list[float]) -> Figures:
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    return Figures(count / elapsed, statistics.median(latencies) * 1000, p99 * 1000)


def reply_text(message: Any) -> str:
    """The text of a OneBot message, given as a string or as segments."""
    if isinstance(message, str):
        return message
    if isinstance(message, list):
        return "".join(str(s.get("data", {}).get("text", "")) for s in message if isinstance(s, dict))
    return ""


class Load:
    """The fake OneBot side: an HTTP API server, a client session, the pending replies."""

    def __init__(self, secret: str, token: str, members: int) -> None:
        self.secret, self.token, self.members = secret, token, members
        self.api_port = free_port()
        self._waiting: dict[int, asyncio.Future[str]] = {}
        self._ids = itertools.count(1)
        self._groups = itertools.count(0)
        self._runner: web.AppRunner | None = None
        self.http: aiohttp.ClientSession
        self.passive = self.pushed = 0  # HTTP replies in the answer / through the HTTP API

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{action}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.api_port).start()
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        params = await request.json()
        return web.json_response(self.called(request.match_info["action"], params))

    def called(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer an API call of the bot; a message to a group resolves that group's reply."""
        if action in ("send_msg", "send_group_msg") and "group_id" in params:
            waiter = self._waiting.pop(int(params["group_id"]), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reply_text(params.get("message")))
            return {"status": "ok", "retcode": 0, "data": {"message_id": next(self._ids)}}
        return {"status": "ok", "retcode": 0, "data": [] if action.endswith("_list") else {}}

    def expect(self, group: int) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[group] = future
        return future

    def events(self, text: str, concurrency: int, count: int, self_id: int) -> list[list[tuple[int, bytes]]]:
        """Per worker: (group, body) of its messages, each with a message id of its own."""
        base = 800000 + next(self._groups) * 1000
        per_worker: list[list[tuple[int, bytes]]] = [[] for _ in range(concurrency)]
        for n in range(count):
            worker = n % concurrency
            group, user, message_id = base + worker, 20000 + worker % self.members, next(self._ids)
            words = text.format(i=message_id)
            event = {
                "time": int(time.time()), "self_id": self_id, "post_type": "message",
                "message_type": "group", "sub_type": "normal", "message_id": message_id,
                "group_id": group, "user_id": user, "anonymous": None, "font": 0,
                "message": [{"type": "text", "data": {"text": words}}], "raw_message": words,
                "sender": {"user_id": user, "nickname": f"会员{worker}", "card": "", "role": "member"},
            }
            per_worker[worker].append((group, json.dumps(event, ensure_ascii=False).encode()))
        return per_worker

    def signed(self, body: bytes, self_id: int) -> dict[str, str]:
        signature = "sha1=" + hmac.new(self.secret.encode(), body, hashlib.sha1).hexdigest()
        return {"Content-Type": "application/json", "X-Signature": signature, "X-Self-ID": str(self_id)}


def _check(reply: str | None, expect: str) -> None:
    if reply is None or expect not in reply:
        raise RuntimeError(f"unexpected reply: {reply!r:.200}")


async def _post(load: Load, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST once more when the server closed an idle keep-alive connection as it was reused
    (the message id is the same, so the bot's dedup sees one message)."""
    for attempt in (1, 2):
        try:
            async with load.http.post(url, data=body, headers=headers) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def run_http(load: Load, url: str, text: str, expect: str, concurrency: int, count: int,
                   self_id: int) -> Figures:
    latencies: list[float] = []
    work = load.events(text, concurrency, count, self_id)
    signed = [[(group, body, load.signed(body, self_id)) for group, body in mine] for mine in work]

    async def worker(mine: list[tuple[int, bytes, dict[str, str]]]) -> None:
        for group, body, headers in mine:
            began = time.perf_counter()
            waiter = load.expect(group)
            status, payload = await _post(load, url, body, headers)
            if status == 200 and payload:
                reply = json.loads(payload).get("reply")
                waiter.cancel()
                load.passive += 1
            elif status == 204:
                reply = await asyncio.wait_for(waiter, REPLY_TIMEOUT)
                load.pushed += 1
            else:
                raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")
            _check(reply_text(reply), expect)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker(mine) for mine in signed))
    return figures(count, time.perf_counter() - began, latencies)


async def _serve_calls(load: Load, ws: aiohttp.ClientWebSocketResponse) -> None:
    async for frame in ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        call = json.loads(frame.data)
        if "action" in call:
            answer = load.called(call["action"], call.get("params") or {})
            await ws.send_str(json.dumps({**answer, "echo": call.get("echo")}))


async def run_ws(load: Load, url: str, text: str, expect: str, concurrency: int, count: int,
                 self_id: int) -> Figures:
    latencies: list[float] = []
    work = load.events(text, concurrency, count, self_id)
    headers = {"Authorization": f"Bearer {load.token}", "X-Self-ID": str(self_id),
               "X-Client-Role": "Universal"}
    async with load.http.ws_connect(url.replace("http://", "ws://"), headers=headers,
                                    max_msg_size=0) as ws:
        reader = asyncio.create_task(_serve_calls(load, ws))
        await ws.send_str(json.dumps({"time": int(time.time()), "self_id": self_id, "post_type": "meta_event",
                                      "meta_event_type": "lifecycle", "sub_type": "connect"}))

        async def worker(mine: list[tuple[int, bytes]]) -> None:
            for group, body in mine:
                began = time.perf_counter()
                waiter = load.expect(group)
                await ws.send_str(body.decode())
                _check(await asyncio.wait_for(waiter, REPLY_TIMEOUT), expect)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        try:
            await asyncio.gather(*(worker(mine) for mine in work))
        finally:
            elapsed = time.perf_counter() - began
            reader.cancel()
    return figures(count, elapsed, latencies)
