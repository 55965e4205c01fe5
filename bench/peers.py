"""unionbot side by side with NoneBot2 and a bare aiohttp handler, on loopback.

    .venv/bin/python bench/peers.py [--messages 2000] [--concurrency 16 64] [--transports http ws]

Builds (once) a throwaway venv ``bench/.peers-venv`` (gitignored, not a project
dependency) with NoneBot2 2.5 + nonebot-adapter-onebot 2.4 + FastAPI/uvicorn/aiohttp,
running ``bench/peers_nonebot.py``: the same ``提案`` fields, one SQLite insert per
message, and its reply. Then, one server at a time (each gets a core; the load comes
from this process), the same load generator drives

  * bare:      a bare aiohttp handler: signature, parse, one SQLite insert, reply;
  * unionbot:  ``提案 标题：… 理由：… 建议：…`` (proposal + number + event + audit + dedup
               rows) and ``记录 <text>`` (a command writing one audit row);
  * NoneBot2:  ``提案 …`` through the plugin;

over HTTP POST (keep-alive, ``X-Signature: sha1=HMAC``, unique message ids; a reply is the
quick operation in the answer, or the ``send_msg`` / ``send_group_msg`` call to the fake
OneBot HTTP API in this process) and over the reverse WebSocket (``Authorization:
Bearer``, ``X-Self-ID``; events in, ``send_*`` calls out, answered with their ``echo``).
A message counts when its reply has reached the fake OneBot side. Rows are counted
afterwards. CPU ms per message is the server's user+system time over the run.
Targets (issue #18): unionbot ≥ 2× NoneBot2 on each transport; ``提案`` ≥ 0.15× and a
one-row command ≥ 0.3× the bare handler.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

from peers_load import Figures, Load, free_port, run_http, run_ws

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VENV = BENCH / ".peers-venv"
PINS = ("nonebot2[fastapi,aiohttp]>=2.5,<2.6", "nonebot-adapter-onebot>=2.4,<2.5")
SECRET, TOKEN = "bench-secret", "bench-token"
MEMBERS = 200
PROPOSE = "提案 标题：关于第{i}号食堂窗口延长供餐时间的提案 理由：加班的老师错过晚饭{i} 建议：晚餐延长到八点"
RECORD = "记录 第{i}条"


def ensure_venv() -> Path:
    """The throwaway venv with NoneBot2; built on the first run (about a minute)."""
    python = VENV / "bin" / "python"
    marker = VENV / "pins.txt"
    if not python.exists() or not marker.exists() or marker.read_text() != "\n".join(PINS):
        print(f"building {VENV.relative_to(ROOT)} with {', '.join(PINS)} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        marker.write_text("\n".join(PINS))
    return python


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One server process and how to reach it."""

    name: str
    argv: list[str]
    port: int
    http_path: str
    ws_path: str
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: str) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env={**os.environ, **self.env},
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                with __import__("socket").create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Result:
    figures: Figures
    cpu_ms: float
    how: str  # how HTTP replies came back


async def measure(server: Server, load: Load, transport: str, text: str, expect: str,
                  concurrency: int, count: int, self_id: int) -> Result:
    assert server.proc is not None
    url = f"http://127.0.0.1:{server.port}"
    run = run_http if transport == "http" else run_ws
    path = server.http_path if transport == "http" else server.ws_path
    warm = max(concurrency * 4, 200)
    await run(load, url + path, text, expect, concurrency, warm, self_id)
    load.passive = load.pushed = 0
    before = cpu_seconds(server.proc.pid)
    figures = await run(load, url + path, text, expect, concurrency, count, self_id)
    cpu = (cpu_seconds(server.proc.pid) - before) * 1000 / count
    return Result(figures, cpu, f"{load.passive} in the answer, {load.pushed} via the API"
                  if transport == "http" else "")


def show(label: str, result: Result) -> None:
    f = result.figures
    print(f"  {label:<38} {f.rate:7.0f} msg/s   p50 {f.p50:7.2f} ms   p99 {f.p99:7.2f} ms   "
          f"CPU {result.cpu_ms:5.2f} ms/msg  {result.how}", flush=True)


def count_rows(path: str, sql: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(sql).fetchone()[0])


Plan = list[tuple[str, str, str, str]]  # (label, transport, text, expected in the reply)


async def drive(server: Server, load: Load, plan: Plan, args: argparse.Namespace, cwd: str,
                results: dict[tuple[str, str, int], Result]) -> int:
    """Start ``server``, run ``plan`` at every concurrency, stop it; the messages sent."""
    server.start(cwd)
    sent = 0
    try:
        for label, transport, text, expect in plan:
            if transport not in args.transports:
                continue
            for concurrency in args.concurrency:
                self_id = 10000 if transport == "http" else 10001 + len(results)
                result = await measure(server, load, transport, text, expect, concurrency,
                                       args.messages, self_id)
                sent += args.messages + max(concurrency * 4, 200)
                results[(label, transport, concurrency)] = result
                show(f"{label} {transport} c={concurrency}", result)
    finally:
        server.stop()
    return sent


def servers(tmp: str, nonebot_python: Path, api_port: int) -> tuple[Server, Server, Server]:
    project = [sys.executable, str(BENCH / "peers_servers.py")]
    path_env = {"PYTHONPATH": str(ROOT)}
    port = free_port()
    bare = Server("bare", [*project, "bare", str(port), f"{tmp}/bare.db", SECRET, TOKEN], port,
                  "/", "/ws", path_env)
    port = free_port()
    settings = {
        "union": {"name": "示范大学工会"}, "server": {"port": port, "log_level": "WARNING"},
        "database": {"url": f"sqlite+aiosqlite:///{tmp}/unionbot.db"},
        "onebot": {"enabled": True, "secret": SECRET, "access_token": TOKEN,
                   "api_url": f"http://127.0.0.1:{api_port}"},
        "proposals": {"open_all_year": True},
    }
    import json

    ours = Server("unionbot", [*project, "unionbot", json.dumps(settings), str(MEMBERS)], port,
                  "/qq/onebot", "/qq/onebot/ws", path_env)
    port = free_port()
    theirs = Server("nonebot", [str(nonebot_python), str(BENCH / "peers_nonebot.py")], port,
                    "/onebot/v11/http", "/onebot/v11/ws", {
                        "DRIVER": "~fastapi+~aiohttp", "HOST": "127.0.0.1", "PORT": str(port),
                        "LOG_LEVEL": "WARNING", "ONEBOT_SECRET": SECRET, "ONEBOT_ACCESS_TOKEN": TOKEN,
                        "ONEBOT_API_ROOTS": json.dumps({"10000": f"http://127.0.0.1:{api_port}/"}),
                        "COMMAND_START": '["/", ""]', "PEERS_DB": f"{tmp}/nonebot.db",
                        "ENVIRONMENT": "prod"})
    return bare, ours, theirs


def ratio_line(label: str, ours: Result | None, theirs: Result | None, target: float) -> None:
    if ours is None or theirs is None:
        return
    value = ours.figures.rate / theirs.figures.rate
    verdict = "met" if value >= target else f"MISSED by {target - value:.2f}"
    print(f"  {label:<52} {value:5.2f}×   (target ≥ {target}×: {verdict});"
          f"  per CPU second {theirs.cpu_ms / ours.cpu_ms:5.2f}×")


def ratios(results: dict[tuple[str, str, int], Result], args: argparse.Namespace) -> None:
    print("ratios (msg/s over msg/s in the same run; then messages per CPU second of the server):")
    for transport in args.transports:
        for c in args.concurrency:
            get = results.get
            ratio_line(f"unionbot 提案 / NoneBot2 提案, {transport} c={c}",
                       get(("unionbot 提案", transport, c)), get(("NoneBot2 提案", transport, c)), 2.0)
            ratio_line(f"unionbot 提案 / bare, {transport} c={c}",
                       get(("unionbot 提案", transport, c)), get(("bare insert", transport, c)), 0.15)
            ratio_line(f"unionbot 记录 (one row) / bare, {transport} c={c}",
                       get(("unionbot 记录", transport, c)), get(("bare insert", transport, c)), 0.3)


async def main_async(args: argparse.Namespace, nonebot_python: Path) -> None:
    results: dict[tuple[str, str, int], Result] = {}
    async with Load(SECRET, TOKEN, MEMBERS) as load:
        with tempfile.TemporaryDirectory() as tmp:
            bare, ours, theirs = servers(tmp, nonebot_python, load.api_port)
            print("bare aiohttp handler (one SQLite insert + reply):", flush=True)
            sent = await drive(bare, load, [("bare insert", t, RECORD, "已记录") for t in ("http", "ws")],
                               args, tmp, results)
            print(f"  rows: {count_rows(f'{tmp}/bare.db', 'SELECT count(*) FROM message')} of {sent}")
            print("unionbot:", flush=True)
            plan = [(f"unionbot {word}", t, text, expect) for t in ("http", "ws")
                    for word, text, expect in (("提案", PROPOSE, "提案已提交"), ("记录", RECORD, "已记录"))]
            await drive(ours, load, plan, args, tmp, results)
            db = f"{tmp}/unionbot.db"
            print(f"  rows: {count_rows(db, 'SELECT count(*) FROM proposal')} proposals, "
                  f"{count_rows(db, 'SELECT count(*) FROM proposal_event')} proposal events, "
                  f"{count_rows(db, 'SELECT count(*) FROM audit_log')} audit entries, "
                  f"{count_rows(db, 'SELECT count(*) FROM inbound_record')} dedup records")
            print("NoneBot2 2.5 + adapter-onebot 2.4 (FastAPI/uvicorn, aiohttp client):", flush=True)
            plan = [("NoneBot2 提案", t, PROPOSE, "提案已提交") for t in ("http", "ws")]
            sent = await drive(theirs, load, plan, args, tmp, results)
            print(f"  rows: {count_rows(f'{tmp}/nonebot.db', 'SELECT count(*) FROM proposal')} of {sent}")
    ratios(results, args)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000, help="measured messages per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--transports", nargs="+", default=["http", "ws"], choices=["http", "ws"])
    args = parser.parse_args()
    nonebot_python = ensure_venv()
    asyncio.run(main_async(args, nonebot_python))


if __name__ == "__main__":
    main()
