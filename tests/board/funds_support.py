"""A board served on the test database, and a reader of the SVG charts it draws."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.appkeys import CLOCK, DB, SETTINGS
from handlers import board
from models.db import Database
from tests.factories import make_settings

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


async def board_client(aiohttp_client: Any, db: Database, *, access: str = "public") -> TestClient:
    """The board under ``/board/`` with the test database, everything open (``public``)."""
    app = web.Application()
    app[SETTINGS] = make_settings(board={"access": access})
    app[DB] = db
    app[CLOCK] = NOW.timestamp
    board.install(app)
    client: TestClient = await aiohttp_client(app)
    return client


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside ``<title>`` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles.append(data)


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def inside(html: str, element_id: str) -> str:
    """The markup of the ``<svg>`` whose id is ``element_id``."""
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</svg>", start)]
