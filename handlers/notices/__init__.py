"""公告公示 — notices: 广播 and 本群归属, 公告, 公示, 异议 (``register`` adds them all)."""

from __future__ import annotations

from bot.registry import Registry
from handlers.notices import announce, broadcast, disclose, objections


def register(registry: Registry) -> None:
    for module in (broadcast, announce, disclose, objections):
        module.register(registry)


__all__ = ["register"]
