"""What the fund domain refuses: a ``Refused``, an ``Unusable`` file or a row's ``Problem``
names a macro of ``notices/funds`` and the values it fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Refused(Exception):
    """Input or a step the rules do not allow; nothing has been changed.

    ``code`` is the name of the sentence in ``templates/notices/funds.txt.j2`` and
    ``values`` its arguments.
    """

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class Unusable(ValueError):
    """A file that cannot be used at all: ``code`` names the sentence, ``values`` fill it."""

    def __init__(self, code: str, /, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one row of a file is refused: ``code`` names the sentence, ``values`` fill it."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)
