"""GAS T-score worked examples (clinical-brief §6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.goals.scoring import t_score

RHO = Decimal("0.3")


@pytest.mark.parametrize(("rated", "expected"), [
    ([(1, 0)], "50.0"),  # met as expected
    ([(1, 1)], "60.0"),  # one goal: the denominator is sqrt(0.7 + 0.3) = 1
    ([(1, -2), (1, -2)], "25.2"),  # 50 - 40 / sqrt(1.4 + 1.2) = 25.19...
    ([(1, 0), (1, 0), (1, 0)], "50.0"),
    ([(2, 1), (1, -1), (3, 2)], "65.4"),  # 50 + 10 * 7 / sqrt(0.7 * 14 + 0.3 * 36) = 50 + 70 / 4.539
    ([(1, 2)] * 5, "80.2"),  # 50 + 100 / sqrt(3.5 + 7.5) = 50 + 100 / 3.317
])
def test_t_score_worked_examples(rated: list[tuple[int, int]], expected: str) -> None:
    assert t_score(rated, RHO) == Decimal(expected)


def test_nothing_rated_has_no_score() -> None:
    assert t_score([], RHO) is None
