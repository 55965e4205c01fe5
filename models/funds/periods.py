"""Accounting periods — 期间: a month, a quarter, a half-year or a year.

Written ``2026-11`` / ``2026年11月``, ``2026Q4`` / ``2026年第四季度``, ``2026上半年`` /
``2026年下半年``, ``2026`` / ``2026年``. Each has a short ``key`` used in statement
numbers (``F2026Q4``), a ``label`` for people (``2026年第四季度``) and a half-open range
of days ``[start, end)``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from models.funds.refusals import Refused

Kind = Literal["month", "quarter", "half", "year"]
_CN_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_QUARTER_NAMES = "一二三四"
_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("month", re.compile(r"(?P<y>\d{4})(?:-|/|\.|年)(?P<n>\d{1,2})月?")),
    ("quarter", re.compile(r"(?P<y>\d{4})(?:年)?(?:-)?(?:[Qq](?P<q>[1-4])|第(?P<cq>[一二三四1-4])季度?)")),
    ("half", re.compile(r"(?P<y>\d{4})(?:年)?(?:(?P<h>上|下)半年|-?[Hh](?P<hn>[12]))")),
    ("year", re.compile(r"(?P<y>\d{4})(?:年度?)?")),
)
MIN_YEAR, MAX_YEAR = 2000, 2099


@dataclass(frozen=True, slots=True)
class Period:
    kind: Kind
    year: int
    index: int  # month 1-12, quarter 1-4, half 1-2; 1 for a year

    @property
    def start(self) -> date:
        return date(self.year, self._first_month(), 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        month = self._first_month() + self._months()
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    def _months(self) -> int:
        return {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]

    def _first_month(self) -> int:
        return (self.index - 1) * self._months() + 1

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        suffix = {"quarter": f"Q{self.index}", "half": f"H{self.index}", "year": ""}[self.kind]
        return f"{self.year}{suffix}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "quarter":
            return f"{self.year}年第{_QUARTER_NAMES[self.index - 1]}季度"
        if self.kind == "half":
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        return f"{self.year}年"

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def previous(self) -> Period:
        count = {"month": 12, "quarter": 4, "half": 2, "year": 1}[self.kind]
        if self.index > 1:
            return Period(self.kind, self.year, self.index - 1)
        return Period(self.kind, self.year - 1, count)


def parse_period(text: str) -> Period:
    """``text`` as a period; raise ``Refused("period_bad")`` with the text otherwise."""
    body = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(body)
        if match is not None:
            return _checked(kind, match, text)
    raise Refused("period_bad", text=text.strip())


def _checked(kind: Kind, match: re.Match[str], text: str) -> Period:
    year = int(match["y"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Refused("period_bad", text=text.strip())
    if kind == "month":
        index = int(match["n"])
        if not 1 <= index <= 12:
            raise Refused("period_bad", text=text.strip())
    elif kind == "quarter":
        index = _CN_QUARTERS[match["q"] or match["cq"]]
    elif kind == "half":
        index = int(match["hn"]) if match["hn"] else (1 if match["h"] == "上" else 2)
    else:
        index = 1
    return Period(kind, year, index)


def period_of(kind: Kind, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    return Period(kind, day.year, (day.month - 1) // months + 1)

