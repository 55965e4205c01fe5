"""``[notices]`` and ``[[notices.recurring]]``: 公告, 公示 and the recurring 院务公开 reminders."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.sections import clock as _clock


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class RecurringDisclosure(_Section):
    """One 定期公开 item: the officers responsible are reminded privately when it is due."""

    title: str = Field(min_length=1, max_length=60)
    kind: Literal["评优", "经费", "院务", "其他"] = "院务"
    every: Literal["month", "quarter", "half-year", "year"] = "month"
    # the month of the period it falls in (quarter: 1–3, half-year: 1–6, year: 1–12)
    month: int = Field(default=1, ge=1, le=12)
    day: int = Field(default=1, ge=1, le=28)
    time: str = "09:00"
    # the branches whose officers are reminded (names as in the roster); [] = the 校工会's
    branches: list[str] = Field(default_factory=list)

    time_ok = field_validator("time")(_clock)

    @model_validator(mode="after")
    def _month_in_period(self) -> RecurringDisclosure:
        longest = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}[self.every]
        if self.month > longest:
            raise ValueError(f"every = \"{self.every}\" 时 month 只能是 1 到 {longest}")
        return self


class NoticeSettings(_Section):
    """公告公示 (``[notices]``)."""

    # the default 公示期 in working days when 期满 is not given
    objection_days: int = Field(default=5, ge=1, le=60)
    # a 公示 ends at this time on its last day
    end_time: str = "18:00"
    # the longest 公示期 accepted, in calendar days
    max_days: int = Field(default=90, ge=1, le=366)
    title_max_chars: int = Field(default=40, ge=5, le=100)
    text_max_chars: int = Field(default=5000, ge=100, le=10_000)
    page_size: int = Field(default=10, ge=1, le=50)
    recurring: list[RecurringDisclosure] = Field(default_factory=list, max_length=50)

    end_time_ok = field_validator("end_time")(_clock)
