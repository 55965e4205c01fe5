"""Ed25519 signatures of the official QQ bot's webhook (开放平台 “签名校验”).

The key pair is derived from the bot secret (AppSecret): the secret is repeated until
it is at least 32 bytes long and its first 32 bytes are the Ed25519 seed. The platform
signs ``X-Signature-Timestamp + body`` of every event; the bot answers the callback
address check (op 13) by signing ``event_ts + plain_token``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SEED_SIZE = 32
SIGNATURE_SIZE = 64


def seed_from_secret(secret: str) -> bytes:
    """The 32-byte seed: the secret repeated to at least 32 bytes, then cut."""
    raw = secret.encode("utf-8")
    if not raw:
        raise ValueError("the bot secret is empty")
    return (raw * (SEED_SIZE // len(raw) + 1))[:SEED_SIZE]


class BotKeys:
    """The bot's key pair, made once from its secret."""

    def __init__(self, secret: str) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed_from_secret(secret))
        self.public: Ed25519PublicKey = self._private.public_key()

    def sign(self, message: bytes) -> str:
        """The hex signature of ``message``."""
        return self._private.sign(message).hex()

    def verify(self, signature_hex: str, message: bytes) -> bool:
        """Whether ``signature_hex`` (as sent in ``X-Signature-Ed25519``) signs ``message``."""
        if len(signature_hex) != 2 * SIGNATURE_SIZE:
            return False
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        try:
            self.public.verify(signature, message)
        except InvalidSignature:
            return False
        return True
