"""Webhook throughput over HTTP on loopback, memory after many messages, broadcast pacing.

    .venv/bin/python bench/channels.py [--requests 6000] [--concurrency 32] [--memory 100000]

The server runs in a child process (``unionbot``'s real app on SQLite); the load comes
from this process over keep-alive connections, so each side has one core.
Measured in the same run:
  * baseline: a bare aiohttp handler answering "ok";
  * onebot: a signed OneBot v11 group message whose command writes one row,
    answered with a quick operation;
  * wechat_mp: a safe-mode (AES) text message from a bound follower, answered with an
    encrypted passive reply;
  * memory: server RSS before and after ``--memory`` OneBot messages;
  * broadcast: 1,000 OneBot group chats queued by 广播, then delivered to a fake
    OneBot HTTP API, whose log shows the rate per group.
Targets (issue #3): ≥ 1,000 requests/s with p99 < 50 ms for both; ratio to the bare
handler ≥ 0.25; broadcast queued < 1 s, rate limits kept; RSS < 200 MB after 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
ONEBOT_SECRET = "bench-secret"
SELF_ID = 10000
MP = {"token": "benchtoken", "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
      "app_id": "wxbench0000000001"}
MEMBERS = 200

BARE = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(text="ok")
app = web.Application(); app.router.add_post("/", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True),
            access_log=None)
"""

SERVER = """
import asyncio, json, sys
from aiohttp import web
from sqlalchemy import insert
from bot.app import create_app, for_serving
from bot.appkeys import REGISTRY
from bot.config import load_settings
from bot.registry import Command
from models.db import Database
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberRole

settings = load_settings(data=json.loads(sys.argv[1]))

async def seed():
    db = Database(settings.database.url)
    await upgrade(db)
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        await session.execute(insert(Member), [
            {"staff_no": str(100000 + i), "name": f"会员{i}", "branch_id": root.id}
            for i in range(MEMBERS)])
        await session.execute(insert(MemberRole), [
            {"member_id": i + 1, "role": "officer" if i == 0 else "member"} for i in range(MEMBERS)])
        rows = []
        for i in range(MEMBERS):
            rows.append({"channel": "onebot", "external_id": str(20000 + i), "member_id": i + 1})
            rows.append({"channel": "wechat_mp", "external_id": f"openid-{i}", "member_id": i + 1})
        await session.execute(insert(Account), rows)
    await db.dispose()

asyncio.run(seed())

async def write_one_row(ctx, args):
    await ctx.audit("bench", "bench", after=args)
    return "已记录"

app = for_serving(create_app(settings))
app[REGISTRY].add(Command(name="记录", handler=write_one_row, summary="写一行", usage="记录 <内容>",
                          example="记录 1"))
web.run_app(app, host="127.0.0.1", port=settings.server.port,
            print=lambda *_: print("ready", flush=True), access_log=None)
""".replace("MEMBERS", str(MEMBERS))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        raise RuntimeError(f"server did not start (exit {proc.poll()})")
    return proc


Request = tuple[str, bytes, dict[str, str]]


async def load(url: str, requests: list[Request], concurrency: int,
               check: Callable[[int, bytes], None]) -> tuple[float, float, float]:
    latencies: list[float] = []
    queue = list(reversed(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            while queue:
                path, body, headers = queue.pop()
                began = time.perf_counter()
                async with http.post(url + path, data=body, headers=headers) as resp:
                    payload = await resp.read()
                    check(resp.status, payload)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return (len(requests) / elapsed, statistics.median(latencies) * 1000,
            latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000)


def onebot_requests(count: int, offset: int = 0, text: str = "记录 {i}") -> list[Request]:
    out = []
    for n in range(offset, offset + count):
        event = {
            "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
            "message_type": "group", "sub_type": "normal", "message_id": n,
            "group_id": 700000 + n % 50, "user_id": 20000 + n % MEMBERS,
            "message": text.format(i=n), "raw_message": text.format(i=n), "font": 0,
            "sender": {"user_id": 20000 + n % MEMBERS, "nickname": "会员", "card": ""},
        }
        body = json.dumps(event, ensure_ascii=False).encode()
        signature = "sha1=" + hmac.new(ONEBOT_SECRET.encode(), body, hashlib.sha1).hexdigest()
        out.append(("/qq/onebot", body, {"Content-Type": "application/json",
                                         "X-Signature": signature, "X-Self-ID": str(SELF_ID)}))
    return out


def wechat_requests(count: int) -> list[Request]:
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(MP["token"], MP["encoding_aes_key"], MP["app_id"])
    out = []
    for n in range(count):
        timestamp, nonce = str(int(time.time())), f"n{n}"
        plain = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                 f"<FromUserName><![CDATA[openid-{n % MEMBERS}]]></FromUserName>"
                 f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content><![CDATA[我]]></Content><MsgId>{900000 + n}</MsgId></xml>")
        encrypted = crypto.encrypt_message(plain, nonce, timestamp)
        msg_signature = encrypted.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
        inner = encrypted.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                f"<Encrypt><![CDATA[{inner}]]></Encrypt></xml>").encode()
        signature = hashlib.sha1("".join(sorted([MP["token"], timestamp, nonce])).encode()).hexdigest()
        path = (f"/wechat/mp?signature={signature}&timestamp={timestamp}&nonce={nonce}"
                f"&openid=openid-{n % MEMBERS}&encrypt_type=aes&msg_signature={msg_signature}")
        out.append((path, body, {"Content-Type": "text/xml"}))
    return out


def expect(status: int, needle: bytes | None = None) -> Callable[[int, bytes], None]:
    def check(got: int, payload: bytes) -> None:
        if got != status or (needle is not None and needle not in payload):
            raise RuntimeError(f"unexpected answer {got}: {payload[:200]!r}")
    return check


def settings_for(tmp: str, port: int, api_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    return {
        "union": {"name": "示范大学工会"}, "server": {"port": port, "log_level": "WARNING"},
        "database": {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"},
        "onebot": {"enabled": True, "secret": ONEBOT_SECRET, "api_url": api_url,
                   "access_token": "bench-token"},
        "wechat_mp": {"enabled": True, "app_secret": "s", **MP},
    }


def report(label: str, figures: tuple[float, float, float]) -> float:
    rate, p50, p99 = figures
    print(f"{label:<34} {rate:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms", flush=True)
    return rate


async def throughput(args: argparse.Namespace) -> None:
    port = free_port()
    bare = start(BARE, str(port))
    try:
        base = report("baseline (bare aiohttp \"ok\")", await load(
            f"http://127.0.0.1:{port}", [("/", b"x" * 400, {})] * args.requests,
            args.concurrency, expect(200)))
    finally:
        bare.terminate()
        bare.wait()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start(SERVER, json.dumps(settings_for(tmp, port)))
        try:
            url = f"http://127.0.0.1:{port}"
            await load(url, onebot_requests(300, offset=10**8), args.concurrency, expect(200))
            onebot = report("onebot group 记录 (1 row)", await load(
                url, onebot_requests(args.requests), args.concurrency, expect(200, b"\\u5df2\\u8bb0\\u5f55")))
            mp = report("wechat_mp safe mode 我", await load(
                url, wechat_requests(args.requests), args.concurrency, expect(200, b"<Encrypt>")))
            print(f"ratio to baseline: onebot {onebot / base:.2f}, wechat_mp {mp / base:.2f}")
            if args.memory:
                before = rss_mb(server.pid)
                done = 0
                while done < args.memory:
                    batch = min(10_000, args.memory - done)
                    await load(url, onebot_requests(batch, offset=10**7 + done),
                               args.concurrency, expect(200))
                    done += batch
                print(f"server RSS: {before:.0f} MB before, {rss_mb(server.pid):.0f} MB after "
                      f"{done} more OneBot messages")
        finally:
            server.terminate()
            server.wait()


async def broadcast(args: argparse.Namespace) -> None:
    from aiohttp import web

    received: list[tuple[float, str]] = []

    async def api(request: web.Request) -> web.Response:
        payload = await request.json()
        received.append((time.perf_counter(), str(payload.get("group_id"))))
        return web.json_response({"status": "ok", "retcode": 0, "data": {"message_id": 1}})

    fake = web.Application()
    fake.router.add_post("/send_group_msg", api)
    runner = web.AppRunner(fake, access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start(SERVER, json.dumps(settings_for(tmp, port, f"http://127.0.0.1:{api_port}")))
        try:
            url = f"http://127.0.0.1:{port}"
            # the bot learns 1,000 groups as someone addresses it in each of them
            await load(url, [
                ("/qq/onebot", body, headers) for _, body, headers in
                [_group_hello(g) for g in range(args.chats)]], args.concurrency, expect(200))
            # assigning them to a branch is not needed: the union's officers reach every chat
            [(path, body, headers)] = onebot_requests(1, offset=10**9, text="广播 明天上午九点开会")
            event = json.loads(body)
            event.update(message_type="private", user_id=20000)
            del event["group_id"]
            body = json.dumps(event, ensure_ascii=False).encode()
            headers["X-Signature"] = "sha1=" + hmac.new(
                ONEBOT_SECRET.encode(), body, hashlib.sha1).hexdigest()
            received.clear()
            began = time.perf_counter()
            async with aiohttp.ClientSession() as http, http.post(
                url + path, data=body, headers=headers
            ) as resp:
                answer = (await resp.json())["reply"]
            queued = time.perf_counter() - began
            print(f"broadcast to {args.chats} chats: queued in {queued * 1000:.0f} ms: {answer[:40]}")
            for _ in range(1200):  # up to two minutes
                if len(received) >= args.chats:
                    break
                await asyncio.sleep(0.1)
            per_group: dict[str, list[float]] = {}
            for at, group in received:
                per_group.setdefault(group, []).append(at)
            worst = max(len(times) for times in per_group.values())
            spread = received[-1][0] - began
            print(f"delivered {len(received)} messages to {len(per_group)} groups in {spread:.1f} s; "
                  f"at most {worst} message(s) per group (limit 1/s)")
        finally:
            server.terminate()
            server.wait()
    await runner.cleanup()


def _group_hello(g: int) -> Request:
    [(path, body, headers)] = onebot_requests(1, offset=2 * 10**8 + g, text="我")
    event = json.loads(body)
    event["group_id"] = 500000 + g
    body = json.dumps(event, ensure_ascii=False).encode()
    headers["X-Signature"] = "sha1=" + hmac.new(ONEBOT_SECRET.encode(), body, hashlib.sha1).hexdigest()
    return path, body, headers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--memory", type=int, default=100_000,
                        help="OneBot messages for the memory check (0: skip)")
    parser.add_argument("--chats", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(throughput(args))
    asyncio.run(broadcast(args))


if __name__ == "__main__":
    main()
