"""The official QQ bot's v2 API: the access token and passive replies.

The platform lets the bot answer a message only (被动回复): with the message's
``msg_id``, at most 5 messages per message, within 5 minutes in a group and 60 minutes
in a private chat. A reply longer than one QQ message is split into up to 5 parts sent
with ``msg_seq`` 1, 2, 3, …; the numbers are fixed by the reply, so a part sent again
(a retry after a timeout, a redelivered event after a restart) is dropped by the
platform as a duplicate (code 40054005) instead of reaching the person twice.

The access token (``getAppAccessToken`` with AppID and AppSecret) is cached and
renewed shortly before it expires, by one request at a time; an API answer of 401
renews it at once. Network errors, 429 and 5xx are retried with backoff while the
reply window is open. What cannot be sent is logged and counted in
``unionbot_qq_official_replies_total{result}`` (sent, duplicate, expired, failed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import aiohttp

from bot.channels.qq_events import PassiveTarget
from bot.config import QqOfficialSettings
from bot.messages import Reply
from bot.metrics import Counter
from bot.render import say

logger = logging.getLogger(__name__)

MAX_PARTS = 5  # replies per message allowed by the platform
PART_CHARS = 2000
DUPLICATE_CODE = 40054005  # 消息被去重: this msg_id + msg_seq was sent before
EXPIRED_CODE = 304027  # MSG_EXPIRE: the message is too old to be answered
TOKEN_MARGIN_SECONDS = 60.0  # renew this long before the token expires
REMEMBERED_MESSAGES = 10_000
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


class Result(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    FAILED = "failed"


class ApiError(Exception):
    """The platform refused a call; ``retry`` when trying again may help."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def split_text(text: str, limit: int = PART_CHARS, parts: int = MAX_PARTS) -> list[str]:
    """Cut ``text`` into at most ``parts`` messages of ``limit`` characters, on line breaks
    where possible; what does not fit ends with a note that the rest was left out."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    if len(pieces) <= parts:
        return pieces
    note = say("qq", "truncated")
    return [*pieces[:parts - 1], pieces[parts - 1][:limit - len(note) - 1] + "\n" + note]


class QqApi:
    """Calls of the v2 API for one bot (AppID); one instance per app."""

    def __init__(
        self, settings: QqOfficialSettings, http: Callable[[], aiohttp.ClientSession], *,
        results: Counter | None = None, backoff: Sequence[float] = (1.0, 2.0, 4.0),
        clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
        timeout: aiohttp.ClientTimeout = REQUEST_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.http = http
        self.results = results
        self.backoff = tuple(backoff)
        self.clock = clock
        self.wall = wall
        self.timeout = timeout
        self._token: str | None = None
        self._renew_at = 0.0
        self._token_lock = asyncio.Lock()
        self._answered: OrderedDict[str, float] = OrderedDict()  # msg_id → reply deadline

    # ------------------------------------------------------------ access token

    async def access_token(self) -> str:
        """A valid access token, fetched or renewed when needed (one request at a time)."""
        if self._token is not None and self.clock() < self._renew_at:
            return self._token
        async with self._token_lock:
            if self._token is not None and self.clock() < self._renew_at:
                return self._token
            token, lifetime = await self._fetch_token()
            self._token = token
            self._renew_at = self.clock() + lifetime - min(TOKEN_MARGIN_SECONDS, lifetime / 2)
            logger.info("qq_official: got an access token valid for %d s", lifetime)
            return token

    def forget_token(self, token: str) -> None:
        """Drop ``token`` (the API refused it); the next call fetches a new one."""
        if self._token == token:
            self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        body = {"appId": self.settings.app_id, "clientSecret": self.settings.secret}
        async with self.http().post(self.settings.token_url, json=body, timeout=self.timeout) as resp:
            status, answer = resp.status, _json_object(await resp.read())
        token = answer.get("access_token")
        lifetime = _positive_number(answer.get("expires_in"))
        if status == 200 and isinstance(token, str) and token and lifetime is not None:
            return token, lifetime
        retry = status >= 500 or status == 429
        code_text = _code_text(answer)
        reason = say("qq", "token_failed", status=status, code_text=code_text, check_settings=not retry)
        raise ApiError(reason, retry=retry)

    # ------------------------------------------------------------ passive replies

    async def answer(self, target: PassiveTarget, reply: Reply) -> list[Result]:
        """Send ``reply`` as the answer to ``target.msg_id``, once per message."""
        if not self._claim(target):
            logger.info("qq_official: message %s was answered already", target.msg_id)
            self._count(Result.DUPLICATE)
            return [Result.DUPLICATE]
        text = f"{reply.text}\n{reply.file_url}" if reply.file_url else reply.text
        results: list[Result] = []
        for seq, part in enumerate(split_text(text), start=1):
            result = await self._send_part(target, seq, part)
            self._count(result)
            results.append(result)
            if result in (Result.EXPIRED, Result.FAILED):
                break
        if results and results[0] is Result.FAILED:
            self._answered.pop(target.msg_id, None)  # a redelivery may try again
        return results

    def _claim(self, target: PassiveTarget) -> bool:
        now = self.wall()
        while self._answered and (
            len(self._answered) >= REMEMBERED_MESSAGES or next(iter(self._answered.values())) < now
        ):
            self._answered.popitem(last=False)
        if target.msg_id in self._answered:
            return False
        self._answered[target.msg_id] = target.deadline
        return True

    async def _send_part(self, target: PassiveTarget, seq: int, content: str) -> Result:
        payload = {"content": content, "msg_type": 0, "msg_id": target.msg_id, "msg_seq": seq}
        attempt, renewed = 0, False
        while True:
            if self.wall() >= target.deadline:
                return self._too_late(target, seq)
            outcome = await self._try_part(target, seq, payload, may_renew=not renewed)
            if outcome is None:
                renewed = True
                continue
            if isinstance(outcome, Result):
                return outcome
            if attempt >= len(self.backoff):
                logger.error("qq_official: gave up answering message %s after %d tries: %s",
                             target.msg_id, attempt + 1, outcome)
                return Result.FAILED
            delay = min(self.backoff[attempt], max(0.0, target.deadline - self.wall()))
            attempt += 1
            logger.warning("qq_official: answering message %s failed (%s); retrying in %.1f s",
                           target.msg_id, outcome, delay)
            await asyncio.sleep(delay)

    async def _try_part(
        self, target: PassiveTarget, seq: int, payload: dict[str, Any], *, may_renew: bool
    ) -> Result | str | None:
        """One POST of a part: a final ``Result``, ``None`` to try again at once with a new
        token, or the reason to try again after a pause."""
        token = ""
        try:
            token = await self.access_token()
            status, answer = await self._post(target.path, payload, token)
        except ApiError as exc:
            if not exc.retry:
                logger.error("qq_official: cannot answer message %s: %s", target.msg_id, exc.reason)
                return Result.FAILED
            return exc.reason
        except (aiohttp.ClientError, TimeoutError) as exc:
            return say("outbox", "network_error", error=type(exc).__name__)
        if 200 <= status < 300:
            return Result.SENT
        code = answer.get("code", answer.get("err_code"))
        if code == DUPLICATE_CODE:
            logger.info("qq_official: part %d of the reply to %s was sent before", seq, target.msg_id)
            return Result.DUPLICATE
        if code == EXPIRED_CODE:
            return self._too_late(target, seq)
        if status == 401 and may_renew:
            self.forget_token(token)
            return None
        reason = f"HTTP {status}{_code_text(answer)}"
        if status != 429 and status < 500:
            logger.error("qq_official: the platform refused the reply to %s: %s", target.msg_id, reason)
            return Result.FAILED
        return reason

    async def _post(self, path: str, payload: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"QQBot {token}", "X-Union-Appid": self.settings.app_id}
        url = self.settings.api_root + path
        async with self.http().post(url, json=payload, headers=headers, timeout=self.timeout) as resp:
            return resp.status, _json_object(await resp.read())

    def _too_late(self, target: PassiveTarget, seq: int) -> Result:
        where = "群里 5 分钟" if target.kind == "group" else "私聊 60 分钟"
        logger.warning("qq_official: part %d of the reply to %s is too late to send "
                       "(passive replies only within %s)", seq, target.msg_id, where)
        return Result.EXPIRED

    def _count(self, result: Result) -> None:
        if self.results is not None:
            self.results.labels(result.value).inc()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _positive_number(value: Any) -> float | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 10**7:
        return float(value)
    return None


def _code_text(answer: dict[str, Any]) -> str:
    code = answer.get("code", answer.get("err_code"))
    message = answer.get("message") or answer.get("msg")
    return say("qq", "code_text", code=code, message=str(message)[:200] if message else "")
