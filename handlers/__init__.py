"""Command handlers, one module or subpackage per capability; ``build_registry`` collects them all."""

from __future__ import annotations

from bot.registry import Registry
from handlers import basics, board, calendar, events, funds, ideas, notices, proposals


def build_registry() -> Registry:
    """A registry with every command and dialog of unionbot."""
    registry = Registry()
    for module in (basics, notices, board, proposals, events, funds, ideas, calendar):
        module.register(registry)
    return registry
