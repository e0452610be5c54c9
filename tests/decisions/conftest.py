"""Helpers for decision tests: a trial with doses given through the dosing service, as on the ward."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from server.extensions import db

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for record_dose: every dose time of a test trial is in the past


def day_id(trial_id: int, day_number: int) -> int:
    from server.trials.models import Trial

    trial = db.session.get(Trial, trial_id)
    assert trial is not None
    return next(d.id for d in trial.days if d.day_number == day_number)


def give(trial_id: int, day_number: int, *, nurse: int, surgeon: int, mcg: str = "50", at: time = time(9, 0)) -> None:
    """Record a day's dose through the dosing service (which also makes the trial active), and commit."""
    from server.dosing.services import record_dose

    record_dose(day_id(trial_id, day_number), {"given_time": at, "dose_mcg": Decimal(mcg), "route": "catheter",
                                               "given_by_id": nurse, "checked_by_id": surgeon},
                recorded_by_id=surgeon, now=LATER)
    db.session.commit()


def decision(**over: Any) -> dict[str, Any]:
    """A valid DecisionSchema output: escalate to 75 mcg at 09:00, surgeon and PT present."""
    return {"effect": "inadequate", "next_step": "escalate", "dose_mcg": Decimal("75"), "planned_time": time(9, 0),
            "override_reason": None, "rationale": "Little change in tone at 50 mcg.", "team_present": ["surgeon", "pt"],
            "parents_present": True, "parents_view": "We saw no difference.", "base_revision": 0, **over}


@pytest.fixture
def team(make_user):  # type: ignore[no-untyped-def]
    return {"surgeon": make_user("surgeon"), "nurse": make_user("nurse"), "pt": make_user("pt")}


@pytest.fixture
def ctx(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield app
        db.session.rollback()
