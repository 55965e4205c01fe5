"""Why a roster file or row cannot be used: a macro of ``templates/notices/roster.txt.j2``
and the values it names, so the wording stays with the other sentences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason: ``code`` names a macro of ``notices/roster.txt.j2``, ``values`` fill it."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)


class RosterError(ValueError):
    """The roster file as a whole cannot be imported; ``problem`` says why."""

    def __init__(self, code: str, /, **values: Any) -> None:
        super().__init__(code)
        self.problem = Problem(code, values)


class Invalid(Exception):
    """One cell cannot be used; ``problem`` says why."""

    def __init__(self, code: str, /, **values: Any) -> None:
        super().__init__(code)
        self.problem = Problem(code, values)
