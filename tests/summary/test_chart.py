# ruff: noqa: RUF001  (the chart's words use minus signs)
"""The summary's MAS chart: bars to scale for the means before and after each day's dose, days without a mean
labelled, and every number in the text alternative."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.assessments.instruments import MAS_MAPPINGS
from server.assessments.scoring import ToneSummary
from server.summary.chart import PLOT_HEIGHT, mas_chart

ASHWORTH = MAS_MAPPINGS["ashworth_0_4"]


def tone(before: str | None, after: str | None) -> ToneSummary:
    b, a = (Decimal(x) if x is not None else None for x in (before, after))
    change = a - b if a is not None and b is not None else None
    return ToneSummary(ASHWORTH, Decimal(1), 14 if change is not None else 0, 14, b, a, change,
                       None if change is None else change <= -1)


def test_bars_are_drawn_to_scale_from_zero() -> None:
    chart = mas_chart([(1, tone("2", "1.5")), (2, tone("4", "0"))], ASHWORTH)
    bars = {(b.kind, round(b.x)): b for b in chart.bars}
    heights = sorted((b.kind, b.height, b.label) for b in bars.values())
    assert heights == [("after", 0.0, "0"), ("after", pytest.approx(PLOT_HEIGHT * 1.5 / 4, abs=0.1), "1.5"),
                       ("before", PLOT_HEIGHT / 2, "2"), ("before", float(PLOT_HEIGHT), "4")]
    for b in chart.bars:
        assert b.y + b.height == pytest.approx(chart.baseline_y, abs=0.1)  # every bar stands on zero
    assert [t.label for t in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert chart.ticks[0].y == chart.baseline_y and chart.ticks[-1].y == chart.baseline_y - PLOT_HEIGHT
    before_day1, after_day1 = sorted((b for b in chart.bars if b.x < chart.days[0].x + 60), key=lambda b: b.x)
    assert (before_day1.kind, after_day1.kind) == ("before", "after")


def test_days_without_a_mean_are_labelled_and_described() -> None:
    chart = mas_chart([(1, tone("2.5", "2")), (2, None), (3, tone(None, None))], ASHWORTH)
    assert [(d.text, d.note) for d in chart.days] == [("Day 1", ""), ("Day 2", "not assessed"),
                                                      ("Day 3", "not assessed")]
    assert len(chart.bars) == 2
    assert chart.description == (
        "Mean lower-limb MAS (Ashworth 0–4, 1+ = 1.5) before and after each test dose; lower is less tone. "
        "Day 1: 2.5 before, 2 after (change −0.5). Day 2: not assessed. "
        "Day 3: no lower-limb muscle group scored before and after the dose.")


def test_the_scale_follows_the_mapping() -> None:
    ordinal = MAS_MAPPINGS["ordinal_0_5"]
    chart = mas_chart([(1, tone("5", "5"))], ordinal)
    assert [t.label for t in chart.ticks][-1] == "5"
    assert all(b.height == PLOT_HEIGHT for b in chart.bars)
    assert not mas_chart([], ordinal).bars and mas_chart([], ordinal).empty
