"""The board (公开栏) in a real headless Chromium, on the sample union (``tests.board.sample``).

Every page at a phone's 360×740 and a desktop's 1280×800: the status, no console error or
CSP violation, no horizontal scrolling, no text under 12 px, tap targets of at least
24 px on the phone, every link answering 200, hostile content shown as text and never run.
The member-link flow end to end: 公开栏 in a private chat → the link → the cookie → the
board; a browser without the cookie gets the 403 page.

Screenshots of every page at both sizes go to ``$UNIONBOT_ARTIFACTS`` (default
``tests/artifacts/board/``). Without Chromium the tests skip, unless ``CI`` is set: then
they fail, so a CI machine without a browser cannot pass them silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.appkeys import PIPELINE
from bot.messages import Incoming
from models.db import Database
from models.migrate import upgrade
from models.org import Account
from tests.board import checks
from tests.board.cdp import Browser, Page, Problem, chromium_path, launch
from tests.board.live import Live, bound_socket, serve
from tests.board.sample import BRANCHES, IMG, ROOT, SCRIPT, Sample, fill
from tests.factories import make_settings
from tests.models.funds.publishing import book_quarter, publish
from tests.models.funds.support import book

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIZES = {"phone": (360, 740), "desktop": (1280, 800)}
CONSOLE_ID = "console-zhang"
#: What ``checks.INJECTED`` finds on a page where nothing was injected.
CLEAN = {"marker": None, "handlers": [], "inlineScripts": 0, "foreign": []}
LINK_RE = re.compile(r"https?://\S+?/board/\S*")
ARTIFACTS = Path(os.environ.get("UNIONBOT_ARTIFACTS") or Path(__file__).parents[1] / "artifacts" / "board")


def _need_chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium fonts-wqy-microhei)")
    return path


@dataclass
class Board:
    """The running board, a browser whose context holds a member's cookie, and what was checked."""

    live: Live
    browser: Browser
    pages: dict[str, Page]
    sample: Sample
    cookie: str
    link: str
    checked: dict[str, int] = field(default_factory=dict)

    def path(self, name: str) -> str:
        """Where page ``name`` of ``PAGES`` is on the sample union."""
        s = self.sample
        return {
            "home": "/board/", "home-branch": f"/board/?branch={s.branches[BRANCHES[0]]}",
            "notices": "/board/notices", "notice": "/board/notices/G1",
            "disclosure": f"/board/notices/{s.open_disclosure}", "funds": "/board/funds",
            "statement": f"/board/funds/{PERIOD}", "ideas": "/board/ideas", "proposals": "/board/proposals",
            "proposal": f"/board/proposals/{s.public_proposals[0]}", "events": "/board/events",
        }[name]

    def hostile_paths(self) -> list[str]:
        """Pages that show a hostile title, place or description of the sample."""
        return ["/board/", "/board/proposals", f"/board/proposals/{self.sample.public_proposals[1]}",
                f"/board/proposals/{self.sample.public_proposals[2]}", "/board/ideas", "/board/events",
                f"/board/notices/{self.sample.expired_disclosure}", f"/board/funds/{PERIOD}"]


PAGES = ("home", "home-branch", "notices", "notice", "disclosure", "funds", "statement", "ideas",
         "proposals", "proposal", "events")
PERIOD = "2026Q3"


async def ask_for_link(live: Live, sender: str) -> str:
    """Send 公开栏 in a private chat through the real pipeline; the link in the answer."""
    reply = await live.app[PIPELINE].handle(Incoming(
        channel="console", chat_id=sender, chat_type="private", sender_id=sender, text="公开栏",
        message_id=f"board-link-{sender}"))
    assert reply is not None
    found = LINK_RE.search(reply.text)
    assert found, reply.text
    return found.group(0).rstrip("。，,.)）")


async def fill_union(db: Database, key: Path) -> Sample:
    """The sample union, a console account for 张代表, and two published quarters of the 校工会."""
    found = await fill(db, now=datetime.now(UTC))
    async with db.write() as session:
        session.add(Account(channel="console", external_id=CONSOLE_ID, member_id=found.members["张代表"]))
    for months, period in (((4, 5, 6), "2026Q2"), ((7, 8, 9), PERIOD)):
        for month in months:
            await book_quarter(db, found.root, month)
        if period == PERIOD:
            await book(db, found.root, 4_200, day=date(2026, 8, 20), text=SCRIPT)
            await book(db, found.root, 3_100, day=date(2026, 9, 2), text=IMG)
        await publish(db, found.root, period, key)
    return found


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def board(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Board]:
    _need_chromium()
    tmp = tmp_path_factory.mktemp("board")
    sock = bound_socket()
    settings = make_settings(
        server={"public_url": f"http://127.0.0.1:{sock.getsockname()[1]}"},
        database={"url": f"sqlite+aiosqlite:///{tmp}/board.db"},
        funds={"key_file": str(tmp / "funds.key")}, ideas={"key_file": str(tmp / "ideas.key")},
        board={"key_file": str(tmp / "board.key")},
    )
    db = Database(settings.database.url)
    await upgrade(db)
    found = await fill_union(db, tmp / "funds.key")
    await db.dispose()
    async with serve(settings, sock) as live, launch() as browser:
        context = await browser.new_context()
        pages = {name: await browser.new_page(width=w, height=h, context=context)
                 for name, (w, h) in SIZES.items()}
        link = await ask_for_link(live, CONSOLE_ID)
        assert await pages["phone"].goto(link) == 200
        cookies = await pages["phone"].cookies()
        assert cookies, "opening the member link set no cookie"
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
        yield Board(live, browser, pages, found, cookie, link)


async def check_links(board: Board, page: Page) -> list[str]:
    """Fetch every link of the page (once per test module) with the member's cookie; the broken ones."""
    broken = []
    urls = {str(u).split("#")[0] for u in await page.evaluate(checks.LINKS)}
    async with aiohttp.ClientSession(headers={"Cookie": board.cookie}) as http:
        for url in sorted(urls - board.checked.keys()):
            if not url.startswith(board.live.base):
                broken.append(f"{url} (leaves the board's server)")
                continue
            async with http.get(url, allow_redirects=False) as response:
                board.checked[url] = response.status
        broken += [f"{url} → {board.checked[url]}" for url in sorted(urls)
                   if board.checked.get(url, 200) != 200]
    return broken


def save(png: bytes, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(png)


def own_status(problem: Problem, url: str) -> bool:
    """The browser's note that the page itself came with an error status (the 403 page)."""
    return problem.kind == "log/network" and problem.text.endswith(f" {url}")


async def look(page: Page, name: str, size: str, *, status: int = 200) -> None:
    """The checks every loaded page must pass, and its screenshot."""
    width = SIZES[size][0]
    save(await page.screenshot(), f"{name}-{size}")
    assert not page.dialogs, f"a dialog opened: {page.dialogs}"
    url = await page.evaluate("location.href")
    assert [p for p in page.problems if status == 200 or not own_status(p, url)] == []
    layout = await page.evaluate(checks.LAYOUT)
    assert layout["scrollWidth"] <= min(width, layout["innerWidth"]), layout
    assert await page.evaluate(checks.SMALL_TEXT) == []
    if size == "phone":
        assert await page.evaluate(checks.SMALL_TARGETS) == []
    assert await page.evaluate(checks.INJECTED) == CLEAN


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", PAGES)
async def test_page(board: Board, name: str, size: str) -> None:
    page = board.pages[size]
    assert await page.goto(board.live.base + board.path(name)) == 200
    await look(page, name, size)
    assert await check_links(board, page) == []


@pytest.mark.parametrize("size", list(SIZES))
async def test_hostile_content_is_shown_as_text(board: Board, size: str) -> None:
    page, seen = board.pages[size], ""
    for path in board.hostile_paths():
        assert await page.goto(board.live.base + path) == 200
        seen += await page.evaluate(checks.TEXT)
        assert not page.dialogs, (path, page.dialogs)
        assert await page.evaluate(checks.INJECTED) == CLEAN, path
        assert (await page.evaluate(checks.LAYOUT))["scrollWidth"] <= SIZES[size][0], path
    assert SCRIPT in seen and IMG in seen


@pytest.mark.parametrize("size", list(SIZES))
async def test_without_the_cookie_the_board_answers_403(board: Board, size: str) -> None:
    width, height = SIZES[size]
    context = await board.browser.new_context()
    stranger = await board.browser.new_page(width=width, height=height, context=context)
    try:
        assert await stranger.goto(board.live.base + "/board/") == 403
        await look(stranger, "forbidden", size, status=403)
        assert "公开栏" in await stranger.evaluate(checks.TEXT)
        assert await stranger.cookies() == []
    finally:
        await stranger.close()


async def test_member_link_opens_the_board(board: Board) -> None:
    """公开栏 → link → cookie → board: a fresh phone opens the link and lands on the board."""
    phone = await board.browser.new_page(width=360, height=740, context=await board.browser.new_context())
    try:
        assert await phone.goto(board.live.base + "/board/") == 403
        assert await phone.goto(board.link) == 200
        names = [c["name"] for c in await phone.cookies()]
        assert names, "the link set no cookie"
        assert await phone.goto(board.live.base + "/board/") == 200
        assert not phone.problems
        assert ROOT in await phone.evaluate(checks.TEXT)
    finally:
        await phone.close()
