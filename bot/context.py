"""What a handler gets: the message, who sent it, the open transaction, and helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Incoming
from models.audit import AuditLog
from models.base import table_of
from models.fixed_sql import FixedInsert
from models.org import Member, Role, role_allows

if TYPE_CHECKING:
    from bot.config import Settings


_AUDIT = FixedInsert(
    table_of(AuditLog), ("at", "actor_id", "actor", "action", "target", "before", "after")
)


@dataclass(slots=True)
class Context:
    """One message being handled. ``session`` is inside the message's transaction."""

    session: AsyncSession
    incoming: Incoming
    member: Member | None
    roles: frozenset[Role]
    settings: Settings
    now: datetime

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.union.tz

    @property
    def is_group(self) -> bool:
        return self.incoming.is_group

    def has_role(self, role: Role) -> bool:
        return self.member is not None and role_allows(role, self.roles)

    async def audit(
        self, action: str, target: str, *, before: Any = None, after: Any = None,
        actor: Member | None = None,
    ) -> None:
        """Write who did what to the audit log, in the message's transaction.

        ``actor`` defaults to the sender; a newly bound member is their own actor.
        """
        actor = actor or self.member
        await _AUDIT.run(
            self.session,
            {
                "at": self.now,
                "actor_id": actor.id if actor else None,
                "actor": actor.name if actor else f"{self.incoming.channel}:{self.incoming.sender_id}"[:64],
                "action": action,
                "target": target,
                "before": _dump(before),
                "after": _dump(after),
            },
        )

def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
