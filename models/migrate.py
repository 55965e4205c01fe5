"""Schema migrations (Alembic), run programmatically: ``unionbot db upgrade``.

Alembic (with Mako and Pygments behind it) is imported only when there is something to
migrate: whether the database is at the newest revision is read from the revision
files' ``revision`` / ``down_revision`` lines and the ``alembic_version`` table.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text

from models.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

VERSIONS = Path(__file__).with_name("migrations") / "versions"
VERSION_TABLE = "alembic_version"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "models:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _revisions_of(source: str) -> tuple[str, tuple[str, ...]] | None:
    found = dict(_ASSIGNMENT.findall(source))
    if "revision" not in found or "down_revision" not in found:
        return None
    revision = _QUOTED.findall(found["revision"])
    if len(revision) != 1:
        return None
    return revision[0], tuple(_QUOTED.findall(found["down_revision"]))


@cache
def head_revision() -> str | None:
    """The newest revision, read from the revision files; None when that is not one clear head
    (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        if path.name == "__init__.py":
            continue
        found = _revisions_of(path.read_text(encoding="utf-8"))
        if found is None:
            return None
        revisions.add(found[0])
        parents.update(found[1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for an empty database."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def _upgrade(connection: Connection, revision: str) -> None:
    if revision == "head" and head_revision() is not None and current_revision(connection) == head_revision():
        return
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> tuple[str | None, str | None]:
    current, head = current_revision(connection), head_revision()
    if head is None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def status(db: Database) -> dict[str, Any]:
    """The revision the database is at and the newest one the code knows."""
    async with db.read_engine.connect() as conn:  # no write lock: SQLite's server may be writing
        current, head = await conn.run_sync(_current)
    return {"current": current, "head": head, "up_to_date": current == head}
