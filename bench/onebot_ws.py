"""OneBot v11: messages/s over the reverse WebSocket against the HTTP POST channel, same run.

    .venv/bin/python bench/onebot_ws.py [--messages 4000] [--concurrency 16 64]

The server is ``unionbot``'s real app on SQLite in a child process (the one
``bench/channels.py`` starts); the load comes from this process. Each message is a
OneBot group message whose command writes one row (``记录 <n>``):
  * http: signed HTTP POST events over keep-alive connections, answered with a quick
    operation; ``concurrency`` requests in flight;
  * ws: one reverse WebSocket connection (one QQ account); ``concurrency`` events
    in flight, each done when the server's ``send_group_msg`` call for it arrives
    (answered ``ok`` at once, matched by the number the reply carries).
Baselines measured in the same run: a bare aiohttp handler answering "ok" over HTTP,
and a bare aiohttp WebSocket handler that answers each event with one action frame.
Rows written are counted afterwards (one per message, nothing lost or doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from channels import (
    BARE,
    SELF_ID,
    SERVER,
    expect,
    free_port,
    load,
    onebot_requests,
    report,
    settings_for,
    start,
)
from load import percentiles

TOKEN = "bench-token"
ECHOING_SERVER = SERVER.replace('return "已记录"', 'return f"已记录 {args}"')

BARE_WS = """
import json, sys
from aiohttp import web
async def socket(request):
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    n = 0
    async for message in ws:
        event = json.loads(message.data)
        if "post_type" in event:
            n += 1
            await ws.send_str(json.dumps({"action": "send_group_msg", "echo": str(n), "params": {
                "group_id": event["group_id"], "message": "已记录 " + event["raw_message"].split()[-1]}}))
    return ws
app = web.Application(); app.router.add_get("/qq/onebot/ws", socket)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True),
            access_log=None)
"""


def events(count: int, offset: int) -> list[tuple[int, str]]:
    """(number, frame) of ``count`` group messages, the same events the HTTP run posts."""
    return [(offset + i, body.decode()) for i, (_, body, _) in
            enumerate(onebot_requests(count, offset=offset))]


async def over_socket(
    url: str, frames: list[tuple[int, str]], concurrency: int
) -> tuple[float, float, float]:
    """Messages/s, p50 and p99 (ms) of ``frames`` sent over one reverse WebSocket."""
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Self-ID": str(SELF_ID), "X-Client-Role": "Universal"}
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=headers) as ws:
        async def read() -> None:
            async for message in ws:
                call = json.loads(message.data)
                if call.get("action") == "get_group_list":
                    await ws.send_str(json.dumps({"status": "ok", "retcode": 0, "data": [],
                                                  "echo": call["echo"]}))
                    continue
                await ws.send_str(json.dumps({"status": "ok", "retcode": 0,
                                              "data": {"message_id": 1}, "echo": call["echo"]}))
                number = call["params"]["message"].rsplit(" ", 1)[-1]
                latencies.append(time.perf_counter() - sent_at.pop(number))
                slots.release()
                if len(latencies) == len(frames):
                    return

        reader = asyncio.create_task(read())
        began = time.perf_counter()
        for number, frame in frames:
            await slots.acquire()
            sent_at[str(number)] = time.perf_counter()
            await ws.send_str(frame)
        await asyncio.wait_for(reader, 120)
        elapsed = time.perf_counter() - began
    p50, p99 = percentiles(latencies)
    return len(frames) / elapsed, p50, p99


def rows_written(db: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("select count(*) from audit_log where action = 'bench'").fetchone()[0])


async def baselines(args: argparse.Namespace) -> tuple[float, float]:
    port = free_port()
    bare = start(BARE, str(port))
    try:
        http = report("baseline HTTP (bare aiohttp \"ok\")", await load(
            f"http://127.0.0.1:{port}", [("/", b"x" * 400, {})] * args.messages, 16, expect(200)))
    finally:
        bare.terminate()
        bare.wait()
    port = free_port()
    bare = start(BARE_WS, str(port))
    try:
        ws = report("baseline WS (bare aiohttp echo)", await over_socket(
            f"ws://127.0.0.1:{port}/qq/onebot/ws", events(args.messages, 0), 16))
    finally:
        bare.terminate()
        bare.wait()
    return http, ws


async def compare(args: argparse.Namespace) -> None:
    base_http, base_ws = await baselines(args)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start(ECHOING_SERVER, json.dumps(settings_for(tmp, port)))
        url = f"http://127.0.0.1:{port}"
        try:
            await load(url, onebot_requests(300, offset=10**8), 16, expect(200))  # warm-up
            offset = 0
            for concurrency in args.concurrency:
                http = report(f"onebot HTTP POST, {concurrency} in flight", await load(
                    url, onebot_requests(args.messages, offset=offset), concurrency,
                    expect(200, b"\\u5df2\\u8bb0\\u5f55")))
                offset += args.messages
                ws = report(f"onebot reverse WS, {concurrency} in flight", await over_socket(
                    f"ws://127.0.0.1:{port}/qq/onebot/ws", events(args.messages, offset), concurrency))
                offset += args.messages
                print(f"  WS / HTTP POST {ws / http:.2f}; to the bare baselines: "
                      f"HTTP {http / base_http:.2f}, WS {ws / base_ws:.2f}", flush=True)
        finally:
            server.terminate()
            server.wait()
        written = rows_written(f"{tmp}/bench.db")
        expected = 300 + 2 * args.messages * len(args.concurrency)
        print(f"rows written: {written} of {expected} messages "
              f"({'none lost or doubled' if written == expected else 'MISMATCH'})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(compare(args))


if __name__ == "__main__":
    main()
