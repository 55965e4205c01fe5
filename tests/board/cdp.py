"""A small Chrome DevTools Protocol client for the board's browser tests.

Starts Debian's headless ``chromium`` with its own temporary profile, reads the DevTools
port from ``DevToolsActivePort`` and talks to the browser over one WebSocket (aiohttp's
client), with flat sessions: every page is a target attached with ``flatten: true``, so
its commands and events carry a ``sessionId`` on the same socket.

    async with launch() as browser:
        page = await browser.new_page(width=360, height=740)
        status = await page.goto("http://127.0.0.1:8080/board/")
        png = await page.screenshot()
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-port=0",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=zh-CN",
]
START_SECONDS = 60.0
COMMAND_SECONDS = 60.0


class CDPError(Exception):
    """A DevTools command answered with an error, or the browser went away."""


def chromium_path() -> str | None:
    """The Chromium executable, or None where it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Problem:
    """Something a page reported: a console error, a CSP violation, an exception, a dialog."""

    kind: str
    text: str


@dataclass
class Page:
    """One tab: its session on the browser socket, and what it reported since the last ``goto``."""

    browser: Browser
    session_id: str
    target_id: str
    width: int
    height: int
    problems: list[Problem] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    tasks: set[asyncio.Future[None]] = field(default_factory=set)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.problems.append(Problem("console", text))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            text = f"{entry.get('text')} {entry.get('url', '')}"
            self.problems.append(Problem(f"log/{entry.get('source')}", text))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.problems.append(Problem("exception", str(text)))
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(str(params.get("message", "")))
            task = asyncio.ensure_future(self._dismiss())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif method == "Network.responseReceived" and params.get("type") == "Document":
            self.statuses[params["response"]["url"]] = int(params["response"]["status"])

    async def _dismiss(self) -> None:
        with contextlib.suppress(CDPError):
            await self.send("Page.handleJavaScriptDialog", {"accept": False})

    async def goto(self, url: str) -> int | None:
        """Load ``url`` and wait for its load event; the HTTP status of the document."""
        self.problems.clear()
        self.dialogs.clear()
        self.statuses.clear()
        loaded = self.browser.wait_for("Page.loadEventFired", self.session_id)
        answer = await self.send("Page.navigate", {"url": url})
        if answer.get("errorText"):
            loaded.cancel()
            raise CDPError(f"{url}: {answer['errorText']}")
        await asyncio.wait_for(loaded, COMMAND_SECONDS)
        await asyncio.sleep(0.05)  # late console messages of the load
        final = await self.evaluate("location.href")
        return self.statuses.get(str(final), self.statuses.get(url))

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (returned by value)."""
        answer = await self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise CDPError(f"{expression[:60]}…: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def screenshot(self, *, max_height: int = 8000) -> bytes:
        """A PNG of the whole page (up to ``max_height`` CSS px tall) at the page's width."""
        metrics = await self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = min(max(int(size["height"]), 1), max_height)
        answer = await self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}})
        return base64.b64decode(answer["data"])

    async def cookies(self) -> list[dict[str, Any]]:
        return list((await self.send("Network.getCookies"))["cookies"])

    async def close(self) -> None:
        with contextlib.suppress(CDPError):
            await self.browser.send("Target.closeTarget", {"targetId": self.target_id})


class Browser:
    """The browser-level DevTools socket: commands, answers and events for every page."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.pages: dict[str, Page] = {}
        self.watchers: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self.reader = asyncio.ensure_future(self._read())

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[number] = answer
        await self.ws.send_json(message)
        try:
            return await asyncio.wait_for(answer, COMMAND_SECONDS)
        finally:
            self.waiting.pop(number, None)

    def wait_for(self, method: str, session_id: str | None = None) -> asyncio.Future[dict[str, Any]]:
        """A future for the next event ``method`` (of one page's session, when given)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.watchers.append((method, session_id, future))
        return future

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            self._dispatch(message.json())
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(CDPError("the browser closed its DevTools socket"))

    def _dispatch(self, data: dict[str, Any]) -> None:
        if "id" in data:
            future = self.waiting.get(data["id"])
            if future is not None and not future.done():
                if "error" in data:
                    future.set_exception(CDPError(str(data["error"])))
                else:
                    future.set_result(data.get("result", {}))
            return
        method, params, session = data.get("method", ""), data.get("params", {}), data.get("sessionId")
        page = self.pages.get(session or "")
        if page is not None:
            page.on_event(method, params)
        for watcher in list(self.watchers):
            name, wanted, future = watcher
            if name == method and wanted in (None, session):
                self.watchers.remove(watcher)
                if not future.done():
                    future.set_result(params)

    async def new_context(self) -> str:
        """A fresh browser context: its own cookies, like a second person's phone."""
        answer = await self.send("Target.createBrowserContext", {"disposeOnDetach": True})
        return str(answer["browserContextId"])

    async def new_page(self, *, width: int, height: int, context: str | None = None) -> Page:
        params: dict[str, Any] = {"url": "about:blank"}
        if context is not None:
            params["browserContextId"] = context
        target = str((await self.send("Target.createTarget", params))["targetId"])
        attached = await self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, str(attached["sessionId"]), target, width, height)
        self.pages[page.session_id] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        if width < 600:
            await page.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
        return page


async def _port(profile: Path, process: asyncio.subprocess.Process) -> tuple[int, str]:
    active = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_SECONDS
    while loop.time() < deadline:
        if process.returncode is not None:
            raise CDPError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(OSError, ValueError):
            lines = active.read_text().split("\n")
            if len(lines) >= 2 and lines[1]:
                return int(lines[0]), lines[1].strip()
        await asyncio.sleep(0.05)
    raise CDPError("chromium did not write DevToolsActivePort in time")


@contextlib.asynccontextmanager
async def launch(executable: str | None = None) -> AsyncIterator[Browser]:
    """Start headless Chromium with a temporary profile; stop it and remove the profile after."""
    path = executable or chromium_path()
    if path is None:
        raise CDPError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="unionbot-chromium-") as tmp:
        profile = Path(tmp)
        process = await asyncio.create_subprocess_exec(
            path, *FLAGS, f"--user-data-dir={profile}", "about:blank",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "LANGUAGE": "zh_CN"},
        )
        try:
            port, path_part = await _port(profile, process)
            async with aiohttp.ClientSession() as http, http.ws_connect(
                f"ws://127.0.0.1:{port}{path_part}", max_msg_size=0, autoping=False
            ) as ws:
                browser = Browser(ws)
                try:
                    yield browser
                finally:
                    browser.reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await browser.reader
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
