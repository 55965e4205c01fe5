"""Requests to /wechat/work and readers of its answers, for the WeCom tests."""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.outbox.queue import Target
from tests.channels.wechat_fakes import decrypt, encrypt, field_of, message_xml, sign
from tests.factories import make_settings

TOKEN = "wecom-token"
CORP_ID = "ww0123456789abcdef"
KEY = base64.b64encode(bytes(range(32, 64))).decode().rstrip("=")
OTHER_KEY = base64.b64encode(bytes(range(200, 232))).decode().rstrip("=")
LI = "LiSi"
PATH = "/wechat/work"
ROBOTS = {"计算机学院教职工群": "robot-key-1", "全校工会群": "robot-key-2"}
BIND_OK = "绑定成功！你好，李四（计算机学院分工会）。发送「帮助」查看能用的命令。"


def wecom_settings(
    *, window: int = 0, budget: float = 4.0, api_base: str = "http://127.0.0.1:9", outbox: Any = None,
    **section: Any,
) -> Settings:
    values = {
        "enabled": True, "corp_id": CORP_ID, "agent_id": "1000002", "secret": "app-secret",
        "token": TOKEN, "encoding_aes_key": KEY, "reply_budget_seconds": budget, "api_base": api_base,
        "robots": ROBOTS,
    } | section
    extra = {"outbox": outbox} if outbox else {}
    return make_settings(wecom=values, security={"replay_window_seconds": window}, **extra)


def query(encrypted: str, *, timestamp: str | None = None, nonce: str = "1372623149") -> dict[str, str]:
    stamp = timestamp or str(int(time.time()))
    return {"msg_signature": sign(TOKEN, stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}


def envelope(encrypted: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")


async def post(
    client: TestClient, xml: str, *, key: str = KEY, corp_id: str = CORP_ID, **kw: Any
) -> tuple[int, str]:
    encrypted = encrypt(key, corp_id, xml)
    response = await client.post(PATH, params=query(encrypted, **kw), data=envelope(encrypted))
    return response.status, await response.text()


def open_reply(xml: str) -> str:
    encrypted, stamp, nonce = field_of(xml, "Encrypt"), field_of(xml, "TimeStamp"), field_of(xml, "Nonce")
    assert field_of(xml, "MsgSignature") == sign(TOKEN, stamp, nonce, encrypted)
    return decrypt(KEY, CORP_ID, encrypted)


_ids = iter(range(4_000_000_000_000_000_000, 5_000_000_000_000_000_000))


def text_message(content: str, *, user: str = LI, msg_id: str | None = None) -> str:
    return message_xml(user, to=CORP_ID, Content=content, MsgId=msg_id or str(next(_ids)), AgentID="1000002")


async def ask(client: TestClient, content: str, **kw: Any) -> str:
    status, body = await post(client, text_message(content, **kw))
    assert status == 200, body
    inner = open_reply(body)
    assert field_of(inner, "ToUserName") == kw.get("user", LI)
    assert field_of(inner, "FromUserName") == CORP_ID
    return field_of(inner, "Content")


BIND = text_message("绑定 10002 李四")
MEMBER = Target("wecom", "user", LI)
APPCHAT = Target("wecom", "group", "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA")
ROBOT = Target("wecom", "robot", "计算机学院教职工群")
