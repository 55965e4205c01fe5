"""Requests to /wechat/mp and readers of its answers, for the Official Account tests."""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.outbox.queue import Target
from tests.channels.wechat_fakes import decrypt, encrypt, field_of, message_xml, sign
from tests.factories import make_settings

TOKEN = "union-token"
APP_ID = "wx0123456789abcdef"
KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
ZHANG = "oZhangSan_openid-01"
OFFICER = "oOfficer_openid-02"
PATH = "/wechat/mp"


def mp_settings(
    *, aes: bool = False, window: int = 0, budget: float = 4.0, api_base: str = "http://127.0.0.1:9",
    **section: Any,
) -> Settings:
    values = {
        "enabled": True, "app_id": APP_ID, "app_secret": "app-secret", "token": TOKEN,
        "encoding_aes_key": KEY if aes else "", "reply_budget_seconds": budget, "api_base": api_base,
    } | section
    return make_settings(wechat_mp=values, security={"replay_window_seconds": window})


def query(
    *, timestamp: str | None = None, nonce: str = "4711", encrypted: str | None = None
) -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    found = {"timestamp": stamp, "nonce": nonce, "signature": sign(TOKEN, stamp, nonce), "openid": ZHANG}
    if encrypted is not None:
        found |= {"encrypt_type": "aes", "msg_signature": sign(TOKEN, stamp, nonce, encrypted)}
    return found


def envelope(encrypted: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_union]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")


async def post_plain(client: TestClient, xml: str | bytes, **kw: Any) -> tuple[int, str]:
    response = await client.post(PATH, params=query(**kw), data=xml)
    return response.status, await response.text()


async def post_safe(
    client: TestClient, xml: str, *, key: str = KEY, app_id: str = APP_ID, **kw: Any
) -> tuple[int, str]:
    encrypted = encrypt(key, app_id, xml)
    response = await client.post(PATH, params=query(encrypted=encrypted, **kw), data=envelope(encrypted))
    return response.status, await response.text()


def open_reply(xml: str, *, key: str = KEY, app_id: str = APP_ID, token: str = TOKEN) -> str:
    """The inner reply XML of an encrypted answer, after checking its signature."""
    encrypted, stamp, nonce = field_of(xml, "Encrypt"), field_of(xml, "TimeStamp"), field_of(xml, "Nonce")
    assert field_of(xml, "MsgSignature") == sign(token, stamp, nonce, encrypted)
    return decrypt(key, app_id, encrypted)


_ids = iter(range(7_000_000_000_000_000_000, 8_000_000_000_000_000_000))


def text_message(content: str, *, user: str = ZHANG, msg_id: str | None = None) -> str:
    return message_xml(user, Content=content, MsgId=msg_id or str(next(_ids)))


async def ask(client: TestClient, content: str, *, aes: bool = False, **kw: Any) -> str:
    """What the bot answers to ``content`` (decrypted in safe mode)."""
    xml = text_message(content, **kw)
    status, body = await (post_safe(client, xml) if aes else post_plain(client, xml))
    assert status == 200, body
    inner = open_reply(body) if aes else body
    assert field_of(inner, "ToUserName") == kw.get("user", ZHANG)
    assert field_of(inner, "FromUserName") == "gh_union"
    return field_of(inner, "Content")


BIND = text_message("绑定 10001 张三")
FOLLOWER = Target("wechat_mp", "user", ZHANG)
