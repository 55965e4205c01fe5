"""The board's pages: public fields only, escaped, cached, with their headers."""

from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlmodel import col

from handlers import build_registry
from handlers.board.home import CARDS
from handlers.board.pages import SECURITY_HEADERS
from handlers.board.state import PAGES as PAGE_CACHE
from models.db import Database
from models.proposals.tables import Proposal
from tests.board.conftest import BOARD
from tests.board.sample import IMG, LONG_WORD, SCRIPT, Sample, bulk_proposals
from tests.clock import FrozenClock

LINK = re.compile(r'href="(/board/[^"]*)"')


async def crawl(client: TestClient, start: str = "/board/") -> dict[str, str]:
    """Every board page reachable from ``start`` by its links, with its text."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        path = todo.pop().replace("&amp;", "&")
        if path in seen:
            continue
        response = await client.get(path)
        assert response.status == 200, path
        seen[path] = await response.text()
        todo.extend(p for p in LINK.findall(seen[path]) if p not in seen)
    return seen


async def test_every_linked_page_answers_and_shows_no_private_data(
    member: TestClient, sample: Sample,
) -> None:
    pages = await crawl(member)
    assert {"/board/notices/S1", "/board/notices/S2", "/board/proposals/T" + sample.public_proposals[0][1:],
            "/board/ideas", "/board/events", "/board/?branch=2"} <= set(pages)
    everything = "\n".join(pages.values())
    for phone in sample.phones:
        assert phone not in everything
    for name in (*sample.anonymous_names, sample.objector, "钱离职"):
        assert name not in everything
    assert "异议内容" not in everything
    assert "这条公告已撤回" not in everything
    for number in sample.private_proposals:
        assert number not in everything
    assert "理由" not in everything  # the proposal's own text is not shown
    assert "匿名" in pages["/board/ideas"]


async def test_the_anonymous_submitters_name_appears_nowhere(member: TestClient, sample: Sample) -> None:
    pages = await crawl(member)
    for text in pages.values():
        assert "李匿名" not in text


async def test_hostile_titles_are_shown_as_text(member: TestClient) -> None:
    pages = await crawl(member)
    everything = "\n".join(pages.values())
    assert SCRIPT not in everything and IMG not in everything
    assert "<script" not in everything and "<img" not in everything and "onerror=alert(1)>" not in everything
    assert "&lt;script&gt;alert(&#39;board&#39;)&lt;/script&gt;" in everything
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in everything
    assert LONG_WORD in pages["/board/notices/G1"]
    css = await (await member.get(re.search(r'href="(/board/static/[^"]+)"', everything)[1])).text()  # type: ignore[index]
    assert "overflow-wrap: anywhere" in css


async def test_security_and_cache_headers(member: TestClient) -> None:
    response = await member.get("/board/proposals")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' forbids it
    assert response.headers["Cache-Control"] == "private, max-age=60"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["ETag"].startswith('"')
    for path in ("/board/nope", "/board/notices/S99"):
        missing = await member.get(path)
        assert missing.status == 404
        assert missing.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
        assert "没有找到" in await missing.text()


async def test_a_page_the_browser_has_answers_304(member: TestClient) -> None:
    first = await member.get("/board/ideas")
    etag = first.headers["ETag"]
    again = await member.get("/board/ideas", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["X-Frame-Options"] == "DENY"
    other = await member.get("/board/ideas", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


async def test_a_page_is_served_from_memory_for_a_few_seconds(
    member: TestClient, db: Database, sample: Sample,
) -> None:
    number = sample.public_proposals[0]
    before = await (await member.get("/board/proposals")).text()
    async with db.write() as session:
        await session.execute(
            update(Proposal).where(col(Proposal.number) == number).values(title="改过的标题"))
    assert await (await member.get("/board/proposals")).text() == before
    member.app[BOARD][PAGE_CACHE].clear()
    assert "改过的标题" in await (await member.get("/board/proposals")).text()


async def test_unknown_numbers_branches_and_pages(member: TestClient, sample: Sample) -> None:
    for path in (
        "/board/notices/G3",  # withdrawn
        "/board/notices/X1", "/board/notices/S", "/board/proposals/T1999-001",
        f"/board/proposals/{sample.private_proposals[0]}",  # not yet admitted
        "/board/?branch=999", "/board/proposals?page=2", "/board/static/board-0.css",
    ):
        assert (await member.get(path)).status == 404, path
    for path in ("/board/?branch=abc", "/board/ideas?page=0", "/board/ideas?page=x",
                 "/board/notices?kind=x", "/board/proposals?status=rejected", "/board/events?page=-1"):
        response = await member.get(path)
        assert response.status == 400, path
        assert "看不懂" in await response.text()


async def test_numbers_are_read_as_people_type_them(member: TestClient, sample: Sample) -> None:
    number = sample.public_proposals[0]
    assert (await member.get(f"/board/proposals/{number.lower()}")).status == 200
    assert (await member.get("/board/notices/s1")).status == 200


async def test_a_disclosure_says_how_to_object_with_the_command_word(
    member: TestClient, sample: Sample,
) -> None:
    text = await (await member.get(f"/board/notices/{sample.open_disclosure}")).text()
    assert "公示中" in text
    command = re.search(r'<p class="command">(.+?)</p>', text)
    assert command is not None
    found = build_registry().match(command[1])
    assert found is not None and found[0].name == "异议"
    assert found[1].startswith(sample.open_disclosure)
    closed = await (await member.get(f"/board/notices/{sample.expired_disclosure}")).text()
    assert "已期满" in closed and "不再受理异议" in closed
    assert "公示期内未收到异议" in closed  # the result 公告 G2


async def test_a_proposal_shows_departments_reply_and_rating(member: TestClient, sample: Sample) -> None:
    text = await (await member.get(f"/board/proposals/{sample.public_proposals[0]}")).text()
    for shown in ("关于增设校车班次的提案", "已办结", "后勤处", "保卫处", "已于下学期起增开两班",
                  "满意", "采纳"):
        assert shown in text, shown


async def test_a_branch_sees_its_own_and_the_unions_notices_and_events(
    member: TestClient, sample: Sample,
) -> None:
    computing, languages = sample.branches.values()
    mine = await (await member.get(f"/board/?branch={computing}")).text()
    assert "S2" in mine and "G1" in mine  # its own 公示 and the union's 公告
    assert "外语角" not in mine  # an event for another branch
    theirs = await (await member.get(f"/board/?branch={languages}")).text()
    assert "notices/S2" not in theirs and "外语角" in theirs
    assert "食堂增加夜宵窗口" not in theirs  # an idea of 计算机学院's member


async def test_events_show_places_left_and_leave_out_cancelled_and_past_ones(member: TestClient) -> None:
    text = await (await member.get("/board/events")).text()
    assert "还剩 <strong>18</strong> 个" in text
    assert "已满，3 人候补" in text
    assert "已取消的活动" not in text and "上个月的活动" not in text


async def test_long_lists_come_in_pages(
    member: TestClient, db: Database, sample: Sample, clock: FrozenClock,
) -> None:
    proposer = sample.members["张代表"]
    await bulk_proposals(db, proposer=proposer, year=clock.now.year - 1, count=45, now=clock.now)
    first = await (await member.get("/board/proposals")).text()
    assert first.count('class="item"') == 20
    assert "共 49 条" in first and 'href="/board/proposals?page=2"' in first
    last = await (await member.get("/board/proposals?page=3")).text()
    assert last.count('class="item"') == 9
    assert (await member.get("/board/proposals?page=4")).status == 404
    assert (await member.get("/board/proposals?status=closed")).status == 200


async def test_many_opening_the_same_page_at_once_reach_the_database_once(member: TestClient) -> None:
    calls = []

    async def counting(session: object, view: object, now: object) -> dict[str, object]:
        calls.append(now)
        await asyncio.sleep(0.05)
        return {}

    member.app[BOARD][CARDS].append(counting)
    member.app[BOARD][PAGE_CACHE].clear()
    responses = await asyncio.gather(*(member.get("/board/?branch=2") for _ in range(10)))
    assert [r.status for r in responses] == [200] * 10
    assert len({await r.text() for r in responses}) == 1
    assert len(calls) == 1
    await member.get("/board/?branch=2")
    assert len(calls) == 1
