"""Shared by the in-process benchmarks: run many messages concurrently and print the figures."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """Median and 99th percentile, in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000


async def run(label: str, count: int, concurrency: int, one: Callable[[int], Awaitable[object]]) -> float:
    """Call ``one(i)`` for i in range(count) from ``concurrency`` workers; print and return the rate."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = count / (time.perf_counter() - started)
    p50, p99 = percentiles(latencies)
    print(f"{label:<34} {rate:8.0f} msg/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms", flush=True)
    return rate
