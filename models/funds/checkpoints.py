"""Signed checkpoints: the union's Ed25519 key and what it signs.

The private key lives in a file (``[funds] key_file``), never in the database: whoever
can edit the database still cannot sign a checkpoint. The first server that needs it
creates the file exclusively (written aside, then hard-linked into place, so a second
process either wins the link or reads the complete file) and registers the public half
in ``fund_key``. A server whose key file holds a different key refuses to sign instead
of forking the union's identity: copy the first server's file to it.

A checkpoint signs ``unionbot-funds|<ledger>|<entry count>|<head hash>|<time>``; a
later checkpoint of a ledger must extend every earlier one (``models.funds.verify``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.base import execute_core, insert_for, table_of
from models.funds.tables import FundCheckpoint, FundKey, FundLedger

if TYPE_CHECKING:  # cryptography (~9 MB) loads when a key is first used
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_KEY = table_of(FundKey)
SEED_BYTES = 32


class KeyProblem(Exception):
    """The signing key cannot be used; ``code`` names the sentence, ``values`` its values."""

    def __init__(self, code: str, **values: str) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; made (exclusively, race-free) when there is none yet."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        handle, aside = tempfile.mkstemp(dir=path.parent, prefix=".funds-key-")
        try:
            os.write(handle, seed.hex().encode("ascii") + b"\n")
            os.fsync(handle)
            os.close(handle)
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)  # fails when another process got there first
        finally:
            os.unlink(aside)
    try:
        seed = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        raise KeyProblem("key_unreadable", path=str(path)) from None
    if len(seed) != SEED_BYTES:
        raise KeyProblem("key_unreadable", path=str(path))
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def fingerprint(public: str) -> str:
    """A short form people can compare: ``3f2a 91c0 …`` (the first 16 hex digits)."""
    return " ".join(public[i:i + 4] for i in range(0, 16, 4))


async def registered_key(session: AsyncSession) -> str | None:
    query = select(col(FundKey.public_key)).where(col(FundKey.id) == 1)
    return (await session.execute(query)).scalar_one_or_none()


async def register(session: AsyncSession, key: Ed25519PrivateKey, path: Path) -> str:
    """Register the public key on first use; refuse a key other than the registered one."""
    mine = public_hex(key)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    maker = insert_for(dialect)
    await execute_core(session, maker(_KEY).values(id=1, public_key=mine, created_at=datetime.now(UTC))
                       .on_conflict_do_nothing(index_elements=[_KEY.c.id]))
    known = await registered_key(session)
    if known != mine:
        raise KeyProblem("key_mismatch", path=str(path), registered=fingerprint(known or ""),
                         mine=fingerprint(mine))
    return mine


def message(ledger_id: int, entry_count: int, head_hash: str, signed_at: datetime) -> bytes:
    stamp = signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"unionbot-funds|{ledger_id}|{entry_count}|{head_hash}|{stamp}".encode("ascii")


async def sign(
    session: AsyncSession, ledger: FundLedger, *, key: Ed25519PrivateKey, key_path: Path,
    statement_id: int | None, now: datetime,
) -> FundCheckpoint:
    """A checkpoint of ``ledger``'s current head, signed and stored."""
    assert ledger.id is not None
    public = await register(session, key, key_path)
    signed_at = now.astimezone(UTC).replace(microsecond=0)
    signature = key.sign(message(ledger.id, ledger.entry_count, ledger.head_hash, signed_at))
    checkpoint = FundCheckpoint(
        ledger_id=ledger.id, statement_id=statement_id, entry_count=ledger.entry_count,
        head_hash=ledger.head_hash, signed_at=signed_at, public_key=public, signature=signature.hex(),
    )
    session.add(checkpoint)
    await session.flush()
    return checkpoint


def signature_ok(checkpoint: FundCheckpoint, public: str) -> bool:
    """Whether ``checkpoint`` was signed by the key ``public`` (hex)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(checkpoint.signature),
            message(checkpoint.ledger_id, checkpoint.entry_count, checkpoint.head_hash, checkpoint.signed_at),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
