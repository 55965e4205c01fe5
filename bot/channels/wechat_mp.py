"""The WeChat Official Account channel (微信公众号), ``wechat_mp`` at ``/wechat/mp``.

GET is the console's server check (``signature`` over token, timestamp, nonce; answer
``echostr``). POST carries a follower's message as XML. Without an EncodingAESKey the
account is in plaintext mode (checked by ``signature``, which does not cover the body).
With one, every message must come in safe mode (``encrypt_type=aes``, ``msg_signature``
over the ciphertext too, then decrypted with the key and AppID): a plaintext request is
refused (403 ``not_encrypted``), and in compatible mode (兼容模式) only the encrypted
part is read. The timestamp is checked before anything is parsed or decrypted.

Text goes to the pipeline (dedup key: MsgId). ``subscribe`` gets a welcome with the
binding instructions; other message types get one sentence saying only text is
understood; other events get ``success``. A reply ready within ``reply_budget_seconds``
is the passive reply (encrypted in safe mode); a later one is acknowledged with
``success`` and sent as a customer-service message (客服消息) through the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, HTTP, SENDERS, SETTINGS
from bot.channels.base import Rejected, check_fresh, read_body, rejection
from bot.channels.wechat_api import ApiSender, HttpSource, call
from bot.channels.wechat_reply import passive_text, reply_text, split_parts, text_only, welcome
from bot.channels.wechat_xml import (
    Message,
    MessageCipher,
    check_signature,
    message_id,
    parse_xml,
    read_message,
    require,
    text_reply,
)
from bot.config import WechatMpSettings
from bot.messages import Incoming, Reply
from bot.outbox.queue import CHANNEL_LABELS, Target
from bot.outbox.worker import Undeliverable
from bot.render import say

logger = logging.getLogger(__name__)

CHANNEL = "wechat_mp"
PATH = "/wechat/mp"
LABEL = CHANNEL_LABELS[CHANNEL]


def install(app: web.Application) -> None:
    """Add ``/wechat/mp`` and the customer-service message sender."""
    settings = app[SETTINGS].wechat_mp
    endpoint = MpEndpoint(settings)
    app.router.add_get(PATH, endpoint.verify)
    app.router.add_post(PATH, endpoint.receive)
    app[SENDERS][CHANNEL] = MpSender(settings, lambda: app[HTTP])
    if not settings.app_secret:
        logger.warning("wechat_mp: app_secret is not set; late replies cannot be delivered")


class MpEndpoint:
    """The request handlers of ``/wechat/mp``."""

    def __init__(self, settings: WechatMpSettings) -> None:
        self.settings = settings
        key = settings.encoding_aes_key
        self.cipher = MessageCipher(key, settings.app_id) if key else None

    async def verify(self, request: web.Request) -> web.Response:
        """The console's server check: answer ``echostr`` when the signature is right."""
        try:
            query = request.query
            timestamp, nonce, echo = query.get("timestamp"), query.get("nonce"), query.get("echostr")
            if not nonce or not echo or len(echo) > 256 or not echo.isascii() or not echo.isprintable():
                raise Rejected(400, "missing_params")
            check_fresh(request, timestamp)
            check_signature(query.get("signature"), self.settings.token, str(timestamp), nonce)
        except Rejected as exc:
            return rejection(request, CHANNEL, exc)
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        """A follower's message: checked, decrypted, answered passively or later."""
        try:
            nonce, message = await self._read(request)
        except Rejected as exc:
            return rejection(request, CHANNEL, exc)
        answer = await self._answer(request, message)
        if answer is None:
            return web.Response(text="success")
        now = int(request.app[CLOCK]())
        xml = text_reply(to=message.user, sender=message.account, content=answer, now=now)
        if self.cipher is not None:
            xml = self.cipher.envelope(xml, self.settings.token, nonce, str(now))
        return web.Response(text=xml, content_type="application/xml")

    async def _read(self, request: web.Request) -> tuple[str, Message]:
        query = request.query
        timestamp, nonce = query.get("timestamp"), query.get("nonce")
        if not nonce or len(nonce) > 64:
            raise Rejected(400, "missing_params")
        check_fresh(request, timestamp)
        stamp = str(timestamp)
        check_signature(query.get("signature"), self.settings.token, stamp, nonce)
        if self.cipher is not None and query.get("encrypt_type") != "aes":
            raise Rejected(403, "not_encrypted")
        body = await read_body(request)
        if self.cipher is None:
            return nonce, read_message(parse_xml(body))
        outer = parse_xml(body)
        require(outer, "Encrypt")
        check_signature(query.get("msg_signature"), self.settings.token, stamp, nonce, outer["Encrypt"])
        return nonce, read_message(parse_xml(self.cipher.decrypt(outer["Encrypt"])))

    async def _answer(self, request: web.Request, message: Message) -> str | None:
        if message.kind == "event":
            if message.event == "subscribe":
                return await welcome(request.app, CHANNEL, message.user, unbound_only=False)
            return None
        text = message.fields.get("Content", "") if message.kind == "text" else ""
        if message.kind == "voice":  # when 语音识别 is on, WeChat sends the words as well
            text = message.fields.get("Recognition", "")
        if not text.strip():
            return text_only()
        incoming = Incoming(
            channel=CHANNEL, chat_id=message.user, chat_type="private", sender_id=message.user,
            text=text, message_id=message_id(message), raw={"MsgType": message.kind},
        )
        return await passive_text(
            request, incoming, budget=self.settings.reply_budget_seconds,
            target=Target(CHANNEL, "user", message.user),
        )


class MpSender(ApiSender):
    """Sends outbox messages to followers as customer-service messages (客服消息).

    WeChat accepts them only within 48 hours of the follower's last message; after
    that the platform refuses (45015) and the message is marked dead with that reason.
    """

    channel = CHANNEL
    idempotent = False
    label = LABEL

    def __init__(self, settings: WechatMpSettings, http: HttpSource) -> None:
        super().__init__(http)
        self.settings = settings

    async def fetch_token(self, force: bool) -> tuple[str, float]:
        """A token from ``stable_token``, which several replicas can share."""
        url = f"{self.settings.api_base}/cgi-bin/stable_token"
        data = await call(self.http, LABEL, "POST", url, payload={
            "grant_type": "client_credential", "appid": self.settings.app_id,
            "secret": self.settings.app_secret, "force_refresh": force,
        })
        return self.token_answer(data)

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        if target.kind != "user":
            raise Undeliverable(say("wechat", "not_pushable", label=LABEL, kind=target.kind))
        if not self.settings.app_secret:
            raise Undeliverable(say("wechat", "missing_setting", label=LABEL, keys="app_secret"))
        url = f"{self.settings.api_base}/cgi-bin/message/custom/send"

        async def one(part: str) -> None:
            payload: dict[str, Any] = {"touser": target.id, "msgtype": "text", "text": {"content": part}}
            await self.post_with_token(url, payload)

        parts = split_parts(reply_text(reply, markdown_ok=False))
        await self.send_parts(key, parts, one)
