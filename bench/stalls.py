"""Webhook latency while an officer's long operation runs (no stalls).

    .venv/bin/python bench/stalls.py [--rate 100] [--alone 8] [--postgres]

A real ``unionbot serve`` (child process, SQLite in a temporary directory, or a
throwaway PostgreSQL database with ``--postgres``) holds a large university's data:
10,000 members, 1,000 events over the coming year plus one with 2,000 sign-ups,
10,000 proposals of 2027. This process sends a steady stream of signed OneBot group
messages (``--rate`` per second, unique ids, alternating ``帮助`` and ``点子 …``, which
writes an idea) and measures each answer. Printed, in one run:

  * alone: the stream with nothing else going on (the baseline);
  * roster import of 10,000 rows: ``unionbot members import`` as its own process;
  * XLSX export of 2,000 sign-ups: the officer's ``导出 A1001`` in a private chat, then
    the download link, opened again and again for the window;
  * ``提案统计 2027`` over 10,000 proposals, sent by the officer again and again;
  * ``unionbot scheduler plan --days 365`` as its own process.

Each line gives the webhook p50 / p99 / max of the messages sent while the operation
ran, and how long the operation took. Target (issue #18): p99 < 100 ms during each.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from pathlib import Path

import aiohttp
from channels import ONEBOT_SECRET, free_port, onebot_requests
from plan import BRANCHES, DEPARTMENTS, NOW, seed_events
from sqlalchemy import insert, select

from models.db import Database
from models.events.tables import CONFIRMED, OPEN, WAITLIST, Event, Signup
from models.migrate import upgrade
from models.org import Account, Branch, Member, MemberChild, MemberRole
from models.proposals.tables import Proposal, ProposalCounter, Status

ROOT = Path(__file__).resolve().parents[1]
UNIONBOT = str(Path(sys.executable).with_name("unionbot"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MEMBERS = 10_000
SIGNUPS = 2_000
PROPOSALS = 10_000
EVENTS = 1_000
BIG_EVENT = EVENTS + 1
OFFICER_QQ = 20000
URL_IN_REPLY = re.compile(r"https?://\S+/files/\S+")


async def seed_members(db: Database, rng: random.Random) -> list[int]:
    async with db.write() as session:
        root = Branch(name="示范大学工会")
        session.add(root)
        await session.flush()
        await session.execute(insert(Branch), [
            {"name": f"第{i + 1}分工会", "parent_id": root.id} for i in range(BRANCHES)])
        branch_ids = list(await session.scalars(select(Branch.id).order_by(Branch.id)))
        await session.execute(insert(Member), [{
            "staff_no": f"{100000 + i}", "name": f"教工{i}", "gender": "女" if i % 2 else "男",
            "birth_date": date(1960 + i % 40, 1, 1) + timedelta(days=rng.randrange(365)),
            "branch_id": branch_ids[0] if i < 5 else branch_ids[1 + i % BRANCHES],
            "phone": f"139{i:08d}", "department": DEPARTMENTS[i % 7] if i < 21 else None,
        } for i in range(MEMBERS)])
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        roles = [{"member_id": m, "role": "member"} for m in ids]
        roles += [{"member_id": ids[i], "role": "officer"} for i in range(5)]
        roles += [{"member_id": ids[i], "role": "handler"} for i in range(21)]
        roles += [{"member_id": m, "role": "representative"} for m in ids[::20]]
        await session.execute(insert(MemberRole), roles)
        await session.execute(insert(MemberChild), [
            {"member_id": m, "birth_date": date(2008, 1, 1) + timedelta(days=rng.randrange(6000))}
            for m in ids[::3]])
        await session.execute(insert(Account), [
            {"channel": "onebot", "external_id": str(OFFICER_QQ + i), "member_id": m}
            for i, m in enumerate(ids)])
    return ids


async def seed_big_event(db: Database, ids: list[int]) -> None:
    """Event A1001 with 2,000 sign-ups: 1,500 with a place, 500 waiting."""
    made = NOW - timedelta(days=10)
    signups = [{
        "event_id": BIG_EVENT, "member_id": member_id, "seq": seq,
        "place_seq": seq if seq <= 1500 else None, "status": CONFIRMED if seq <= 1500 else WAITLIST,
        "guests": 0, "note": f"备注{seq}" if seq % 7 == 0 else None, "signed_up_at": made,
        "updated_at": made,
    } for seq, member_id in enumerate(ids[10:10 + SIGNUPS], start=1)]
    async with db.write() as session:
        await session.execute(insert(Event), [{
            "id": BIG_EVENT, "number": BIG_EVENT, "title": "全校教职工运动会", "place": "体育场",
            "starts_at": NOW + timedelta(days=40), "ends_at": NOW + timedelta(days=40, hours=6),
            "capacity": 1500, "max_guests": 0, "status": OPEN, "places_taken": 1500,
            "confirmed_count": 1500, "waiting_count": 500, "last_seq": SIGNUPS, "last_place": 1500,
            "created_at": made, "updated_at": made,
        }])
        await session.execute(insert(Signup), signups)


async def seed_proposals(db: Database, ids: list[int], rng: random.Random) -> None:
    """10,000 proposals of 2027 in every status, with departments, replies and ratings."""
    filed = NOW - timedelta(days=90)
    statuses = list(Status)
    rows = []
    for seq in range(1, PROPOSALS + 1):
        status = statuses[seq % len(statuses)]
        admitted = status in (Status.ACCEPTED, Status.REPLIED, Status.CLOSED)
        rows.append({
            "number": f"T2027-{seq:05d}", "year": 2027, "seq": seq, "title": f"关于第{seq}项工作的建议",
            "reason": "理由", "suggestion": "建议", "proposer_id": ids[seq * 7 % len(ids)],
            "status": status.value, "cosigner_count": 2, "filed_at": filed, "updated_at": filed,
            "lead_department": DEPARTMENTS[seq % 7] if admitted else None,
            "deadline": NOW.date() + timedelta(days=rng.randrange(-30, 60)) if admitted else None,
            "replied_at": filed if status in (Status.REPLIED, Status.CLOSED) else None,
            "rating": rng.choice(("satisfied", "fair", "unsatisfied")) if status == Status.CLOSED else None,
        })
    async with db.write() as session:
        await session.execute(insert(Proposal), rows)
        await session.execute(insert(ProposalCounter), [{"year": 2027, "seq": PROPOSALS}])


def write_roster(path: Path) -> None:
    """10,000 rows: 9,000 members already on file with a new phone number, 1,000 new ones."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["工号", "姓名", "性别", "出生日期", "分工会", "角色", "手机"])
        for i in range(MEMBERS):
            staff = 100000 + i if i < 9000 else 200000 + i
            branch = "示范大学工会" if i < 5 else f"第{1 + i % BRANCHES}分工会"
            role = "干部" if i < 5 else ("代表" if i % 20 == 0 else "会员")
            writer.writerow([staff, f"教工{i}", "女" if i % 2 else "男", f"{1960 + i % 40}-03-01",
                             branch, role, f"137{i:08d}"])


async def seed(url: str, tmp: Path) -> None:
    rng = random.Random(18)
    db = Database(url)
    await upgrade(db)
    ids = await seed_members(db, rng)
    await seed_events(db, EVENTS, ids, rng)
    await seed_big_event(db, ids)
    await seed_proposals(db, ids, rng)
    await db.dispose()
    write_roster(tmp / "roster.csv")


def config(tmp: Path, url: str, port: int) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        f'[union]\nname = "示范大学工会"\n'
        f'[server]\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\nlog_level = "WARNING"\n'
        f'[database]\nurl = "{url}"\n'
        f'[onebot]\nenabled = true\nsecret = "{ONEBOT_SECRET}"\napi_url = "http://127.0.0.1:9"\n'
        f'[scheduler]\nenabled = false\n', encoding="utf-8")
    return path


def serve(cfg: Path, port: int) -> subprocess.Popen[bytes]:
    log = (cfg.parent / "serve.log").open("wb")  # shown when the server answers with errors
    proc = subprocess.Popen([UNIONBOT, "serve", "--config", str(cfg)], cwd=cfg.parent,
                            stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib_open(f"http://127.0.0.1:{port}/healthz"):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("unionbot serve did not answer /healthz")


def urllib_open(url: str) -> object:
    import urllib.request

    return urllib.request.urlopen(url, timeout=2)


@dataclass
class Stream:
    """A steady stream of group messages; latencies kept with the moment each was sent."""

    http: aiohttp.ClientSession
    base: str
    rate: float
    sent: list[tuple[float, float, bool]] = field(default_factory=list)  # (sent at, seconds, ok)
    offset: int = field(default_factory=lambda: random.randrange(10**9, 2 * 10**9))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def one(self, n: int) -> None:
        text = "帮助" if n % 2 else f"点子 第{n}条建议：食堂延长晚餐时间"
        [(path, body, headers)] = onebot_requests(1, offset=self.offset + n, text=text)
        event = json.loads(body)
        event["user_id"] = event["sender"]["user_id"] = OFFICER_QQ + 100 + n % 9000
        body = json.dumps(event, ensure_ascii=False).encode()
        headers["X-Signature"] = signed(body)
        began = time.perf_counter()
        try:
            async with self.http.post(self.base + path, data=body, headers=headers) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        self.sent.append((began, time.perf_counter() - began, ok))

    async def run(self, stop: asyncio.Event) -> None:
        started, n = time.perf_counter(), 0
        while not stop.is_set():
            delay = started + n / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self.one(n))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            n += 1
        await asyncio.gather(*self.tasks)

    def window(self, start: float, end: float) -> list[tuple[float, bool]]:
        return [(took, ok) for at, took, ok in self.sent if start <= at <= end]


def signed(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha1=" + hmac.new(ONEBOT_SECRET.encode(), body, hashlib.sha1).hexdigest()


async def officer_says(http: aiohttp.ClientSession, base: str, text: str) -> str:
    """A private message from the 校工会 officer; the text of the quick-operation reply."""
    [(path, body, headers)] = onebot_requests(1, offset=random.randrange(3 * 10**9, 4 * 10**9), text=text)
    event = json.loads(body)
    event.update(message_type="private", sub_type="friend", user_id=OFFICER_QQ)
    event["sender"]["user_id"] = OFFICER_QQ
    del event["group_id"]
    body = json.dumps(event, ensure_ascii=False).encode()
    headers["X-Signature"] = signed(body)
    async with http.post(base + path, data=body, headers=headers) as resp:
        payload = await resp.json(content_type=None)
    return str(payload.get("reply", "")) if isinstance(payload, dict) else ""


def run_cli(*args: str) -> Callable[[], Awaitable[str]]:
    async def operation() -> str:
        proc = await asyncio.create_subprocess_exec(
            UNIONBOT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        lines = (out or err).decode().strip().splitlines()
        return f"exit {proc.returncode}: {lines[-1][:60] if lines else ''}"
    return operation


def repeated(seconds: float, once: Callable[[], Awaitable[str]]) -> Callable[[], Awaitable[str]]:
    async def operation() -> str:
        ends, count, said = time.perf_counter() + seconds, 0, ""
        while time.perf_counter() < ends:
            said = await once()
            count += 1
        return f"{count}× {said}"
    return operation


def export_download(http: aiohttp.ClientSession, base: str) -> Callable[[], Awaitable[str]]:
    link: list[str] = []

    async def once() -> str:
        if not link:
            reply = await officer_says(http, base, f"导出 A{BIG_EVENT}")
            found = URL_IN_REPLY.search(reply)
            if found is None:
                raise RuntimeError(f"导出 gave no link: {reply[:200]}")
            link.append(found.group(0))
        began = time.perf_counter()
        async with http.get(link[0]) as resp:
            data = await resp.read()
        return f"{resp.status}, {len(data) // 1024} KB in {(time.perf_counter() - began) * 1000:.0f} ms each"
    return once


def statistics(http: aiohttp.ClientSession, base: str) -> Callable[[], Awaitable[str]]:
    async def once() -> str:
        began = time.perf_counter()
        reply = await officer_says(http, base, "提案统计 2027")
        took = (time.perf_counter() - began) * 1000
        return f"收到 {'10000' in reply}, {took:.0f} ms each"
    return once


def row(label: str, took: float, window: list[tuple[float, bool]], said: str) -> str:
    times = sorted(t * 1000 for t, _ in window)
    if not times:
        return f"{label:<34} no messages"
    p50 = times[len(times) // 2]
    p99 = times[max(0, int(len(times) * 0.99) - 1)]
    bad = sum(1 for _, ok in window if not ok)
    return (f"{label:<34} {took:7.1f} s {len(times):6d} {p50:8.1f} {p99:8.1f} {times[-1]:8.1f} "
            f"{bad:5d}  {said}")


async def measure(stream: Stream, label: str, operation: Callable[[], Awaitable[str]]) -> str:
    stop = asyncio.Event()
    runner = asyncio.create_task(stream.run(stop))
    await asyncio.sleep(0.5)
    began = time.perf_counter()
    said = await operation()
    ended = time.perf_counter()
    stop.set()
    await runner
    line = row(label, ended - began, stream.window(began, ended), said)
    print(line, flush=True)
    return line


async def bench(url: str, tmp: Path, args: argparse.Namespace) -> None:
    port = free_port()
    cfg = config(tmp, url, port)
    await seed(url, tmp)
    server = serve(cfg, port)
    base = f"http://127.0.0.1:{port}"
    plan_at = NOW.astimezone(UTC).isoformat()
    stream: Stream | None = None
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
            stream = Stream(http, base, args.rate)
            await measure(stream, "warm-up", lambda: asyncio.sleep(2, "—"))
            print(f"{'operation':<34} {'took':>9} {'msgs':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
                  f"{'fail':>5}  what it did", flush=True)
            await measure(stream, "alone (baseline)", lambda: asyncio.sleep(args.alone, "—"))
            await measure(stream, "roster import, 10,000 rows", run_cli(
                "members", "import", str(tmp / "roster.csv"), "--config", str(cfg)))
            export = repeated(args.window, export_download(http, base))
            await measure(stream, "XLSX export, 2,000 sign-ups", export)
            stats = repeated(args.window, statistics(http, base))
            await measure(stream, "提案统计 over 10,000 proposals", stats)
            await measure(stream, "scheduler plan --days 365", run_cli(
                "scheduler", "plan", "--days", "365", "--at", plan_at, "--config", str(cfg)))
            await measure(stream, "alone again", lambda: asyncio.sleep(args.alone, "—"))
    finally:
        server.terminate()
        server.wait()
        if stream is not None and any(not ok for _, _, ok in stream.sent):
            print((tmp / "serve.log").read_text(errors="replace")[-3000:])


async def on_postgres(args: argparse.Namespace, tmp: Path) -> None:
    import asyncpg

    name = f"unionbot_stalls_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await bench(PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}",
                    tmp, args)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--alone", type=float, default=8.0)
    parser.add_argument("--window", type=float, default=6.0, help="seconds the short operations repeat")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        kind = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{kind}: {MEMBERS} members, {EVENTS} events + A{BIG_EVENT} "
              f"with {SIGNUPS} sign-ups, {PROPOSALS} proposals; {args.rate:.0f} webhook messages/s",
              flush=True)
        if args.postgres:
            asyncio.run(on_postgres(args, tmp))
        else:
            asyncio.run(bench(f"sqlite+aiosqlite:///{tmp}/unionbot.db", tmp, args))


if __name__ == "__main__":
    main()
