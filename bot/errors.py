"""Exceptions raised across unionbot.

    UnionbotError
     ├── ConfigError      invalid configuration; start-up stops with one line
     └── UserError        bad input from a person; its text is the reply (one clear sentence)
          └── PermissionDenied   the sender lacks the role a command needs
"""

from __future__ import annotations

import re


class UnionbotError(Exception):
    """Base class of unionbot's own exceptions."""


class ConfigError(UnionbotError):
    """The configuration cannot be used; the message names the key and the problem."""


class UserError(UnionbotError):
    """Input a person typed cannot be used; ``str(exc)`` is the sentence to answer with.

    When the sentence is a question (``「明天 3点」是上午还是下午？``), ``answers`` says how a
    short answer completes the input: pairs of (regular expression the whole answer
    matches, the input with ``{}`` where the answer goes). A guided dialog uses them.
    """

    def __init__(self, message: str, *, answers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.answers = answers


def complete(answers: tuple[tuple[str, str], ...] | list[list[str]], answer: str) -> str:
    """The input an answer to a question stands for (the answer itself if none fits)."""
    for pattern, template in answers:
        if re.fullmatch(pattern, answer):
            return template.replace("{}", answer)
    return answer


class PermissionDenied(UserError):
    """The sender is not allowed to run a command."""
