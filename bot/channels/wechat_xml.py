"""What the WeChat Official Account and WeCom callbacks share: safe XML, signatures, AES.

Every failure raises ``Rejected`` with a 4xx status, so no input reaches a 5xx:

- ``parse_xml`` refuses DOCTYPE and ENTITY declarations (entity bombs, external
  entities) before parsing, invalid UTF-8, malformed XML and deep nesting;
- ``signature`` is the platforms' SHA1 over the sorted token, timestamp, nonce (and
  the ciphertext); ``check_signature`` compares it in constant time;
- ``MessageCipher`` decrypts and checks a message's padding, length and receiver id
  (the AppID or CorpID) strictly, and encrypts replies with wechatpy's ``PrpCrypto``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass
from typing import Final
from xml.parsers import expat

from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.base import WeChatCipher
from wechatpy.replies import TextReply

from bot.channels.base import Rejected

MAX_DEPTH: Final = 8
MAX_ID_CHARS: Final = 128
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# characters XML 1.0 does not allow anywhere, not even inside CDATA
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Refused(Exception):
    """Raised from inside an expat callback."""


def parse_xml(body: bytes) -> dict[str, str]:
    """The text of each child of the ``<xml>`` root, e.g. ``{"MsgType": "text", ...}``.

    Nested elements (a ``SendPicsInfo`` list, say) are skipped; a child named twice is
    refused. Raises ``Rejected(400, ...)`` for anything that is not plain, flat WeChat XML.
    """
    if _DECLARATION.search(body):
        raise Rejected(400, "xml_declarations")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "bad_encoding") from None
    collector = _FlatFields()
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.chars
    parser.StartDoctypeDeclHandler = _refuse_declaration
    parser.EntityDeclHandler = _refuse_declaration
    parser.ExternalEntityRefHandler = _refuse_declaration
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(body, True)
    except _Refused as exc:
        raise Rejected(400, str(exc)) from None
    except (expat.ExpatError, ValueError, RecursionError):
        raise Rejected(400, "malformed_xml") from None
    return collector.fields


class _FlatFields:
    """Expat handlers collecting the text of each child of the ``<xml>`` root."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.path: list[str] = []
        self.text: list[str] = []

    def start(self, name: str, _attrs: dict[str, str]) -> None:
        if len(self.path) >= MAX_DEPTH:
            raise _Refused("too_deep")
        if not self.path and name != "xml":
            raise _Refused("not_wechat_xml")
        self.path.append(name)
        if len(self.path) == 2:
            self.text.clear()

    def end(self, name: str) -> None:
        if len(self.path) == 2:
            if name in self.fields:
                raise _Refused("repeated_field")
            self.fields[name] = "".join(self.text)
        self.path.pop()

    def chars(self, data: str) -> None:
        if len(self.path) == 2:
            self.text.append(data)


def _refuse_declaration(*_args: object) -> int:
    raise _Refused("xml_declarations")


def require(fields: dict[str, str], *names: str) -> None:
    """Refuse a message that lacks one of ``names`` (or has it empty)."""
    if any(not fields.get(name) for name in names):
        raise Rejected(400, "missing_fields")


@dataclass(frozen=True, slots=True)
class Message:
    """A follower's message or event, as the parts of the XML the channel uses."""

    fields: dict[str, str]

    @property
    def user(self) -> str:
        return self.fields["FromUserName"]

    @property
    def account(self) -> str:
        return self.fields["ToUserName"]

    @property
    def kind(self) -> str:
        return self.fields["MsgType"]

    @property
    def event(self) -> str:
        return self.fields.get("Event", "").lower()


def read_message(fields: dict[str, str]) -> Message:
    """Check the fields every message needs; ``Rejected(400)`` when one is missing or odd."""
    require(fields, "ToUserName", "FromUserName", "CreateTime", "MsgType")
    if not _plain_id(fields["FromUserName"]) or not _plain_id(fields["ToUserName"]):
        raise Rejected(400, "bad_user_id")
    if not fields["CreateTime"].isdigit() or len(fields["CreateTime"]) > 12:
        raise Rejected(400, "bad_create_time")
    if fields["MsgType"] == "event":
        require(fields, "Event")
    else:
        require(fields, "MsgId")
        if not fields["MsgId"].isdigit() or len(fields["MsgId"]) > 64:
            raise Rejected(400, "bad_msg_id")
    return Message(fields)


def _plain_id(value: str) -> bool:
    return len(value) <= MAX_ID_CHARS and value.isprintable() and not any(c.isspace() for c in value)


def message_id(message: Message) -> str:
    """The dedup id: the platform's MsgId (``MsgID`` on some events) where it gives one.

    Other events are told apart by sender, CreateTime, event type and a digest of every
    field (EventKey, ChangeType, coordinates...): a retry repeats them all, while two
    different events of one member within the same second differ in at least one.
    """
    given = message.fields.get("MsgId") or message.fields.get("MsgID") or ""
    if given.isdigit() and len(given) <= 64:
        return given
    digest = hashlib.sha256(
        "\n".join(f"{name}={value}" for name, value in sorted(message.fields.items())).encode()
    ).hexdigest()[:20]
    return f"{message.user}:{message.fields['CreateTime']}:{message.event[:32]}:{digest}"


def signature(token: str, *parts: str) -> str:
    """SHA1 (hex) of the token and parts, sorted and joined: the platforms' signature."""
    return hashlib.sha1("".join(sorted((token, *parts))).encode()).hexdigest()


def check_signature(given: str | None, token: str, *parts: str) -> None:
    """Refuse (401) unless ``given`` equals the expected signature; constant time."""
    expected = signature(token, *parts)
    if not given or not hmac.compare_digest(expected.encode(), given.encode(errors="replace")):
        raise Rejected(401, "bad_signature")


class MessageCipher:
    """The AES-256-CBC message crypto of both platforms (EncodingAESKey + receiver id).

    Plaintext layout: 16 random bytes, a 4-byte big-endian length, the XML, the receiver
    id (AppID or CorpID), PKCS#7 padding to 32 bytes.
    """

    def __init__(self, encoding_aes_key: str, receiver_id: str) -> None:
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("an EncodingAESKey decodes to 32 bytes")
        self.receiver_id = receiver_id

    def decrypt(self, ciphertext: str) -> bytes:
        """The XML inside ``ciphertext``; ``Rejected`` (400 or 403) when it is not ours."""
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise Rejected(400, "bad_ciphertext") from None
        if not raw or len(raw) % 16:
            raise Rejected(400, "bad_ciphertext")
        plain: bytes = WeChatCipher(self.key).decrypt(raw)
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise Rejected(400, "bad_ciphertext")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise Rejected(400, "bad_ciphertext")
        xml, receiver = content[4:4 + length], content[4 + length:]
        if not hmac.compare_digest(receiver, self.receiver_id.encode()):
            raise Rejected(403, "wrong_receiver")
        return xml

    def encrypt(self, xml: str) -> str:
        """Base64 ciphertext of ``xml`` for this receiver (wechatpy's ``PrpCrypto``)."""
        return bytes(PrpCrypto(self.key).encrypt(xml, self.receiver_id)).decode()

    def envelope(self, xml: str, token: str, nonce: str, timestamp: str | None = None) -> str:
        """The encrypted passive-reply document: Encrypt, MsgSignature, TimeStamp, Nonce."""
        stamp = timestamp or str(int(time.time()))
        encrypted = self.encrypt(xml)
        sign = signature(token, stamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sign}]]></MsgSignature>"
            f"<TimeStamp>{stamp}</TimeStamp><Nonce><![CDATA[{cdata(nonce)}]]></Nonce></xml>"
        )


def cdata(text: str) -> str:
    """``text`` made safe inside a CDATA section (no ``]]>``, no characters XML forbids)."""
    return _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def text_reply(*, to: str, sender: str, content: str, now: int | None = None) -> str:
    """A passive text reply (rendered by wechatpy's ``TextReply``)."""
    reply = TextReply(
        target=cdata(to), source=cdata(sender), content=cdata(content),
        time=now if now is not None else int(time.time()),
    )
    return str(reply.render())

