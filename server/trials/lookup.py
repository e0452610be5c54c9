"""For views of every feature: the trial or trial day named in the URL, or a 404 page."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from .models import Trial, TrialDay


def trial_or_404(trial_id: int, **options: Any) -> Trial:
    """`options` go to `Session.get`, e.g. `options=[selectinload(Trial.days)]`."""
    return db.get_or_404(Trial, trial_id, description="No such trial.", **options)


def day_or_404(day_id: int) -> TrialDay:
    return db.get_or_404(TrialDay, day_id, description="No such trial day.")
