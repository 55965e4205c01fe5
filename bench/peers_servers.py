"""The servers ``bench/peers.py`` starts in the project's venv, one process each.

    python bench/peers_servers.py bare <port> <db> <secret> <access_token>
    python bench/peers_servers.py unionbot <settings json> <members>

``bare``: a bare aiohttp handler doing what every OneBot message needs at least: check
the HMAC-SHA1 signature, parse the event, insert one row into SQLite (committed), and
answer — with a quick operation over HTTP POST, with ``send_group_msg`` over the
reverse WebSocket (``/ws``). ``unionbot``: the real app on SQLite with ``members``
members who may all file proposals, plus ``记录 <text>``, a command that writes one
audit row. Each prints ``ready`` once it listens.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web


def bare(port: int, path: str, secret: str, token: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, "
               "group_id TEXT, user_id TEXT, text TEXT, at TEXT)")

    def store(event: dict[str, Any]) -> str:
        text = "".join(s["data"]["text"] for s in event["message"] if s["type"] == "text")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO message (message_id, group_id, user_id, text, at) VALUES (?, ?, ?, ?, ?)",
                   (str(event["message_id"]), str(event["group_id"]), str(event["user_id"]), text,
                    datetime.now(UTC).isoformat()))
        db.execute("COMMIT")
        return "已记录"

    async def http(request: web.Request) -> web.Response:
        body = await request.read()
        given = request.headers.get("X-Signature", "")
        expected = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=403)
        reply = store(json.loads(body))
        return web.json_response({"reply": reply, "auto_escape": True, "at_sender": True})

    async def ws(request: web.Request) -> web.WebSocketResponse:
        if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
            raise web.HTTPUnauthorized()
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        echo = 0
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            event = json.loads(frame.data)
            if event.get("post_type") != "message":
                continue
            reply = store(event)
            echo += 1
            await socket.send_str(json.dumps({"action": "send_group_msg", "echo": str(echo), "params": {
                "group_id": event["group_id"], "message": reply}}, ensure_ascii=False))
        return socket

    app = web.Application()
    app.router.add_post("/", http)
    app.router.add_get("/ws", ws)
    web.run_app(app, host="127.0.0.1", port=port, print=lambda *_: print("ready", flush=True),
                access_log=None)


async def seed(settings: Any, members: int) -> None:
    from sqlalchemy import insert

    from models.db import Database
    from models.migrate import upgrade
    from models.org import Account, Branch, Member, MemberRole

    db = Database(settings.database.url)
    await upgrade(db)
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": str(100000 + i), "name": f"会员{i}", "branch_id": root.id} for i in range(members)])
        await session.execute(insert(MemberRole), [
            {"member_id": i + 1, "role": "representative"} for i in range(members)])
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": str(20000 + i), "member_id": i + 1} for i in range(members)])
    await db.dispose()


def unionbot(raw_settings: str, members: int) -> None:
    from bot.app import create_app, for_serving
    from bot.appkeys import REGISTRY
    from bot.config import load_settings
    from bot.context import Context
    from bot.registry import Command

    settings = load_settings(data=json.loads(raw_settings))
    asyncio.run(seed(settings, members))

    async def write_one_row(ctx: Context, args: str) -> str:
        await ctx.audit("bench", "bench", after=args)
        return "已记录"

    app = for_serving(create_app(settings))
    app[REGISTRY].add(Command(name="记录", handler=write_one_row, summary="写一行", usage="记录 <内容>",
                              example="记录 1"))
    web.run_app(app, host="127.0.0.1", port=settings.server.port,
                print=lambda *_: print("ready", flush=True), access_log=None)


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        unionbot(sys.argv[2], int(sys.argv[3]))
