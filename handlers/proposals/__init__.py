"""教代会提案 — proposals: the command words (``register``), filing, review and views."""

from handlers.proposals.commands import register

__all__ = ["register"]
