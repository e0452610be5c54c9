"""Dosing fixtures: staff of each kind, and a trial on a fixed date so times are exact."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from server.extensions import db

DAY = date(2026, 11, 25)  # London is on GMT (UTC) that day


@pytest.fixture
def staff(make_user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {"surgeon": make_user("surgeon"), "nurse": make_user("nurse"), "nurse2": make_user("nurse"),
            "pt": make_user("pt")}


@pytest.fixture
def trial_on(make_trial):  # type: ignore[no-untyped-def]
    """A trial whose day 1 is `start` (default 25 Nov 2026), 50 mcg planned at 09:00."""

    def _make(start: date = DAY, **overrides: Any) -> int:
        return make_trial(start_date=start, **overrides)

    return _make


def day_id(app: Flask, trial_id: int, number: int) -> int:
    from server.trials.models import Trial

    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        return next(d.id for d in trial.days if d.day_number == number)


def dose_form(staff: dict[str, int], **over: Any) -> dict[str, str]:
    return {"given_time": "09:00", "dose_mcg": "50", "route": "catheter", "given_by_id": str(staff["surgeon"]),
            "checked_by_id": str(staff["nurse"]), **over}


def give(app: Flask, day: int, staff: dict[str, int], at: time = time(9, 0), mcg: str = "50",
         now: datetime | None = None) -> int:
    """Record a dose through the service (with `now` so a fixed-date trial is not 'in the future')."""
    from server.dosing.services import record_dose

    with app.app_context():
        record = record_dose(day, {"given_time": at, "dose_mcg": Decimal(mcg), "override_reason": None,
                                   "route": "catheter", "given_by_id": staff["surgeon"],
                                   "checked_by_id": staff["nurse"]}, recorded_by_id=staff["surgeon"],
                             now=now or datetime(2030, 1, 1, tzinfo=UTC))
        db.session.commit()
        return record.id


def observe(app: Flask, did: int, nurse: int, at: datetime, **values: Any) -> int:
    """Chart one set of observations through the service, taken (and saved on the phone) at `at`; commit."""
    from server.dosing.services import record_observation

    with app.app_context():
        obs = record_observation({"trial_day_id": did, "taken_at": at, **values}, author_id=nurse,
                                 entry_id=str(uuid.uuid4()), recorded_at=at, now=at)
        db.session.commit()
        return obs.id
