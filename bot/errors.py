"""Exceptions raised across unionbot.

    UnionbotError
     ├── ConfigError      invalid configuration; start-up stops with one line
     └── UserError        bad input from a person; its text is the reply (one clear sentence)
          └── PermissionDenied   the sender lacks the role a command needs
"""

from __future__ import annotations


class UnionbotError(Exception):
    """Base class of unionbot's own exceptions."""


class ConfigError(UnionbotError):
    """The configuration cannot be used; the message names the key and the problem."""


class UserError(UnionbotError):
    """Input a person typed cannot be used; ``str(exc)`` is the sentence to answer with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(UserError):
    """The sender is not allowed to run a command."""
