"""Command registry: words, aliases, roles, where a command may be used, help.

Matching (``Registry.match``) is a pure function of the text, testable without I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from models.org import Role

if TYPE_CHECKING:
    from bot.context import Context
    from bot.dialogs import Dialog
    from bot.messages import Reply

Handler = Callable[["Context", str], Awaitable["Reply | str"]]
Scope = Literal["any", "private", "group"]

PREFIXES = ("/", "#", "＃")


@dataclass(frozen=True, slots=True)
class Command:
    """One command word with everything the pipeline and ``帮助`` need to know."""

    name: str
    handler: Handler
    summary: str
    usage: str
    example: str
    role: Role = Role.MEMBER
    aliases: tuple[str, ...] = ()
    scope: Scope = "any"
    allow_unbound: bool = False
    topic: str = "basics"

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)



def _boundary(rest: str) -> bool:
    """A command word must end the text or be followed by a space, digit, letter or ``+``."""
    if not rest:
        return True
    first = rest[0]
    return first.isspace() or (first.isascii() and (first.isalnum() or first in "+-"))


class Registry:
    """All commands, looked up by any of their words (longest word wins)."""

    def __init__(self) -> None:
        self._by_word: dict[str, Command] = {}
        self._commands: list[Command] = []
        self._longest_first: list[str] = []
        self._dialogs: dict[str, Dialog] = {}

    def add(self, command: Command) -> Command:
        for word in command.words:
            if word in self._by_word:
                raise ValueError(f"command word {word!r} registered twice")
            self._by_word[word] = command
        self._commands.append(command)
        self._longest_first = sorted(self._by_word, key=len, reverse=True)
        return command

    def add_dialog(self, dialog: Dialog) -> Dialog:
        if dialog.name in self._dialogs:
            raise ValueError(f"dialog {dialog.name!r} registered twice")
        self._dialogs[dialog.name] = dialog
        return dialog

    def dialog(self, name: str) -> Dialog | None:
        return self._dialogs.get(name)

    def commands(self) -> list[Command]:
        return list(self._commands)

    def match(self, text: str) -> tuple[Command, str] | None:
        """Find the command ``text`` starts with; return it with the rest as arguments."""
        body = text.lstrip()
        if body.startswith(PREFIXES):
            body = body[1:].lstrip()
        for word in self._longest_first:
            if body.startswith(word) and _boundary(body[len(word):]):
                return self._by_word[word], body[len(word):].strip()
        return None
