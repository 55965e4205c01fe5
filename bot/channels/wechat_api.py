"""Outbound calls to the WeChat and WeCom APIs, shared by both senders.

- ``call`` makes one JSON request on the app's aiohttp session; network errors, 5xx
  and 429 become ``RetryLater``, other HTTP errors ``Undeliverable``.
- ``check`` reads a platform answer: ``errcode`` 0 passes; -1 (busy) and the rate-limit
  codes become ``RetryLater``; any other code ``Undeliverable`` with the platform's
  ``errmsg``. The token-expiry codes are handled by ``ApiSender.post_with_token``.
- ``TokenCache`` keeps an access token until a few minutes before it expires and lets
  one coroutine at a time fetch a new one.
- ``ApiSender`` sends the parts of a long message in order and remembers, per outbox
  key, how many went out, so a retry in the same process does not repeat them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import aiohttp

from bot.outbox.worker import RetryLater, Sender, Undeliverable
from bot.render import say

logger = logging.getLogger(__name__)

TOKEN_CODES: Final = frozenset({40001, 40014, 42001})  # invalid or expired access_token
RATE_CODES: Final = frozenset({45009, 45011, 45033, 45047})  # call frequency / quota limits
BUSY: Final = -1
RATE_PAUSE_SECONDS: Final = 60.0
RENEW_MARGIN_SECONDS: Final = 300.0
REMEMBERED_KEYS: Final = 1024

HttpSource = aiohttp.ClientSession | Callable[[], aiohttp.ClientSession]
TokenFetch = Callable[[bool], Awaitable[tuple[str, float]]]


async def call(
    http: aiohttp.ClientSession, label: str, method: str, url: str,
    *, params: dict[str, str] | None = None, payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One API request; the decoded JSON object it answered."""
    try:
        async with http.request(method, url, params=params, json=payload) as response:
            if response.status == 429 or response.status >= 500:
                raise RetryLater(say("wechat", "http_failed", label=label, status=response.status))
            if response.status != 200:
                raise Undeliverable(say("wechat", "http_failed", label=label, status=response.status))
            data = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RetryLater(say("wechat", "network_failed", label=label, error=type(exc).__name__)) from None
    except ValueError:
        raise RetryLater(say("wechat", "bad_answer", label=label)) from None
    if not isinstance(data, dict):
        raise RetryLater(say("wechat", "bad_answer", label=label))
    return data


def errcode(data: dict[str, Any]) -> int:
    """The answer's ``errcode`` (0 when absent)."""
    code = data.get("errcode", 0)
    return code if isinstance(code, int) else BUSY


def errmsg(data: dict[str, Any]) -> str:
    return str(data.get("errmsg", ""))[:200]


def check(data: dict[str, Any], label: str) -> None:
    """Raise the delivery error an answer's ``errcode`` means; return when it is 0."""
    code = errcode(data)
    if code == 0:
        return
    if code == BUSY:
        raise RetryLater(say("wechat", "busy", label=label))
    if code in RATE_CODES:
        raise RetryLater(say("wechat", "rate_limited", label=label, code=code), after=RATE_PAUSE_SECONDS)
    raise Undeliverable(say("wechat", "refused", label=label, code=code, message=errmsg(data)))


class TokenCache:
    """An access token, fetched when missing and renewed a few minutes before it expires."""

    def __init__(self, fetch: TokenFetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch
        self.clock = clock
        self.token: str | None = None
        self.renew_at = 0.0
        self.lock = asyncio.Lock()

    def _fresh(self) -> str | None:
        return self.token if self.token is not None and self.clock() < self.renew_at else None

    async def get(self) -> str:
        token = self._fresh()
        if token is not None:
            return token
        async with self.lock:
            return self._fresh() or await self._load(force=False)

    async def renew(self, rejected: str) -> str:
        """A token other than ``rejected``, which the platform refused as invalid or expired."""
        async with self.lock:
            if self.token is not None and self.token != rejected:
                return self.token  # another send renewed it meanwhile
            token = await self._load(force=False)
            if token == rejected:
                token = await self._load(force=True)
            return token

    async def _load(self, *, force: bool) -> str:
        token, expires_in = await self.fetch(force)
        margin = min(RENEW_MARGIN_SECONDS, expires_in / 4)
        self.token, self.renew_at = token, self.clock() + expires_in - margin
        return token


class ApiSender(Sender):
    """A sender that calls a WeChat-style JSON API with an access token."""

    label: str = ""

    def __init__(self, http: HttpSource) -> None:
        self._http = http
        self.tokens = TokenCache(self.fetch_token)
        self._progress: OrderedDict[str, int] = OrderedDict()

    @property
    def http(self) -> aiohttp.ClientSession:
        return self._http if isinstance(self._http, aiohttp.ClientSession) else self._http()

    async def fetch_token(self, force: bool) -> tuple[str, float]:
        raise NotImplementedError

    def token_answer(self, data: dict[str, Any]) -> tuple[str, float]:
        """The token and its lifetime from a token endpoint's answer."""
        token, expires_in = data.get("access_token"), data.get("expires_in", 7200)
        code = errcode(data)
        if code != 0 or not isinstance(token, str) or not token:
            logger.warning("%s: fetching an access token failed with errcode %s", self.channel, code)
            raise RetryLater(say("wechat", "token_failed", label=self.label, code=code, message=errmsg(data)))
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 7200.0
        return token, lifetime

    async def post_with_token(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``url?access_token=…``; renews the token once if it was refused."""
        token = await self.tokens.get()
        data = await call(self.http, self.label, "POST", url, params={"access_token": token}, payload=payload)
        if errcode(data) in TOKEN_CODES:
            logger.info("%s: the access token was refused (%s); renewing it", self.channel, errcode(data))
            token = await self.tokens.renew(token)
            data = await call(
                self.http, self.label, "POST", url, params={"access_token": token}, payload=payload
            )
            if errcode(data) in TOKEN_CODES:
                raise RetryLater(say("wechat", "token_still_invalid", label=self.label))
        check(data, self.label)
        return data

    async def send_parts(
        self, key: str, parts: Sequence[str], send_one: Callable[[str], Awaitable[None]]
    ) -> None:
        """Send ``parts`` in order, skipping those a failed earlier attempt already sent."""
        for index in range(self._progress.get(key, 0), len(parts)):
            await send_one(parts[index])
            if index + 1 < len(parts):
                self._progress[key] = index + 1
                self._progress.move_to_end(key)
                while len(self._progress) > REMEMBERED_KEYS:
                    self._progress.popitem(last=False)
        self._progress.pop(key, None)
