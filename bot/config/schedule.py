"""What is sent when: ``[scheduler]`` and the ``[holidays."<key>"]`` festival notices."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.errors import ConfigProblem
from bot.config.sections import Section, clock


class SchedulerSettings(Section):
    enabled: bool = True
    # items due while the server was down are still sent within this many hours
    grace_hours: float = Field(default=6.0, ge=1, le=168)
    tick_seconds: int = Field(default=60, ge=10, le=600)
    birthday_time: str = "08:00"
    birthday_range: Literal["day", "week"] = "day"
    birthday_greeting: bool = False
    # 活动提醒: hours before an event's start; [] sends none
    event_reminder_hours: list[int] = Field(default_factory=lambda: [24, 2], max_length=5)
    # 提案答复提醒: days before the reply deadline (0 = off), at this time of day
    proposal_reminder_days: int = Field(default=3, ge=0, le=60)
    proposal_reminder_time: str = "09:00"
    # 逾期提案周报: 1 = Monday … 7 = Sunday, 0 = off
    overdue_digest_weekday: int = Field(default=1, ge=0, le=7)
    overdue_digest_time: str = "09:00"

    birthday_time_ok = field_validator("birthday_time")(clock)
    reminder_times_ok = field_validator("proposal_reminder_time", "overdue_digest_time")(clock)

    @field_validator("event_reminder_hours")
    @classmethod
    def _reminder_hours(cls, value: list[int]) -> list[int]:
        if any(not 1 <= hours <= 720 for hours in value):
            raise ConfigProblem("config", "reminder_hours_bad")
        if len(set(value)) != len(value):
            raise ConfigProblem("config", "reminder_hours_twice")
        return sorted(value, reverse=True)


# Festival keys of [holidays."<key>"], as in models.calendar.festivals.KEYS (a test keeps them equal).
HOLIDAY_KEYS = (
    "元旦", "除夕", "春节", "元宵", "三八", "清明", "五一",
    "六一", "端午", "七夕", "教师节", "中秋", "国庆", "重阳",
)


class HolidaySettings(Section):
    """One festival's 慰问 notice; an unset value takes the festival's built-in default."""

    enabled: bool | None = None
    days_before: int | None = Field(default=None, ge=0, le=60)
    send_at: str | None = None
    audience: Literal["all", "women", "parents_under_14"] | None = None
    branches: list[str] = Field(default_factory=list)
    delivery: Literal["groups", "private"] | None = None
    gift: str = Field(default="", max_length=200)
    pickup_place: str = Field(default="", max_length=200)
    pickup_time: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)
    template: str = ""

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: str | None) -> str | None:
        return None if value is None else clock(value)

    @field_validator("branches")
    @classmethod
    def _branch_names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name or len(name) > 64 for name in names):
            raise ConfigProblem("config", "branch_name_bad")
        return names

    @field_validator("template")
    @classmethod
    def _template_file(cls, value: str) -> str:
        from importlib.resources import files

        name = value.strip().removesuffix(".txt.j2")
        if not name:
            return ""
        if not all(c.isalnum() or c in "_-" for c in name):
            raise ConfigProblem("config", "template_name_bad", value=value)
        if not (files("templates") / "notices" / f"{name}.txt.j2").is_file():
            raise ConfigProblem("config", "template_missing", value=value, name=name)
        return name


class HolidaysSettings(BaseModel):
    """``[holidays."<key>"]`` sections: festival key → its notice settings."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, HolidaySettings] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in HOLIDAY_KEYS:
                    raise ConfigProblem("config", "festival_unknown", key=key, known=HOLIDAY_KEYS)
        return data

    def get(self, key: str) -> HolidaySettings | None:
        """The settings written for festival ``key``, or None when it has no section."""
        return (self.__pydantic_extra__ or {}).get(key)

    def keys(self) -> list[str]:
        """The festivals that have a section, in the order they were written."""
        return list(self.__pydantic_extra__ or {})
