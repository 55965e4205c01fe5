"""Who may open the board: personal links and cookies in members mode, everyone in public."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlmodel import col

from handlers.board import links
from handlers.board.state import MEMBERS
from models.db import Database
from models.org import Member
from tests.board.conftest import BOARD, token_for
from tests.board.sample import Sample
from tests.clock import FrozenClock

PAGES = ("/board/", "/board/notices", "/board/ideas", "/board/proposals", "/board/events",
         "/board/notices/S1")


async def test_without_a_cookie_every_page_answers_403_saying_how_to_get_a_link(
    make_client: Callable[..., Any],
) -> None:
    client = await make_client()
    for path in PAGES:
        response = await client.get(path)
        assert response.status == 403, path
        text = await response.text()
        assert "私聊" in text and "公开栏" in text
        assert "13911112222" not in text and "王主席" not in text
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_personal_link_sets_a_cookie_that_opens_every_page(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock,
) -> None:
    client = await make_client()
    token = token_for(client, sample.members["张代表"], clock)
    response = await client.get(f"/board/enter?t={token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/board/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.cookies[links.COOKIE]
    assert cookie.value == token
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True  # public_url is https
    assert cookie["path"] == "/board"
    assert int(cookie["max-age"]) == 30 * 86400
    client.session.cookie_jar.update_cookies({links.COOKIE: token})  # the test client speaks http
    for path in PAGES:
        assert (await client.get(path)).status == 200, path


async def test_an_expired_link_is_refused(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock,
) -> None:
    client = await make_client()
    token = token_for(client, sample.members["张代表"], clock, days=-1)
    response = await client.get(f"/board/enter?t={token}", allow_redirects=False)
    assert response.status == 403
    assert "已经过期" in await response.text()
    assert links.COOKIE not in response.cookies
    client.session.cookie_jar.update_cookies({links.COOKIE: token})
    assert (await client.get("/board/")).status == 403


async def test_over_http_the_cookie_is_not_secure_and_the_link_works_end_to_end(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock,
) -> None:
    client = await make_client(https=False)
    token = token_for(client, sample.members["张代表"], clock, days=1)
    response = await client.get(f"/board/enter?t={token}", allow_redirects=False)
    assert response.cookies[links.COOKIE]["secure"] == ""
    assert (await client.get(f"/board/enter?t={token}")).status == 200  # redirected to the front page
    clock.advance(days=1, seconds=-1)
    assert (await client.get("/board/ideas")).status == 200
    clock.advance(seconds=2)
    assert (await client.get("/board/ideas")).status == 403
    clock.advance(days=1, seconds=1)
    assert (await client.get("/board/")).status == 403


async def test_a_tampered_link_is_refused(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock,
) -> None:
    client = await make_client()
    token = token_for(client, sample.members["张代表"], clock)
    member_id, expires, signature = token.split(".")
    forged = (
        f"{sample.members['王主席']}.{expires}.{signature}",  # someone else
        f"{member_id}.{int(expires) + 86400}.{signature}",  # later expiry
        f"{member_id}.{expires}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{member_id}.{expires}", "", "x" * 5000, "<script>",
    )
    for token in forged:
        response = await client.get("/board/enter", params={"t": token}, allow_redirects=False)
        assert response.status == 403, token
        assert links.COOKIE not in response.cookies
        client.session.cookie_jar.update_cookies({links.COOKIE: token})
        assert (await client.get("/board/")).status == 403


async def test_a_link_signed_with_another_key_is_refused(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock, tmp_path: Any,
) -> None:
    client = await make_client()
    other = links.sign(str(tmp_path / "other.key"), sample.members["张代表"], int(clock.seconds()) + 3600)
    assert (await client.get("/board/enter", params={"t": other})).status == 403


async def test_an_inactive_member_is_refused(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock,
) -> None:
    client = await make_client()
    token = token_for(client, sample.inactive, clock)
    response = await client.get(f"/board/enter?t={token}", allow_redirects=False)
    assert response.status == 403
    assert "不在会员名册" in await response.text()


async def test_a_member_marked_inactive_loses_access(
    member: TestClient, db: Database, sample: Sample,
) -> None:
    assert (await member.get("/board/")).status == 200
    async with db.write() as session:
        await session.execute(
            update(Member).where(col(Member.id) == sample.members["张代表"]).values(active=False))
    assert (await member.get("/board/")).status == 200  # remembered as active for a few seconds
    member.app[BOARD][MEMBERS].clock = lambda: 1e12  # those seconds are over
    response = await member.get("/board/")
    assert response.status == 403
    assert "公开栏只对本会会员开放" in await response.text()


async def test_public_mode_opens_every_page_without_a_link(public: TestClient) -> None:
    for path in PAGES:
        response = await public.get(path)
        assert response.status == 200, path
        assert response.headers["Cache-Control"] == "public, max-age=60"
    old_link = await public.get("/board/enter?t=1.2.3", allow_redirects=False)
    assert old_link.status == 303 and old_link.headers["Location"] == "/board/"
    assert links.COOKIE not in old_link.cookies


async def test_the_key_file_is_created_private(
    make_client: Callable[..., Any], sample: Sample, clock: FrozenClock, tmp_path: Any,
) -> None:
    client = await make_client()
    token_for(client, sample.members["张代表"], clock)
    assert ((tmp_path / "board.key").stat().st_mode & 0o777) == 0o600
