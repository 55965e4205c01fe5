"""The capability sections: ``[proposals]`` (教代会提案), ``[events]`` (活动报名) and ``[ideas]`` (金点子)."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.config.errors import ConfigProblem
from bot.config.sections import Section, clock


class ProposalSettings(Section):
    """教代会提案 (``[proposals]``)."""

    min_cosigners: int = Field(default=2, ge=0, le=50)
    reply_days: int = Field(default=30, ge=1, le=366)
    filers: str = Field(default="representatives", pattern="^(representatives|members)$")
    open_all_year: bool = False
    categories: list[str] = Field(default_factory=list, max_length=50)
    departments: list[str] = Field(default_factory=list, max_length=200)
    title_max_chars: int = Field(default=50, ge=5, le=200)
    text_max_chars: int = Field(default=1500, ge=20, le=3000)
    cosigners_rate: bool = False
    max_rehandle: int = Field(default=1, ge=0, le=5)
    page_size: int = Field(default=10, ge=1, le=50)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return _plain_names(value, limit=32)

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: list[str]) -> list[str]:
        return _plain_names(value, limit=64)


def _plain_names(names: list[str], *, limit: int) -> list[str]:
    """Names typed in commands: unique, 1..limit characters, no spaces or list separators."""
    seen: set[str] = set()
    for name in names:
        if not name or len(name) > limit or any(c.isspace() or c in "、,，;；" for c in name):
            raise ConfigProblem("config", "name_bad", name=name, limit=limit)
        if name in seen:
            raise ConfigProblem("config", "name_twice", name=name)
        seen.add(name)
    return names


class EventSettings(Section):
    """活动报名 (``[events]``)."""

    deadline_minutes_before_start: int = Field(default=0, ge=0, le=30 * 1440)
    checkin_margin_minutes: int = Field(default=30, ge=0, le=1440)
    max_guests: int = Field(default=5, ge=0, le=50)
    max_capacity: int = Field(default=5000, ge=1, le=100_000)
    title_max_chars: int = Field(default=40, ge=4, le=64)
    note_max_chars: int = Field(default=100, ge=10, le=200)
    export_link_minutes: int = Field(default=60, ge=1, le=7 * 1440)
    roster_max_lines: int = Field(default=200, ge=10, le=5000)


class IdeaSettings(Section):
    """金点子 (``[ideas]``)."""

    max_supports: int = Field(default=0, ge=0, le=1000)  # per member and round; 0 = no cap
    rounds_only: bool = False  # true: ideas only during a 点子征集
    min_chars: int = Field(default=8, ge=1, le=100)
    max_chars: int = Field(default=1000, ge=50, le=5000)
    title_max_chars: int = Field(default=30, ge=8, le=60)
    page_size: int = Field(default=10, ge=1, le=50)
    key_file: str = Field(default="data/ideas.key", min_length=1)
    reminder_days: int = Field(default=3, ge=0, le=30)  # 0 = no reminder before a round closes
    reminder_time: str = "09:00"
    export_link_minutes: int = Field(default=60, ge=1, le=7 * 1440)

    reminder_time_ok = field_validator("reminder_time")(clock)
