"""``unionbot serve`` under hostile clients: real sockets on 127.0.0.1, every wait bounded."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.appkeys import METRICS
from bot.config import Settings
from bot.httpguard import FloodLog
from bot.metrics import Metrics
from bot.server import connection_cap, raise_open_files_limit, serving
from tests.factories import make_settings

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
ONEBOT_HEAD = (b"POST /qq/onebot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 100\r\n\r\n")


def _settings(tmp_path: Path, **server: object) -> Settings:
    return make_settings(
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/app.db"},
        server={"header_timeout_seconds": 2, "body_timeout_seconds": 1, **server},
        onebot={"enabled": True, "secret": "s", "api_url": "http://127.0.0.1:9"},
    )


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[Any, tuple[str, int]]]:
    app = create_app(settings)
    async with serving(app, settings, port=0) as address:
        yield app, address


async def exchange(address: tuple[str, int], data: bytes, *, within: float = 5.0) -> bytes:
    """Send ``data``, return all the server answers until it closes (at most ``within`` s)."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), within)
    finally:
        writer.close()


def trouble(app: Any, kind: str) -> float:
    value = app[METRICS].registry.get_sample_value("unionbot_http_trouble_total", {"kind": kind})
    return value or 0.0


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def until(condition: Any) -> None:
    for _ in range(250):  # at most 5 s
        if condition():
            return
        await asyncio.sleep(0.02)


async def test_malformed_requests_are_one_warning_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with served(_settings(tmp_path)) as (app, address):
        answers = [await exchange(address, b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
                   for _ in range(20)]
    assert {a.split(b"\r\n")[0] for a in answers} == {b"HTTP/1.0 400 Bad Request"}
    assert trouble(app, "malformed_request") == 20
    assert lines(caplog, logging.ERROR) == []
    warnings = lines(caplog, logging.WARNING)
    assert warnings == ["http: Error handling request from 127.0.0.1 (BadHttpMessage)"]
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


async def test_a_client_hanging_up_mid_body_is_one_warning_for_every_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with served(_settings(tmp_path)) as (app, address):
        for _ in range(5):
            _reader, writer = await asyncio.open_connection(*address)
            writer.write(ONEBOT_HEAD + b'{"post_type"')
            await writer.drain()
            writer.close()
        await until(lambda: trouble(app, "client_gone") == 5)
    assert trouble(app, "client_gone") == 5
    assert lines(caplog, logging.ERROR) == []
    warnings = lines(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert warnings[0].startswith("http: 127.0.0.1 broke off its request to /qq/onebot")


async def test_a_trickling_body_is_answered_408_and_closed_within_the_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(_settings(tmp_path)) as (app, address):
        reader, writer = await asyncio.open_connection(*address)
        writer.write(ONEBOT_HEAD)
        started = time.monotonic()

        async def trickle() -> None:
            for _ in range(40):  # one byte every 0.25 s: 10 s if nobody stops it
                writer.write(b" ")
                await asyncio.sleep(0.25)

        dripping = asyncio.create_task(trickle())
        try:
            answer = await asyncio.wait_for(reader.read(), 6)
        finally:
            dripping.cancel()
            writer.close()
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408")
    assert 0.9 < elapsed < 4.0  # body timeout 1 s, then at most 2 s of lingering
    assert trouble(app, "slow_body") == 1
    assert lines(caplog, logging.ERROR) == []


async def test_a_trickling_request_head_is_closed_within_the_timeout(tmp_path: Path) -> None:
    async with served(_settings(tmp_path, header_timeout_seconds=1)) as (_app, address):
        reader, writer = await asyncio.open_connection(*address)
        started = time.monotonic()

        async def trickle() -> None:
            for byte in b"POST /qq/onebot HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 40:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.2)

        dripping = asyncio.create_task(trickle())
        try:
            answer = await asyncio.wait_for(reader.read(), 6)
        finally:
            dripping.cancel()
            writer.close()
    assert answer == b""
    assert 0.9 < time.monotonic() - started < 3.0


async def test_beyond_the_connection_cap_new_clients_get_503_and_healthz_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with served(_settings(tmp_path, max_connections=10)) as (app, address):
        idle = [await asyncio.open_connection(*address) for _ in range(10)]
        await asyncio.sleep(0.2)  # let the server accept them all
        refused = [await exchange(address, HEALTHZ) for _ in range(3)]
        await asyncio.sleep(2.5)  # the idle ones pass the 2 s header timeout and are closed
        closed = [await asyncio.wait_for(r.read(), 2) for r, _w in idle]
        recovered = await exchange(address, HEALTHZ)
        for _reader, writer in idle:
            writer.close()
    assert all(r.startswith(b"HTTP/1.1 503") and r.endswith(b"busy") for r in refused)
    assert closed == [b""] * 10
    assert recovered.startswith(b"HTTP/1.1 200") and b'{"status": "ok"}' in recovered
    assert trouble(app, "busy") == 3
    assert lines(caplog, logging.ERROR) == []
    assert len([m for m in lines(caplog, logging.WARNING) if "refusing new ones" in m]) == 1


def test_the_open_files_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256, hard), hard))
    try:
        now = raise_open_files_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == now
        if hard != resource.RLIM_INFINITY:
            assert now == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_connection_cap_leaves_room_for_other_files() -> None:
    assert connection_cap(500, 1024) == 500
    assert connection_cap(2000, 1024) == 924


def test_a_flood_of_one_kind_is_one_line_then_a_count_of_the_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    metrics = Metrics()
    log = FloodLog(metrics.trouble, interval=60, clock=lambda: now[0])
    for _ in range(3):
        log.note("client_gone", "gone from %s", "10.0.0.1")
    log.note("busy", "busy")
    now[0] = 161.0
    log.note("client_gone", "gone from %s", "10.0.0.2")
    assert lines(caplog, logging.WARNING) == [
        "gone from 10.0.0.1", "busy", "gone from 10.0.0.2 (and 2 more like this in the last 61 s)",
    ]
    sample = metrics.registry.get_sample_value
    assert sample("unionbot_http_trouble_total", {"kind": "client_gone"}) == 4
