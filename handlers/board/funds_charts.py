"""The geometry of the statement's two charts, drawn by ``templates/board/charts.html.j2``.

The charts are SVG written by Jinja macros from the numbers computed here, not by a
chart library. pygal, the well-kept choice, embeds ``<script>`` tags that load its
tooltip code from an external site and styles its charts with an inline ``<style>``
block; the board's Content-Security-Policy forbids both, and turning them off leaves
little of what the library adds. A template gives exactly the markup the board needs:
no script, no external reference, no inline style (only SVG presentation attributes),
a ``<title>`` for the chart and for every bar, a ``viewBox`` so it scales to any width,
hatching for expenditure so the two kinds stay apart on a black-and-white print, and no
new dependency.

Coordinates are in viewBox units; the viewBox is 360 units wide, so on a 360 px phone
(about 310 px inside a card) the 14-unit labels show at 12 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.funds.amounts import yuan
from models.funds.public import Amounts, Month

WIDTH = 360
# breakdown (horizontal bars): a heading row per kind, then a row per category
LEFT = 4
BAR_MAX = 240  # the largest category's bar; the rest of the width holds its amount
HEADING_ROW = 28
CATEGORY_ROW = 42
# month by month (vertical bars)
MONTH_HEIGHT = 240
PLOT_TOP, PLOT_BOTTOM = 32, 202  # the bars' area, between the legend and the month labels
PLOT_LEFT, PLOT_RIGHT = 54, 354
BAR_WIDTH_MAX = 22
STEPS = (1, 2, 5)
MAX_TICKS = 5


@dataclass(frozen=True, slots=True)
class CategoryBar:
    name: str
    amount_fen: int
    kind: str  # income | expense
    y: float  # the top of its row
    length: float
    share: str  # of its kind's total, "42.1%"

    @property
    def amount(self) -> str:
        return yuan(self.amount_fen)


@dataclass(frozen=True, slots=True)
class Heading:
    kind: str
    y: float
    total_fen: int
    empty: bool

    @property
    def total(self) -> str:
        return yuan(self.total_fen)


@dataclass(frozen=True, slots=True)
class Breakdown:
    height: float
    headings: list[Heading]
    bars: list[CategoryBar]


def _share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole > 0 else "—"


def _length(amount: int, largest: int) -> float:
    return round(max(amount, 0) * BAR_MAX / largest, 1) if largest > 0 else 0.0


def breakdown(income: Sequence[Amounts], expense: Sequence[Amounts], income_fen: int,
              expense_fen: int) -> Breakdown:
    """Income and expenditure by top-level category, on one scale so sizes compare honestly."""
    largest = max((line.amount_fen for line in (*income, *expense)), default=0)
    headings, bars, y = [], [], 0.0
    for kind, lines, total in (("income", income, income_fen), ("expense", expense, expense_fen)):
        headings.append(Heading(kind, y, total, not lines))
        y += HEADING_ROW
        for line in lines:
            bars.append(CategoryBar(line.name, line.amount_fen, kind, y, _length(line.amount_fen, largest),
                                    _share(line.amount_fen, total)))
            y += CATEGORY_ROW
        if not lines:
            y += HEADING_ROW  # room for the "none" line
    return Breakdown(y + 4, headings, bars)


# ---------------------------------------------------------------- month by month


@dataclass(frozen=True, slots=True)
class MonthBar:
    year: int
    month: int
    kind: str
    amount_fen: int
    x: float
    y: float
    width: float
    height: float

    @property
    def amount(self) -> str:
        return yuan(self.amount_fen)


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str  # in 元, short: 500, 2,000, 1.5万


@dataclass(frozen=True, slots=True)
class MonthLabel:
    x: float  # the centre of the month's group
    year: int
    month: int


@dataclass(frozen=True, slots=True)
class MonthChart:
    width: int
    height: int
    plot: tuple[int, int, int, int]  # left, top, right, bottom
    bars: list[MonthBar]
    ticks: list[Tick]
    labels: list[MonthLabel]


def nice_step(largest_fen: int) -> int:
    """A round step (1, 2 or 5 × a power of ten 元) giving at most ``MAX_TICKS`` steps."""
    step = 100  # 1 元
    while True:
        for factor in STEPS:
            if largest_fen <= factor * step * MAX_TICKS:
                return factor * step
        step *= 10


def short_yuan(fen: int) -> str:
    """A tick's amount: whole 元 below 10,000, in 万 above (``1.5万``)."""
    whole = fen // 100
    if whole < 10_000:
        return f"{whole:,}"
    return f"{whole / 10_000:g}万"


def _scale(months: Sequence[Month]) -> tuple[int, list[Tick]]:
    largest = max((max(m.income_fen, m.expense_fen) for m in months), default=0)
    step = nice_step(max(largest, 1))
    top = max(1, -(-largest // step)) * step
    span = PLOT_BOTTOM - PLOT_TOP
    ticks = [Tick(round(PLOT_BOTTOM - value * span / top, 1), short_yuan(value))
             for value in range(0, top + 1, step)]
    return top, ticks


def _height(amount: int, top: int) -> float:
    return round(max(amount, 0) * (PLOT_BOTTOM - PLOT_TOP) / top, 1)


def month_chart(months: Sequence[Month]) -> MonthChart:
    """Income (left) and expenditure (right) bars for each month, with a round scale."""
    top, ticks = _scale(months)
    group = (PLOT_RIGHT - PLOT_LEFT) / max(len(months), 1)
    width = round(min(BAR_WIDTH_MAX, group * 0.36), 1)
    bars, labels = [], []
    for index, month in enumerate(months):
        centre = PLOT_LEFT + group * (index + 0.5)
        labels.append(MonthLabel(round(centre, 1), month.start.year, month.start.month))
        for kind, amount, x in (("income", month.income_fen, centre - width - 1),
                                ("expense", month.expense_fen, centre + 1)):
            height = _height(amount, top)
            bars.append(MonthBar(month.start.year, month.start.month, kind, amount, round(x, 1),
                                 round(PLOT_BOTTOM - height, 1), width, height))
    plot = (PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM)
    return MonthChart(WIDTH, MONTH_HEIGHT, plot, bars, ticks, labels)
