"""Command registry: words, aliases, roles, where a command may be used, help.

Matching (``Registry.match``) is a pure function of the text, testable without I/O.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.text import END_PUNCTUATION, SEPARATORS, strip_end_punctuation
from models.org import Role

if TYPE_CHECKING:
    from bot.context import Context
    from bot.dialogs import Dialog
    from bot.messages import Reply

Handler = Callable[["Context", str], Awaitable["Reply | str"]]
Scope = Literal["any", "private", "group"]

PREFIXES = ("/", "#", "＃")


def answers_refusals(
    *kinds: type[Exception], answer: Callable[[Context, Any], Exception]
) -> Callable[[Handler], Handler]:
    """A decorator for a capability's handlers: a domain refusal of one of ``kinds`` is
    turned by ``answer`` into the error (one sentence) the person gets."""

    def speaks(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(ctx: Context, args: str) -> Reply | str:
            try:
                return await handler(ctx, args)
            except kinds as exc:
                raise answer(ctx, exc) from None

        return wrapped

    return speaks


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
    args_optional: bool = False  # works without the arguments its usage marks <required>

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def needs_args(self) -> bool:
        """Its usage starts with a required ``<…>`` argument (``名单 <编号>``)."""
        first = self.usage.split("　或　")[0]
        return not self.args_optional and first[len(self.name):].strip().startswith("<")


_NUMBER_WORD = re.compile(r"([A-Za-z]+)[0-9][0-9-]*")


def fitted_example(command: Command, text: str) -> str:
    """The command's example with a code or number the person typed put in place of the
    example's (``join A7`` → ``报名 A7 +1 素食``, not ``报名 A3 …``)."""
    typed = {m[1].upper(): m[0].upper() for m in map(_NUMBER_WORD.fullmatch, text.split()) if m}
    words = command.example.split(" ")
    for index, word in enumerate(words):
        match = _NUMBER_WORD.fullmatch(word)
        if match and match[1].upper() in typed:
            words[index] = typed[match[1].upper()]
            break
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Guess:
    """What an unknown word may have meant: commands like it, or a capability to come."""

    commands: tuple[Command, ...] = ()
    planned: str = ""  # the name of a capability this version does not have yet



def _boundary(word: str, rest: str) -> bool:
    """A command word must end the text or be followed by a space, a digit, punctuation,
    ``+``/``-``, or (after a Chinese word) a letter: ``help me`` and ``报名A3``, not ``helpme``."""
    if not rest:
        return True
    first = rest[0]
    if first.isspace() or first in END_PUNCTUATION or first in ":+-":
        return True
    if not first.isascii() or not first.isalnum():
        return False
    return first.isdigit() or not word[-1:].isascii()


def arguments(rest: str) -> str:
    """The arguments after a command word: sentence punctuation at the end dropped, and
    commas used as separators (``绑定，10001，张三``) read as spaces."""
    rest = strip_end_punctuation(rest)
    if rest[:1] in SEPARATORS:
        rest = "".join(" " if ch in SEPARATORS else ch for ch in rest)
    return rest.lstrip(":").strip()


class Registry:
    """All commands, looked up by any of their words (longest word wins; English words in
    any case: ``HELP``, ``Menu``)."""

    def __init__(self) -> None:
        self._by_word: dict[str, Command] = {}
        self._commands: list[Command] = []
        self._by_first: dict[str, list[str]] = {}  # a word's first character → words, longest first
        self._dialogs: dict[str, Dialog] = {}
        self._synonyms: dict[str, str] = {}
        self._planned: dict[str, str] = {}

    def add(self, command: Command) -> Command:
        for word in map(str.casefold, command.words):
            if word in self._by_word:
                raise ValueError(f"command word {word!r} registered twice")
            self._by_word[word] = command
        self._commands.append(command)
        self._by_first = {}
        for word in sorted(self._by_word, key=len, reverse=True):
            self._by_first.setdefault(word[:1], []).append(word)
        return command

    def add_synonyms(self, command: str, words: tuple[str, ...]) -> None:
        """Words people guess for ``command`` (``join`` → 报名): not commands, but
        an unknown message starting with one is answered with ``command``'s usage."""
        for word in words:
            self._synonyms[word.casefold()] = command

    def add_planned(self, capability: str, words: tuple[str, ...]) -> None:
        """Words of a capability this version does not have yet (``经费公示``)."""
        for word in words:
            self._planned[word.casefold()] = capability

    def guess(self, text: str, usable: Callable[[Command], bool]) -> Guess:
        """The commands an unknown ``text`` most likely meant, among those ``usable``."""
        body = text.lstrip("".join(PREFIXES)).strip().casefold()
        head = body.split(" ")[0]
        for words, meaning in ((self._synonyms, "c"), (self._planned, "p")):
            found = next((words[w] for w in sorted(words, key=len, reverse=True)
                          if head.startswith(w)), None)
            if found is not None and meaning == "p":
                return Guess(planned=found)
            if found is not None and found in self._by_word and usable(self._by_word[found]):
                return Guess(commands=(self._by_word[found],))
        near = difflib.get_close_matches(head[:8], list(self._by_word), n=6, cutoff=0.5)
        commands = dict.fromkeys(self._by_word[w] for w in near if usable(self._by_word[w]))
        return Guess(commands=tuple(commands)[:3])

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
        # casefold works character by character, so a word can only match a text whose
        # first character casefolds to the word's first character
        for word in self._by_first.get(body[:1].casefold()[:1], ()):
            if body[: len(word)].casefold() == word and _boundary(word, body[len(word):]):
                return self._by_word[word], arguments(body[len(word):])
        return None
