"""The summary's chart: the mean lower-limb MAS before and after each trial day's dose, as bars drawn by the
server as SVG (no script), with the same numbers in a sentence for its text alternative. Pure: no Flask, no
database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..assessments.instruments import MasMapping
from ..assessments.scoring import ToneSummary, fmt, signed

LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 40  # the plot's margins inside the drawing, in SVG units
PLOT_HEIGHT = 150
DAY_WIDTH = 120
BAR_WIDTH = 34
BAR_GAP = 6
KINDS = (("before", "Before the dose (baseline)"), ("after", "After the dose (post-dose)"))


@dataclass(frozen=True)
class Bar:
    kind: str  # "before" or "after"
    x: float
    y: float
    width: float
    height: float
    label: str  # the value as printed above the bar
    label_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    text: str
    note: str  # "not assessed" when the day has no mean to draw, else ""


@dataclass(frozen=True)
class MasChart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    baseline_y: float  # y of zero
    bars: list[Bar]
    ticks: list[Tick]
    days: list[DayLabel]
    legend: tuple[tuple[str, str], ...]
    description: str  # the text alternative: every number of the chart in words

    @property
    def empty(self) -> bool:
        return not self.bars


def _day_words(number: int, tone: ToneSummary | None) -> str:
    if tone is None:
        return f"Day {number}: not assessed."
    if tone.baseline_mean is None and tone.post_mean is None:
        return f"Day {number}: no lower-limb muscle group scored before and after the dose."
    return (f"Day {number}: {fmt(tone.baseline_mean)} before, {fmt(tone.post_mean)} after "
            f"(change {signed(tone.change)}).")


def mas_chart(days: Sequence[tuple[int, ToneSummary | None]], mapping: MasMapping) -> MasChart:
    """Bars for each (day number, that day's tone summary); a day without one is labelled "not assessed"."""
    top_value = max(mapping.values.values()) or Decimal(1)
    width = LEFT + RIGHT + DAY_WIDTH * max(len(days), 1)
    height = TOP + PLOT_HEIGHT + BOTTOM
    zero = TOP + PLOT_HEIGHT

    def y_of(value: Decimal) -> float:
        return round(zero - float(value / top_value) * PLOT_HEIGHT, 1)

    ticks = [Tick(y_of(Decimal(v)), str(v)) for v in range(int(top_value) + 1)]
    bars: list[Bar] = []
    labels: list[DayLabel] = []
    for i, (number, tone) in enumerate(days):
        centre = LEFT + DAY_WIDTH * i + DAY_WIDTH / 2
        values = (tone.baseline_mean, tone.post_mean) if tone is not None else (None, None)
        drawn = False
        for j, ((kind, _), value) in enumerate(zip(KINDS, values, strict=True)):
            if value is None:
                continue
            drawn = True
            x = centre - BAR_WIDTH - BAR_GAP / 2 if j == 0 else centre + BAR_GAP / 2
            y = y_of(value)
            bars.append(Bar(kind, x, y, BAR_WIDTH, round(zero - y, 1), fmt(value), y - 5))
        labels.append(DayLabel(centre, f"Day {number}", "" if drawn else "not assessed"))
    description = " ".join([f"Mean lower-limb MAS ({mapping.label}) before and after each test dose; lower is "
                            "less tone."] + [_day_words(n, t) for n, t in days])
    return MasChart(width, height, LEFT, width - RIGHT, zero, bars, ticks, labels, KINDS, description)
