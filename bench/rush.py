"""The sign-up rush and 提案 filing, over signed OneBot HTTP POST, on SQLite and PostgreSQL.

    .venv/bin/python bench/rush.py [--members 2000] [--places 100] [--seconds 5]
                                   [--filings 640] [--inflight 32] [--only sqlite|postgresql]
                                   [--watch]   (PostgreSQL: what the sessions wait for, sampled)

An event opens: ``--members`` members (bound to QQ accounts beforehand) send
``报名 A1`` within ``--seconds`` (arrivals spread evenly, open loop, whether or not
earlier ones were answered) for ``--places`` places. On top of that ~100 deliveries
are repeated with the same message id on the other replica (a platform retry) and
~50 members send ``报名 A1`` a second time. Then representatives file ``提案`` with
``--inflight`` requests in flight. Every request is a signed OneBot v11 group message
with a unique message id, answered with a quick operation.

  * SQLite: one ``unionbot serve`` process on a file in a temporary directory;
  * PostgreSQL: two ``unionbot serve`` processes on different ports sharing a throwaway
    database (created through ``--pg``, migrated with ``unionbot db upgrade``, dropped
    afterwards); requests alternate between them;
  * baseline, same run, same load generator: a bare aiohttp handler doing one INSERT
    per request (SQLite: sqlite3 in WAL mode; PostgreSQL: asyncpg, two processes).

Printed: p50/p99/max latency, answers, confirmed, waitlisted, doubled sign-ups, whether
the waitlist keeps arrival order (a message sent after another was answered must stand
behind it), and for 提案 whether the numbers are exactly 1…n. Targets (issue #18):
sign-up p99 < 1 s with exactly ``--places`` confirmed; 提案 p99 < 500 ms.
Everything runs on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
UNIONBOT = str(Path(sys.executable).with_name("unionbot"))
SECRET = "rush-secret"
SELF_ID = 10000
QQ0 = 3_000_000  # member i is QQ QQ0 + i
REPS = 200  # members 1…REPS are representatives (提案)
GROUPS = 40

BARE_PG = """
import sys, asyncpg
from aiohttp import web
async def setup(app):
    app["pool"] = await asyncpg.create_pool(sys.argv[2], min_size=10, max_size=20)
    yield
    await app["pool"].close()
async def one(request):
    body = await request.read()
    async with request.app["pool"].acquire() as conn:
        await conn.execute("INSERT INTO bare (at, body) VALUES (now(), $1)", body.decode())
    return web.json_response({"reply": "ok"})
app = web.Application(); app.cleanup_ctx.append(setup); app.router.add_post("/qq/onebot", one)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True),
            access_log=None)
"""
BARE_SQLITE = """
import sqlite3, sys
from aiohttp import web
db = sqlite3.connect(sys.argv[2], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, at TEXT, body TEXT)")
async def one(request):
    body = await request.read()
    db.execute("INSERT INTO bare (at, body) VALUES (datetime('now'), ?)", (body.decode(),))
    return web.json_response({"reply": "ok"})
app = web.Application(); app.router.add_post("/qq/onebot", one)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: print("ready", flush=True),
            access_log=None)
"""


@dataclass
class Shot:
    """One request: what is sent where and when, and what came back."""

    port: int
    body: bytes
    member: int
    kind: str  # new, retry (same message id again), again (the member once more), file
    at: float = 0.0  # planned send time, seconds after the start
    sent: float = 0.0
    done: float = 0.0
    status: int = 0
    reply: str = ""


def cpu_seconds(procs: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU time the processes have used so far."""
    total = 0
    for proc in procs:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event_body(member: int, message_id: int, text: str) -> bytes:
    qq = QQ0 + member
    return json.dumps({
        "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": message_id,
        "group_id": 800000 + member % GROUPS, "user_id": qq, "message": text, "raw_message": text,
        "font": 0, "sender": {"user_id": qq, "nickname": f"会员{member}", "card": ""},
    }, ensure_ascii=False).encode()


def headers(body: bytes) -> dict[str, str]:
    signature = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": signature, "X-Self-ID": str(SELF_ID)}


async def send(http: aiohttp.ClientSession, shot: Shot) -> None:
    shot.sent = time.perf_counter()
    async with http.post(f"http://127.0.0.1:{shot.port}/qq/onebot", data=shot.body,
                         headers=headers(shot.body)) as resp:
        shot.status = resp.status
        payload = await resp.read()
    shot.done = time.perf_counter()
    if payload and resp.status == 200:
        shot.reply = str(json.loads(payload).get("reply", ""))
    elif payload:
        shot.reply = payload[:80].decode(errors="replace")


async def open_loop(shots: list[Shot]) -> float:
    """Send every shot at its planned time, not waiting for earlier answers."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(60)) as http:
        start = time.perf_counter()

        async def fire(shot: Shot) -> None:
            await asyncio.sleep(max(0.0, start + shot.at - time.perf_counter()))
            await send(http, shot)

        await asyncio.gather(*(fire(shot) for shot in shots))
        return time.perf_counter() - start


async def closed_loop(shots: list[Shot], inflight: int) -> float:
    """Keep ``inflight`` requests in flight until every shot is answered."""
    queue = list(reversed(shots))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(60)) as http:
        start = time.perf_counter()

        async def worker() -> None:
            while queue:
                await send(http, queue.pop())

        await asyncio.gather(*(worker() for _ in range(inflight)))
        return time.perf_counter() - start


def latency(shots: list[Shot]) -> str:
    ms = sorted((s.done - s.sent) * 1000 for s in shots)
    p99 = ms[max(0, int(len(ms) * 0.99) - 1)]
    return f"p50 {ms[len(ms) // 2]:7.1f} ms  p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms"


def p99_of(shots: list[Shot]) -> float:
    ms = sorted((s.done - s.sent) * 1000 for s in shots)
    return ms[max(0, int(len(ms) * 0.99) - 1)]


def rush_shots(args: argparse.Namespace, ports: list[int]) -> list[Shot]:
    """``--members`` first sign-ups spread over ``--seconds``, plus retries and repeats."""
    rng = random.Random(18)
    n, span = args.members, args.seconds
    shots = [Shot(ports[i % len(ports)], event_body(i, 10_000_000 + i, "报名 A1"), i, "new",
                  at=span * i / n) for i in range(n)]
    for first in rng.sample(shots, min(100, n)):  # the platform delivers again
        other = ports[(ports.index(first.port) + 1) % len(ports)]
        shots.append(Shot(other, first.body, first.member, "retry", at=first.at + rng.uniform(0, 0.3)))
    for k, member in enumerate(rng.sample(range(n), min(50, n))):  # the member sends it again
        first_at = span * member / n
        shots.append(Shot(ports[k % len(ports)], event_body(member, 20_000_000 + k, "报名 A1"),
                          member, "again", at=first_at + rng.uniform(0.05, 1.0)))
    return sorted(shots, key=lambda s: s.at)


def filing_shots(args: argparse.Namespace, ports: list[int], base: int) -> list[Shot]:
    return [Shot(ports[i % len(ports)], event_body(
        1 + i % REPS, base + i,
        f"提案 标题：关于改善第{i}教学楼设施的提案 理由：设施老化影响教学 建议：分批更新桌椅和投影",
    ), 1 + i % REPS, "file") for i in range(args.filings)]


# ---------------------------------------------------------------- the servers


def config(tmp: Path, name: str, port: int, url: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f'[union]\nname = "示范大学工会"\n[server]\nport = {port}\nlog_level = "WARNING"\n'
        f'public_url = "http://127.0.0.1:{port}"\n[database]\nurl = "{url}"\n'
        f'[onebot]\nenabled = true\nsecret = "{SECRET}"\napi_url = "http://127.0.0.1:9"\n'
        f'access_token = "rush"\n[scheduler]\nenabled = false\n', encoding="utf-8")
    return path


def start(command: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    log = open(os.environ["RUSH_LOG"], "ab") if os.environ.get("RUSH_LOG") else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)


async def wait_ready(port: int, proc: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


async def seed(url: str, members: int) -> None:
    """The union, ``members`` members bound to QQ accounts, an officer and representatives."""
    from sqlalchemy import insert

    from models.db import Database
    from models.org import Account, Branch, Member, MemberRole

    db = Database(url)
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        ids = list((await session.execute(insert(Member).returning(Member.id), [
            {"staff_no": str(100000 + i), "name": f"会员{i}", "branch_id": root.id}
            for i in range(members)])).scalars())
        roles = [{"member_id": ids[0], "role": "officer"}]
        roles += [{"member_id": ids[i], "role": "representative"} for i in range(1, min(REPS + 1, members))]
        roles += [{"member_id": member_id, "role": "member"} for member_id in ids]
        await session.execute(insert(MemberRole), roles)
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": str(QQ0 + i), "member_id": ids[i]} for i in range(members)])
    await db.dispose()


# ---------------------------------------------------------------- checks


def rush_report(shots: list[Shot], places: int) -> tuple[bool, str]:
    """Figures of the rush from the replies alone; True when the targets hold."""
    new = [s for s in shots if s.kind == "new"]
    answered = [s for s in shots if s.status == 200 and s.reply]
    pushed = sum(1 for s in shots if s.status == 204)
    bad = [s for s in shots if s.status not in (200, 204)]
    confirmed = {s.member: int(m.group(1)) for s in new if (m := re.search(r"你是第 (\d+) 位", s.reply))}
    waiting = {s.member: int(m.group(1)) for s in new if (m := re.search(r"排第 (\d+) 位", s.reply))}
    firsts: dict[int, int] = {}
    for s in shots:
        if s.kind != "retry" and re.search(r"报名成功|你已进入候补", s.reply):
            firsts[s.member] = firsts.get(s.member, 0) + 1
    doubled = sum(1 for count in firsts.values() if count > 1)
    places_ok = sorted(confirmed.values()) == list(range(1, places + 1))
    waits_ok = sorted(waiting.values()) == list(range(1, len(waiting) + 1))
    order = order_breaks(new, confirmed, waiting)
    codes = sorted({(s.status, s.reply[:40]) for s in bad})
    line = (f"  answered {len(answered)}/{len(shots)} in the response (empty, left to the outbox: {pushed};"
            f" refused: {len(bad)} {codes[:2]}), confirmed {len(confirmed)}"
            f" (places 1…{places}: {'ok' if places_ok else 'NO'}), waitlisted {len(waiting)}"
            f" (positions 1…n: {'ok' if waits_ok else 'NO'}), doubled {doubled},"
            f" arrival order broken {order}")
    good = (len(confirmed) == places and places_ok and waits_ok and doubled == 0 and order == 0
            and not bad and len(confirmed) + len(waiting) == len(new))
    return good, line


async def stored(url: str, places: int) -> tuple[bool, str]:
    """What the database holds after the rush: the authority on places and doubles."""
    from sqlalchemy import text

    from models.db import Database

    db = Database(url)
    async with db.read() as session:
        rows = (await session.execute(text(
            "SELECT member_id, seq, status FROM event_signup ORDER BY seq"))).all()
        counts = (await session.execute(text(
            "SELECT places_taken, confirmed_count, waiting_count, last_seq FROM event"))).one()
    await db.dispose()
    confirmed = [seq for _, seq, status in rows if status == "confirmed"]
    waiting = [seq for _, seq, status in rows if status == "waitlist"]
    doubled = len(rows) - len({member for member, _, _ in rows})
    ordered = not confirmed or not waiting or max(confirmed) < min(waiting)
    gapless = [seq for _, seq, _ in rows] == list(range(1, len(rows) + 1))
    kept = tuple(counts) == (len(confirmed), len(confirmed), len(waiting), len(rows))
    good = len(confirmed) == places and doubled == 0 and ordered and gapless and kept
    return good, (f"  stored: confirmed {len(confirmed)}, waitlisted {len(waiting)}, doubled {doubled},"
                  f" places before the waitlist {'ok' if ordered else 'NO'}, sign-up numbers 1…n"
                  f" {'ok' if gapless else 'NO'}, event counts {'ok' if kept else 'NO'}")


async def clear_outbox(url: str) -> None:
    from sqlalchemy import text

    from models.db import Database

    db = Database(url)
    async with db.write() as session:
        await session.execute(text("DELETE FROM outbox"))
    await db.dispose()


def order_breaks(new: list[Shot], confirmed: dict[int, int], waiting: dict[int, int]) -> int:
    """Sign-ups standing ahead of one that was answered before they were sent."""
    rank = {m: n for m, n in confirmed.items()} | {m: len(confirmed) + n for m, n in waiting.items()}
    by_done = sorted((s for s in new if s.member in rank), key=lambda s: s.done)
    breaks, best, i = 0, 0, 0
    for shot in sorted((s for s in new if s.member in rank), key=lambda s: s.sent):
        while i < len(by_done) and by_done[i].done < shot.sent:
            best = max(best, rank[by_done[i].member])
            i += 1
        breaks += rank[shot.member] < best
    return breaks


def filing_report(shots: list[Shot]) -> tuple[bool, str]:
    numbers = sorted(int(m.group(1)) for s in shots if (m := re.search(r"T\d{4}-(\d+)", s.reply)))
    ok = numbers == list(range(1, len(shots) + 1))
    verdict = "ok" if ok else "NO"
    return ok, f"  filed {len(numbers)}/{len(shots)}, numbers 1…{len(shots)} each once: {verdict}"


# ---------------------------------------------------------------- one backend


async def baseline(args: argparse.Namespace, code: str, target: str, replicas: int, tmp: Path) -> None:
    ports = [free_port() for _ in range(replicas)]
    procs = [start([sys.executable, "-c", code, str(port), target], tmp) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            await wait_ready(port, proc, "/")
        shots = rush_shots(args, ports)
        cpu = cpu_seconds(procs)
        elapsed = await open_loop(shots)
        cpu = (cpu_seconds(procs) - cpu) * 1000 / len(shots)
        print(f"  baseline, rush   {len(shots)} in {elapsed:4.1f} s   {latency(shots)}   "
              f"server CPU {cpu:.2f} ms/request", flush=True)
        shots = filing_shots(args, ports, 40_000_000)
        cpu = cpu_seconds(procs)
        elapsed = await closed_loop(shots, args.inflight)
        cpu = (cpu_seconds(procs) - cpu) * 1000 / len(shots)
        print(f"  baseline, {args.inflight} in flight {len(shots) / elapsed:6.0f} req/s   {latency(shots)}   "
              f"server CPU {cpu:.2f} ms/request", flush=True)
    finally:
        stop(procs)


async def watch(dsn: str, samples: dict[str, int]) -> None:
    """Count what the database's sessions are doing, sampled every 50 ms."""
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            for row in await conn.fetch(
                "SELECT state, wait_event_type, wait_event, left(query, 60) AS q FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ):
                key = f"{row['state']}/{row['wait_event_type']}/{row['wait_event']}: {row['q']}"
                samples[key] = samples.get(key, 0) + 1
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def watched(dsn: object, work: Awaitable[float]) -> float:
    if not isinstance(dsn, str):
        return await work
    samples: dict[str, int] = {}
    watcher = asyncio.create_task(watch(dsn, samples))
    try:
        return await work
    finally:
        watcher.cancel()
        for key, count in sorted(samples.items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {count:6d}  {key}")


async def settle(dsn: str | None) -> None:
    """Wait until the replicas finish work left over from the rush (answers pushed late)."""
    if dsn is None:
        await asyncio.sleep(1)
        return
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(600):
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')")
            if busy == 0:
                return
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def unionbot(args: argparse.Namespace, url: str, replicas: int, tmp: Path) -> list[bool]:
    ports = [free_port() for _ in range(replicas)]
    configs = [config(tmp, f"r{i}", port, url) for i, port in enumerate(ports)]
    await asyncio.to_thread(subprocess.run, [UNIONBOT, "db", "upgrade", "--config", str(configs[0])],
                            cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    await seed(url, args.members)
    procs = [start([UNIONBOT, "serve", "--config", str(path)], tmp) for path in configs]
    try:
        for port, proc in zip(ports, procs, strict=True):
            await wait_ready(port, proc)
        words = f"发起活动 迎新春游园会 时间 下周六 9:00 地点 体育馆 名额 {args.places}"
        create = Shot(ports[0], event_body(0, 1, words),
                      0, "create")
        await closed_loop([create], 1)
        assert "A1" in create.reply, create.reply
        warm = [Shot(port, event_body(5 + k, 2 + k, "活动"), 5 + k, "warm")
                for k, port in enumerate(ports * 20)]
        await closed_loop(warm, 8)
        shots = rush_shots(args, ports)
        cpu = cpu_seconds(procs)
        elapsed = await watched(args.watch, open_loop(shots))
        cpu = (cpu_seconds(procs) - cpu) * 1000 / len(shots)
        print(f"  unionbot, rush   {len(shots)} in {elapsed:4.1f} s   {latency(shots)}   "
              f"server CPU {cpu:.2f} ms/request", flush=True)
        await settle(url.replace("postgresql+asyncpg://", "postgresql://") if "postgresql" in url else None)
        rush_ok, line = rush_report(shots, args.places)
        print(line, flush=True)
        stored_ok, line = await stored(url, args.places)
        print(line, flush=True)
        rush_ok = rush_ok and stored_ok
        # 提案 on fresh processes, without the rush's late answers still being delivered
        stop(procs)
        await clear_outbox(url)
        procs[:] = [start([UNIONBOT, "serve", "--config", str(path)], tmp) for path in configs]
        for port, proc in zip(ports, procs, strict=True):
            await wait_ready(port, proc)
        closes = time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400))
        words = f"提案征集 开始 第九届教代会第三次会议 截止 {closes}"
        opened = Shot(ports[0], event_body(0, 3, words), 0, "open")
        await closed_loop([opened], 1)
        filings = filing_shots(args, ports, 30_000_000)
        cpu = cpu_seconds(procs)
        elapsed = await watched(args.watch, closed_loop(filings, args.inflight))
        cpu = (cpu_seconds(procs) - cpu) * 1000 / len(filings)
        print(f"  unionbot, 提案 {args.inflight} in flight {len(filings) / elapsed:6.0f} req/s   "
              f"{latency(filings)}   server CPU {cpu:.2f} ms/request", flush=True)
        file_ok, line = filing_report(filings)
        print(line, flush=True)
    finally:
        stop(procs)
    return [rush_ok and p99_of(shots) < 1000, file_ok and p99_of(filings) < 500]


async def on_sqlite(args: argparse.Namespace) -> list[bool]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        print(f"SQLite, one process: {args.members} 报名 A1 in {args.seconds:g} s for {args.places} places"
              f" (+ retries and repeats), then {args.filings} 提案 with {args.inflight} in flight",
              flush=True)
        await baseline(args, BARE_SQLITE, str(tmp / "bare.db"), 1, tmp)
        return await unionbot(args, f"sqlite+aiosqlite:///{tmp}/rush.db", 1, tmp)


async def on_postgresql(args: argparse.Namespace) -> list[bool]:
    admin = await asyncpg.connect(args.pg)
    name = f"unionbot_rush_{os.getpid()}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = args.pg.rsplit("/", 1)[0] + "/" + name
    try:
        bare = await asyncpg.connect(dsn)
        await bare.execute("CREATE TABLE bare (id bigserial PRIMARY KEY, at timestamptz, body text)")
        await bare.close()
        with tempfile.TemporaryDirectory() as tmp:
            print(f"PostgreSQL, two replicas: {args.members} 报名 A1 in {args.seconds:g} s for {args.places}"
                  f" places (+ retries and repeats), then {args.filings} 提案 with {args.inflight} in flight",
                  flush=True)
            await baseline(args, BARE_PG, dsn, 2, Path(tmp))
            args.watch = dsn if args.watch else None
            url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
            return await unionbot(args, url, 2, Path(tmp))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--places", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--filings", type=int, default=640)
    parser.add_argument("--inflight", type=int, default=32)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg", default=os.environ.get("UNIONBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--watch", action="store_true", help="sample pg_stat_activity during the runs")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    results = {}
    if args.only != "postgresql":
        results["SQLite"] = await on_sqlite(args)
    if args.only != "sqlite":
        results["PostgreSQL"] = await on_postgresql(args)
    for backend, (rush_ok, file_ok) in results.items():
        print(f"targets on {backend}: rush (p99 < 1 s, exact, in order) {'ok' if rush_ok else 'MISSED'};"
              f" 提案 p99 < 500 ms, numbers gapless {'ok' if file_ok else 'MISSED'}")


if __name__ == "__main__":
    asyncio.run(main())
