"""``[board]``: who may open the 公开栏 web pages and for how long a personal link works."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config.sections import Section


class BoardSettings(Section):
    """公开栏 (``[board]``)."""

    # "members": a personal signed link from 公开栏 in private chat; "public": open to anyone
    access: Literal["members", "public"] = "members"
    link_days: int = Field(default=30, ge=1, le=366)
    # the key that signs the personal links; created on first use (mode 0600)
    key_file: str = Field(default="data/board.key", min_length=1)
