"""``unionbot serve``: time from start to the first ``/healthz`` 200, and idle memory.

    .venv/bin/python bench/serve.py [--runs 5]

Baseline, measured in the same run: a bare aiohttp server answering "ok".
Targets (issue #2): start-up < 1.5 s, idle RSS < 120 MB.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BARE = """
from aiohttp import web
async def ok(request): return web.Response(text="ok")
app = web.Application(); app.router.add_get("/healthz", ok)
web.run_app(app, host="127.0.0.1", port={port}, print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(command: list[str], port: int, cwd: str) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}") from None
                time.sleep(0.01)
        ready = time.perf_counter() - started
        time.sleep(1.0)
        return ready, rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    unionbot = str(Path(sys.executable).with_name("unionbot"))
    results: dict[str, list[tuple[float, float]]] = {"bare aiohttp": [], "unionbot serve": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            port = free_port()
            results["bare aiohttp"].append(
                measure([sys.executable, "-c", BARE.format(port=port)], port, tmp)
            )
            port = free_port()
            config = Path(tmp) / "config.toml"
            config.write_text(f"[server]\nport = {port}\nlog_level = \"WARNING\"\n")
            if i == 0:  # the first start creates and migrates the SQLite file
                first = measure([unionbot, "serve", "--config", str(config)], port, tmp)
            results["unionbot serve"].append(
                measure([unionbot, "serve", "--config", str(config)], port, tmp)
            )
    print(f"{runs} runs each, {os.cpu_count()} cores")
    print(f"unionbot serve, first start (creates the database): {first[0]:.2f} s")
    for label, rows in results.items():
        ready = statistics.median(r[0] for r in rows)
        rss = statistics.median(r[1] for r in rows)
        print(f"{label:<16} start→/healthz 200: median {ready:.2f} s, max {max(r[0] for r in rows):.2f} s;"
              f" idle RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
