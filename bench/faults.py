"""Delivery under faults: a killed server, a slow platform with two replicas, retried messages.

    .venv/bin/python bench/faults.py [--groups 300] [--slow-groups 150] [--messages 2000]

Servers run as child processes (``unionbot``'s real app, as in bench/channels.py) on free
loopback ports; the OneBot HTTP API they send to is a fake run by this process, which
records every message per group. Printed, in one run:

  (a) SQLite: 广播 to ``--groups`` groups; the server is killed (SIGKILL) mid-delivery
      and restarted. Groups reached 0 / 1 / 2+ times, rows left unknown.
      Target: 0 groups twice, unknown ≤ concurrency (8), every other group once.
  (b) PostgreSQL (a database created and dropped here), two replicas, a platform that
      takes 8 s per call, 广播 to ``--slow-groups`` groups, no kill.
      Target: 0 unknown, every group once.
  (c) the same database, two new replicas with a 0.05 s reply budget; ``--messages``
      group messages, each posted 3 times at once (copies alternate between replicas).
      Target: 0 messages answered both directly and by a push (or pushed twice), 0
      messages whose work was done twice. Several copies answering directly is how a
      platform retry is meant to be answered, and is counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from channels import (
    SERVER,
    Request,
    _group_hello,
    expect,
    free_port,
    load,
    onebot_requests,
    start,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CONCURRENCY = 8
# seeds only when asked (a restart or a second replica finds the database ready);
# 记录 answers with its argument, so that a pushed reply names its message
FAULT_SERVER = SERVER.replace(
    "asyncio.run(seed())", "if sys.argv[2:] == ['seed']:\n    asyncio.run(seed())"
).replace('return "已记录"', 'return f"已记录 {args}"')


class FakeOnebot:
    """The OneBot HTTP API: answers every send after ``delay`` seconds, records it."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent: list[tuple[str, str]] = []  # (group, message) in arrival order
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def send(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.sent.append((str(payload.get("group_id")), str(payload.get("message"))))
        await asyncio.sleep(self.delay)
        return web.json_response({"status": "ok", "retcode": 0, "data": {"message_id": 1}})

    async def __aenter__(self) -> FakeOnebot:
        app = web.Application()
        app.router.add_post("/send_group_msg", self.send)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def settings(url: str, port: int, api_port: int, **onebot: Any) -> str:
    return json.dumps({
        "union": {"name": "示范大学工会"}, "server": {"port": port, "log_level": "ERROR"},
        "database": {"url": url},
        "onebot": {"enabled": True, "secret": "bench-secret", "access_token": "bench-token",
                   "api_url": f"http://127.0.0.1:{api_port}", **onebot},
        "outbox": {"lease_seconds": 10, "concurrency": CONCURRENCY},
    })


def serve(url: str, api_port: int, *, seed: bool = False, **onebot: Any) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    extra = ("seed",) if seed else ()
    return start(FAULT_SERVER, settings(url, port, api_port, **onebot), *extra), f"http://127.0.0.1:{port}"


def stop(*servers: subprocess.Popen[str]) -> None:
    for server in servers:
        server.terminate()
        server.wait()


async def broadcast(url: str, groups: int) -> None:
    """The bot learns ``groups`` groups, then the officer broadcasts to all of them."""
    await load(url, [_group_hello(g) for g in range(groups)], 16, expect(200))
    [(path, body, headers)] = onebot_requests(1, offset=10**9, text="广播 明天上午九点开会")
    event = json.loads(body)
    event.update(message_type="private", user_id=20000)
    del event["group_id"]
    await load(url, [_signed(path, event, headers)], 1, expect(200))


def _signed(path: str, event: dict[str, Any], headers: dict[str, str]) -> Request:
    import hashlib
    import hmac

    body = json.dumps(event, ensure_ascii=False).encode()
    signature = "sha1=" + hmac.new(b"bench-secret", body, hashlib.sha1).hexdigest()
    return path, body, {**headers, "X-Signature": signature}


async def until(done: Callable[[], Awaitable[bool]], limit: float) -> None:
    for _ in range(int(limit * 4)):
        if await done():
            return
        await asyncio.sleep(0.25)


def reached(api: FakeOnebot, groups: int) -> str:
    times = Counter(group for group, _ in api.sent if group.startswith("5"))
    spread = Counter(min(times.get(str(500000 + g), 0), 2) for g in range(groups))
    return f"groups reached 0×: {spread[0]}, 1×: {spread[1]}, 2+×: {spread[2]}"


async def scenario_a(groups: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"

        def statuses() -> Counter[str]:
            with sqlite3.connect(f"{tmp}/bench.db") as db:
                return Counter(dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status")))

        async with FakeOnebot(delay=0.1) as api:
            server, base = serve(url, api.port, seed=True)
            await broadcast(base, groups)

            async def enough() -> bool:
                return len(api.sent) >= groups * 0.43

            await until(enough, 60)
            server.kill()  # SIGKILL: nothing more is written
            server.wait()
            at_kill = len(api.sent)
            server, _ = serve(url, api.port)

            async def finished() -> bool:
                found = statuses()
                return found["queued"] + found["sending"] == 0

            await until(finished, 120)
            stop(server)
            found = statuses()
    print(f"(a) SQLite, 广播 to {groups} groups, kill -9 after {at_kill} sends, restart: "
          f"{reached(api, groups)}; rows unknown: {found['unknown']} (concurrency {CONCURRENCY}), "
          f"sent: {found['sent']}")


async def scenario_b(db_url: str, dsn: str, groups: int) -> None:
    async with FakeOnebot(delay=8.0) as api:
        first, base = serve(db_url, api.port, seed=True)
        second, _ = serve(db_url, api.port)
        began = time.monotonic()
        await broadcast(base, groups)
        conn = await asyncpg.connect(dsn)

        async def finished() -> bool:
            left = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")
            return bool(left == 0)

        await until(finished, 300)
        found = Counter(dict(await conn.fetch("SELECT status, count(*) FROM outbox GROUP BY status")))
        await conn.close()
        stop(first, second)
    print(f"(b) PostgreSQL, two replicas, 8 s platform, 广播 to {groups} groups: "
          f"{reached(api, groups)}; rows unknown: {found['unknown']}, sent: {found['sent']} "
          f"in {time.monotonic() - began:.0f} s")


async def scenario_c(db_url: str, dsn: str, messages: int) -> None:
    async with FakeOnebot(delay=0.0) as api:
        replicas = [serve(db_url, api.port, reply_budget_seconds=0.05) for _ in range(2)]
        requests = onebot_requests(messages, offset=3 * 10**8, text="记录 m{i}")
        passive: Counter[str] = Counter()
        semaphore = asyncio.Semaphore(32)
        async with aiohttp.ClientSession() as http:

            async def copy(n: int, k: int) -> None:
                path, body, headers = requests[n]
                async with semaphore, http.post(replicas[k % 2][1] + path, data=body,
                                                headers=headers) as resp:
                    if resp.status == 200:
                        passive[(await resp.json())["reply"].rsplit(" ", 1)[-1]] += 1

            await asyncio.gather(*(copy(n, k) for n in range(messages) for k in range(3)))
        conn = await asyncpg.connect(dsn)

        async def finished() -> bool:
            left = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")
            return bool(left == 0)

        async def all_queued_and_sent() -> bool:  # every reply chosen to be pushed is in the outbox
            records = await conn.fetchval("SELECT count(*) FROM inbound_record WHERE answered = 'pushed'")
            late = await conn.fetchval("SELECT count(*) FROM outbox WHERE key LIKE 'late:%'")
            return bool(records == late) and await finished()

        await until(all_queued_and_sent, 300)
        doubled = await conn.fetchval(
            "SELECT count(*) FROM (SELECT after FROM audit_log WHERE action = 'bench' "
            "GROUP BY after HAVING count(*) > 1) AS d")
        await conn.close()
        stop(*(server for server, _ in replicas))
    pushed = Counter(text.rsplit(" ", 1)[-1] for _, text in api.sent)
    both = sum(1 for m in pushed if m in passive)
    twice = sum(1 for count in pushed.values() if count > 1)
    print(f"(c) PostgreSQL, two replicas, budget 0.05 s, {messages} messages × 3 copies: "
          f"answered directly {len(passive)}, pushed {len(pushed)}, "
          f"never answered {messages - len(set(passive) | set(pushed))}; "
          f"answered twice (direct + push, or pushed twice): {both + twice}; "
          f"work done twice: {doubled}; several copies answered directly: "
          f"{sum(1 for c in passive.values() if c > 1)}")


async def on_postgres(slow_groups: int, messages: int) -> None:
    name = f"unionbot_faults_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    db_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await scenario_b(db_url, dsn, slow_groups)
        await scenario_c(db_url, dsn, messages)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--slow-groups", type=int, default=150)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(scenario_a(args.groups))
    asyncio.run(on_postgres(args.slow_groups, args.messages))


if __name__ == "__main__":
    main()
