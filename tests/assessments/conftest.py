"""Helpers for assessment tests: a valid form, a PT, a dose on record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from server.extensions import db

LOWER = ("hip_flexors", "hip_adductors", "hip_internal_rotators", "knee_flexors", "knee_extensors", "gastrocnemius",
         "soleus")


def form(trial_id: int, day_number: int = 1, phase: str = "baseline", grade: str = "2", **extra: str) -> dict[str, str]:
    """A full lower-limb assessment as form fields (strings), like the phone sends."""
    data = {"trial_id": str(trial_id), "day_number": str(day_number), "phase": phase}
    for group in LOWER:
        data[f"mas.{group}.left"] = grade
        data[f"mas.{group}.right"] = grade
    for side in ("left", "right"):
        data[f"rom.popliteal_angle.{side}"] = "50"
        data[f"tardieu.hamstrings.{side}.r1"] = "70"
        data[f"tardieu.hamstrings.{side}.r2"] = "45"
        data[f"tardieu.hamstrings.{side}.quality"] = "2"
    data["gait.walk_10m_seconds"] = "12.5"
    data.update({k.replace("__", "."): v for k, v in extra.items()})
    return data


def loaded(payload: dict[str, str]) -> dict[str, Any]:
    from server.assessments.schemas import AssessmentSchema
    from server.web.forms import load_form

    data, errors = load_form(AssessmentSchema(), payload)  # type: ignore[arg-type]
    assert errors == {}
    assert data is not None
    return data


def give_dose(trial_id: int, day_number: int, given_at: datetime, user_id: int, mcg: str = "50") -> int:
    """A dose given at `given_at` on the trial's day, recorded through server/dosing's one write path
    (`record_dose`, every rule applied) as on the ward: `user_id` (a nurse or surgeon) gave and recorded it, a
    second nurse double-checked it. Commits; returns the dose record's id."""
    from server.admin.services import create_staff
    from server.auth.models import User
    from server.dosing.services import clinical_staff, record_dose
    from server.trials.models import Trial
    from server.web.clock import hospital_tz

    trial = db.session.get(Trial, trial_id)
    assert trial is not None
    day = next(d for d in trial.days if d.day_number == day_number)
    local = given_at.astimezone(hospital_tz())
    assert local.date() == day.date, f"a day-{day_number} dose is given on {day.date}, not {local.date()}"
    checker = next((u.id for u in clinical_staff() if u.id != user_id), None)
    if checker is None:
        checker = create_staff({"username": f"checker{user_id}", "display_name": "Second nurse",
                                "password": "correct-horse", "roles": ["nurse"]}).id
    assert db.session.get(User, user_id) is not None
    dose = record_dose(day.id, {"given_time": local.time(), "dose_mcg": Decimal(mcg), "route": "catheter",
                                "given_by_id": user_id, "checked_by_id": checker},
                       recorded_by_id=user_id, now=given_at)
    db.session.commit()
    return dose.id
