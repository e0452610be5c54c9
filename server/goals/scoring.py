"""Goal Attainment Scaling (clinical-brief §6 [S48][S49]): pure arithmetic, no Flask and no database.

Each goal is rated on the standard 5-point scale: -2 much less than expected, -1 somewhat less, 0 as
expected, +1 somewhat better, +2 much better. The aggregate T-score is

    T = 50 + 10 * sum(w_i * x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2)

with weights w_i (here the goal's importance, 1-3) and rho = 0.3 (the protocol's `gas_rho`). 50 means the
goals were met as expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

SCALE = {-2: "Much less than expected", -1: "Somewhat less than expected", 0: "As expected",
         1: "Somewhat better than expected", 2: "Much better than expected"}


def t_score(rated: Iterable[tuple[int, int]], rho: Decimal) -> Decimal | None:
    """The aggregate T-score of (weight, score) pairs, to one decimal place; None when nothing is rated."""
    pairs = list(rated)
    if not pairs:
        return None
    weighted = sum(Decimal(w) * Decimal(x) for w, x in pairs)
    squares = sum(Decimal(w) ** 2 for w, _ in pairs)
    total = sum(Decimal(w) for w, _ in pairs)
    spread = ((1 - rho) * squares + rho * total**2).sqrt()
    return (Decimal(50) + Decimal(10) * weighted / spread).quantize(Decimal("0.1"))
