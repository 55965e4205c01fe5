"""A fake OneBot implementation on the far end of ``/qq/onebot/ws``, for the channel tests.

``Peer`` reads the server's frames in a task of its own: ``get_group_list`` is answered
with its ``groups``; every other action frame is put in ``calls`` and answered from
``script`` (per action, in order; ``None`` = never answer) or, when nothing is
scripted, with ``status ok``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

PATH = "/qq/onebot/ws"
TOKEN = "ws-token"


def handshake(self_id: int | str | None = 10000, token: str | None = TOKEN) -> dict[str, str]:
    headers = {"X-Client-Role": "Universal"}
    if self_id is not None:
        headers["X-Self-ID"] = str(self_id)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@dataclass
class Peer:
    ws: aiohttp.ClientWebSocketResponse
    self_id: int
    groups: list[int]
    calls: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    script: dict[str, list[dict[str, Any] | None]] = field(default_factory=dict)
    closed: asyncio.Future[int | None] | None = None
    _reader: asyncio.Task[None] | None = None
    _ids: int = 1000

    def start(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame["action"] == "get_group_list":
                data = [{"group_id": g, "group_name": f"群{g}"} for g in self.groups]
                await self.answer(frame, data=data)
                continue
            await self.calls.put(frame)
            scripted = self.script.get(frame["action"])
            answer = scripted.pop(0) if scripted else {"status": "ok", "retcode": 0}
            if answer is not None:
                self._ids += 1
                await self.ws.send_str(json.dumps(
                    {"data": {"message_id": self._ids}, **answer, "echo": frame["echo"]}))
        assert self.closed is not None
        if not self.closed.done():
            self.closed.set_result(self.ws.close_code)

    async def answer(self, frame: dict[str, Any], *, data: Any = None, status: str = "ok",
                     retcode: int = 0) -> None:
        await self.ws.send_str(json.dumps(
            {"status": status, "retcode": retcode, "data": data, "echo": frame["echo"]}))

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(payload, ensure_ascii=False))

    async def next_call(self) -> dict[str, Any]:
        async with asyncio.timeout(10):
            return await self.calls.get()

    async def close_code(self) -> int | None:
        """Wait (up to 10 s) until the server closes the connection; its close code."""
        assert self.closed is not None
        async with asyncio.timeout(10):
            return await asyncio.shield(self.closed)

    async def stop(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def connect(client: TestClient, self_id: int = 10000, groups: list[int] | None = None,
                  **headers: str) -> Peer:
    """Connect as account ``self_id`` and wait until the server knows its groups."""
    sent = handshake(self_id)
    sent.update(headers)
    ws = await client.ws_connect(PATH, headers=sent, autoclose=True)
    peer = Peer(ws, self_id, groups if groups is not None else [456])
    peer.start()
    return peer


def heartbeat(self_id: int = 10000, interval: int = 5000, online: bool = True) -> dict[str, Any]:
    return {"time": 1, "self_id": self_id, "post_type": "meta_event", "meta_event_type": "heartbeat",
            "status": {"online": online, "good": True}, "interval": interval}
