"""What the fund domain refuses: a ``Refused`` names a macro of ``notices/funds``."""

from __future__ import annotations

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
