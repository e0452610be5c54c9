"""The team's decisions: the one write path (the decision and outcome forms call these) and their reads.

Like every service these flush and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..trials.models import Trial
from .models import DayDecision


def decisions_for(trial: Trial) -> dict[int, DayDecision]:
    """The trial's day decisions, by trial day id."""
    ids = [d.id for d in trial.days]
    if not ids:
        return {}
    rows = db.session.scalars(select(DayDecision).where(DayDecision.trial_day_id.in_(ids))).all()
    return {row.trial_day_id: row for row in rows}
