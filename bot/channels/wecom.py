"""The WeCom channel (企业微信自建应用), ``wecom`` at ``/wechat/work``.

GET is the console's URL check: ``msg_signature`` over token, timestamp, nonce and
``echostr``; the answer is the decrypted ``echostr``. POST carries a member's message,
always encrypted; the timestamp is checked before anything is parsed or decrypted.

Text goes to the pipeline (dedup key: MsgId). ``subscribe`` gets a welcome with the
binding instructions; ``enter_agent`` (opening the app) greets only members not yet
bound; other types get one sentence saying only text is understood. A reply ready within
``reply_budget_seconds`` is the encrypted passive reply; a later one is acknowledged with
an empty 200 and sent as an app message through the outbox.

Outbound (``WecomSender``): kind ``user`` = app message to a userid, ``group`` = an app
group chat (``appchat``), ``robot`` = a group robot named in ``[wecom.robots]``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, HTTP, SENDERS, SETTINGS
from bot.channels.base import Rejected, check_fresh, read_body, rejection
from bot.channels.wechat_api import ApiSender, HttpSource, call, check
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
from bot.config import WecomSettings
from bot.messages import Incoming, Reply
from bot.outbox.queue import CHANNEL_LABELS, Target
from bot.outbox.worker import Undeliverable
from bot.render import say

logger = logging.getLogger(__name__)

CHANNEL = "wecom"
PATH = "/wechat/work"
LABEL = CHANNEL_LABELS[CHANNEL]


def install(app: web.Application) -> None:
    """Add ``/wechat/work`` and the app-message / app-chat / robot sender."""
    settings = app[SETTINGS].wecom
    endpoint = WecomEndpoint(settings)
    app.router.add_get(PATH, endpoint.verify)
    app.router.add_post(PATH, endpoint.receive)
    app[SENDERS][CHANNEL] = WecomSender(settings, lambda: app[HTTP])
    if not (settings.agent_id and settings.secret):
        logger.warning("wecom: agent_id or secret is not set; only group robots can be sent to")


class WecomEndpoint:
    """The request handlers of ``/wechat/work``."""

    def __init__(self, settings: WecomSettings) -> None:
        self.settings = settings
        self.cipher = MessageCipher(settings.encoding_aes_key, settings.corp_id)

    async def verify(self, request: web.Request) -> web.Response:
        """The console's URL check: answer the decrypted ``echostr``."""
        try:
            query = request.query
            timestamp, nonce = query.get("timestamp"), query.get("nonce")
            # a "+" the platform left unescaped arrives as a space; base64 has no spaces
            echo = query.get("echostr", "").replace(" ", "+")
            if not nonce or len(nonce) > 64 or not echo or len(echo) > 1024:
                raise Rejected(400, "missing_params")
            check_fresh(request, timestamp)
            check_signature(query.get("msg_signature"), self.settings.token, str(timestamp), nonce, echo)
            plain = self.cipher.decrypt(echo)
        except Rejected as exc:
            return rejection(request, CHANNEL, exc)
        return web.Response(body=plain, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """A member's message to the app: checked, decrypted, answered passively or later."""
        try:
            nonce, message = await self._read(request)
        except Rejected as exc:
            return rejection(request, CHANNEL, exc)
        answer = await self._answer(request, message)
        if answer is None:
            return web.Response(text="")
        now = int(request.app[CLOCK]())
        xml = text_reply(to=message.user, sender=self.settings.corp_id, content=answer, now=now)
        envelope = self.cipher.envelope(xml, self.settings.token, nonce, str(now))
        return web.Response(text=envelope, content_type="application/xml")

    async def _read(self, request: web.Request) -> tuple[str, Message]:
        query = request.query
        timestamp, nonce = query.get("timestamp"), query.get("nonce")
        if not nonce or len(nonce) > 64 or not query.get("msg_signature"):
            raise Rejected(400, "missing_params")
        check_fresh(request, timestamp)
        body = await read_body(request)
        outer = parse_xml(body)
        require(outer, "Encrypt")
        check_signature(
            query.get("msg_signature"), self.settings.token, str(timestamp), nonce, outer["Encrypt"]
        )
        return nonce, read_message(parse_xml(self.cipher.decrypt(outer["Encrypt"])))

    async def _answer(self, request: web.Request, message: Message) -> str | None:
        if message.kind == "event":
            if message.event in ("subscribe", "enter_agent"):
                return await welcome(
                    request.app, CHANNEL, message.user, unbound_only=message.event == "enter_agent"
                )
            return None
        if message.kind != "text" or not message.fields.get("Content", "").strip():
            return text_only()
        incoming = Incoming(
            channel=CHANNEL, chat_id=message.user, chat_type="private", sender_id=message.user,
            text=message.fields["Content"], message_id=message_id(message),
            raw={"MsgType": message.kind, "AgentID": message.fields.get("AgentID", "")},
        )
        return await passive_text(
            request, incoming, budget=self.settings.reply_budget_seconds,
            target=Target(CHANNEL, "user", message.user),
        )


class WecomSender(ApiSender):
    """Sends outbox messages: app messages, app group chats and group robots.

    Only app messages to members (kind ``user``) carry WeCom's
    ``enable_duplicate_check``, so only they may be resent blindly after a crash:
    ``idempotent_kinds``. ``appchat`` and robots have no such check.
    """

    channel = CHANNEL
    idempotent = False
    idempotent_kinds = frozenset({"user"})
    label = LABEL

    def __init__(self, settings: WecomSettings, http: HttpSource) -> None:
        super().__init__(http)
        self.settings = settings

    async def fetch_token(self, force: bool) -> tuple[str, float]:
        """A token from ``gettoken`` (WeCom has no forced refresh; ``force`` is ignored)."""
        data = await call(self.http, LABEL, "GET", f"{self.settings.api_base}/cgi-bin/gettoken", params={
            "corpid": self.settings.corp_id, "corpsecret": self.settings.secret,
        })
        return self.token_answer(data)

    async def send(self, target: Target, reply: Reply, key: str) -> None:
        kind = "markdown" if reply.markdown else "text"
        parts = split_parts(reply_text(reply, markdown_ok=True))
        if target.kind == "robot":
            robot_key = self.settings.robots.get(target.id)
            if robot_key is None:
                raise Undeliverable(say("wechat", "unknown_robot", name=target.id))
            await self.send_parts(key, parts, lambda part: self._robot(robot_key, kind, part))
            return
        if not (self.settings.agent_id and self.settings.secret):
            raise Undeliverable(say("wechat", "missing_setting", label=LABEL, keys="agent_id 和 secret"))
        if target.kind == "group":
            await self.send_parts(key, parts, lambda part: self._appchat(target.id, kind, part))
        else:
            await self.send_parts(key, parts, lambda part: self._app_message(target.id, kind, part))

    async def _app_message(self, user: str, kind: str, part: str) -> None:
        payload: dict[str, Any] = {
            "touser": user, "msgtype": kind, "agentid": int(self.settings.agent_id), kind: {"content": part},
            "enable_duplicate_check": 1, "duplicate_check_interval": self.settings.duplicate_check_seconds,
        }
        data = await self.post_with_token(f"{self.settings.api_base}/cgi-bin/message/send", payload)
        if user in str(data.get("invaliduser", "")).split("|"):
            raise Undeliverable(say("wechat", "invalid_user", user=user))

    async def _appchat(self, chat_id: str, kind: str, part: str) -> None:
        payload: dict[str, Any] = {"chatid": chat_id, "msgtype": kind, kind: {"content": part}, "safe": 0}
        await self.post_with_token(f"{self.settings.api_base}/cgi-bin/appchat/send", payload)

    async def _robot(self, robot_key: str, kind: str, part: str) -> None:
        payload: dict[str, Any] = {"msgtype": kind, kind: {"content": part}}
        data = await call(
            self.http, LABEL, "POST", f"{self.settings.api_base}/cgi-bin/webhook/send",
            params={"key": robot_key}, payload=payload,
        )
        check(data, LABEL)
