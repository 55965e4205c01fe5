"""``unionbot serve`` on the embedded defaults starts without the libraries only rare work needs.

Each of these costs start-up time or memory (together ~0.3 s of CPU and ~20 MB) and
is loaded by the code that needs it: a spreadsheet, a WeChat or official-QQ channel,
a signed fund checkpoint, a festival's date, a schema that is behind, a ``/metrics``
scrape, a PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAZY = (
    "alembic", "mako", "pygments",
    "cryptography", "wechatpy",
    "openpyxl",
    "lunar_python", "chinese_calendar",
    "prometheus_client",
    "sqlalchemy.dialects.postgresql", "asyncpg",
)

# Serves on the embedded defaults (SQLite under ./data) as ``unionbot serve`` does,
# answers one /healthz, stops, and prints which of LAZY were loaded. The scheduler's
# first run (which computes festival dates) is held back past the end.
SERVE_ONCE = """
import asyncio, json, sys
import aiohttp
import scheduler.runner
from bot.cli.main import parse
args = parse(["serve"])
from bot.app import create_app, for_serving
from bot.cli.common import settings_of
from bot.server import serving
scheduler.runner.FIRST_RUN_DELAY = 3600.0

async def serve_once():
    settings = settings_of(args)
    async with serving(for_serving(create_app(settings)), settings, port=0) as (host, port):
        async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}/healthz") as r:
            return r.status

status = asyncio.run(serve_once())
print(json.dumps({"status": status, "loaded": [m for m in %r if m in sys.modules]}))
"""


def serve_once(directory: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", SERVE_ONCE % (LAZY,)], cwd=directory, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def starts(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], dict[str, object]]:
    directory = tmp_path_factory.mktemp("serve")  # no config.toml: the embedded defaults
    first = serve_once(directory)
    return first, serve_once(directory)


def test_the_first_start_creates_the_database_with_alembic(
    starts: tuple[dict[str, object], dict[str, object]],
) -> None:
    first, _ = starts
    assert first["status"] == 200
    assert "alembic" in first["loaded"]  # type: ignore[operator]


def test_a_warm_start_loads_none_of_the_rarely_needed_libraries(
    starts: tuple[dict[str, object], dict[str, object]],
) -> None:
    _, warm = starts
    assert warm["status"] == 200
    assert warm["loaded"] == []
