"""``unionbot serve`` on the embedded defaults: start-up time, CPU and idle memory.

    .venv/bin/python bench/serve.py [--runs 5] [--idle 5] [--imports 0]

No config file: each server runs in its own directory, so the database is SQLite under
``./data`` there; only the port comes from the environment (``UNIONBOT_SERVER__PORT``).
Every round starts, in turn,

- a bare aiohttp server answering ``/healthz`` (the baseline, same Python, same venv),
- ``unionbot serve`` in an empty directory (first start: creates and migrates the database),
- ``unionbot serve`` again in that directory (warm start: the schema is up to date),

and measures the wall time from the process start to the first ``/healthz`` 200, the CPU
seconds the process used until then (user + system, from ``/proc``; less noisy than wall
time on a shared machine), and its resident memory (VmRSS) after ``--idle`` seconds idle,
which lets the scheduler's first run finish. Medians over the rounds, and ratios to the
bare server. ``--imports N`` adds the N slowest imports of ``unionbot serve`` up to its
first answer (``python -X importtime``).

Targets (issue #18): warm start < 1.0 s, idle RSS < 80 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BARE = """
from aiohttp import web
async def ok(request): return web.json_response({"status": "ok"})
app = web.Application(); app.router.add_get("/healthz", ok)
web.run_app(app, host="127.0.0.1", port=int(__import__("os").environ["UNIONBOT_SERVER__PORT"]), print=None)
"""
TICKS = os.sysconf("SC_CLK_TCK")
PROJECT_PACKAGES = ("bot", "handlers", "models", "scheduler")


@dataclass(frozen=True)
class Start:
    ready: float  # seconds from the process start to the first /healthz 200
    cpu: float  # user + system seconds of the process until then
    rss: float  # MB resident after idling


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def answered(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def measure(command: list[str], cwd: str, idle: float, stderr: int | None = None) -> Start:
    port = free_port()
    env = {**os.environ, "UNIONBOT_SERVER__PORT": str(port), "UNIONBOT_SERVER__LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL if stderr is None else stderr)
    try:
        while not answered(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode}")
            time.sleep(0.005)
        ready = time.perf_counter() - started
        cpu = cpu_seconds(proc.pid)
        time.sleep(idle)
        return Start(ready, cpu, rss_mb(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def bytecode_note() -> str:
    root = Path(__file__).resolve().parent.parent
    sources = [p for pkg in PROJECT_PACKAGES for p in (root / pkg).rglob("*.py")]
    compiled = sum(1 for p in sources if list(p.parent.glob(f"__pycache__/{p.stem}.*.pyc")))
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "")
    return (f"project modules with .pyc: {compiled}/{len(sources)}; "
            f"PYTHONDONTWRITEBYTECODE={flag or '(unset)'}")


def slowest_imports(unionbot: str, idle: float, count: int) -> list[tuple[int, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        measure([unionbot, "serve"], tmp, 0.0)  # creates the database; the next start is warm
        log = Path(tmp) / "importtime.txt"
        with log.open("wb") as fh:
            measure([sys.executable, "-X", "importtime", unionbot, "serve"], tmp, idle, stderr=fh.fileno())
        rows = []
        for line in log.read_text(errors="replace").splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if found and len(found[3]) <= 3:  # top-level and their direct imports
                rows.append((int(found[2]), found[3] + found[4]))
    return sorted(rows, reverse=True)[:count]


def row(label: str, starts: list[Start], bare: list[Start]) -> str:
    ready = statistics.median(s.ready for s in starts)
    cpu = statistics.median(s.cpu for s in starts)
    rss = statistics.median(s.rss for s in starts)
    base = [statistics.median(getattr(s, k) for s in bare) for k in ("ready", "cpu", "rss")]
    return (f"{label:<15} {ready:6.2f} s (max {max(s.ready for s in starts):5.2f}) {ready / base[0]:5.1f}×"
            f"   cpu {cpu:5.2f} s {cpu / base[1]:5.1f}×   RSS {rss:5.1f} MB {rss / base[2]:5.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading VmRSS")
    parser.add_argument("--imports", type=int, default=0, help="show the N slowest imports")
    options = parser.parse_args()
    unionbot = str(Path(sys.executable).with_name("unionbot"))
    results: dict[str, list[Start]] = {"bare aiohttp": [], "first start": [], "warm start": []}
    for _ in range(options.runs):
        with tempfile.TemporaryDirectory() as tmp:
            results["bare aiohttp"].append(measure([sys.executable, "-c", BARE], tmp, options.idle))
            results["first start"].append(measure([unionbot, "serve"], tmp, options.idle))
            results["warm start"].append(measure([unionbot, "serve"], tmp, options.idle))
    print(f"{options.runs} rounds, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"RSS after {options.idle:g} s idle; {bytecode_note()}")
    print("medians: start→first /healthz 200, CPU used until then, idle RSS; × = ratio to bare aiohttp")
    for label, starts in results.items():
        print(row(label, starts, results["bare aiohttp"]))
    warm = results["warm start"]
    print(f"targets: warm start < 1.0 s: {statistics.median(s.ready for s in warm):.2f} s; "
          f"idle RSS < 80 MB: {statistics.median(s.rss for s in warm):.1f} MB")
    if options.imports:
        print("slowest imports of unionbot serve (cumulative ms, -X importtime, one warm start):")
        for micros, name in slowest_imports(unionbot, 1.0, options.imports):
            print(f"  {micros / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
