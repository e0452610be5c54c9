"""Export fixtures: the demo data as `flask demo-data` loads it, and trials with as many days, assessments and
observations as a test asks for (written through the features' services, as on the ward)."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for the dose service: every dose of a test trial is in the past


@pytest.fixture
def demo(app: Flask) -> dict[str, int]:
    """`flask demo-data`: the four demo children; their trial ids by MRN (Daniel, DEMO-1004, is completed)."""
    from server.cli import load_demo_data
    from server.trials.models import Patient, Trial

    with app.app_context():
        load_demo_data()
        db.session.commit()
        return {mrn: tid for mrn, tid in db.session.execute(select(Patient.mrn, Trial.id).join(Trial.patient))}


def assessment_payload(trial_id: int, day_number: int, phase: str, *, repeat: bool = False) -> dict[str, str]:
    post = phase == "post_dose"
    data = {"trial_id": str(trial_id), "day_number": str(day_number), "phase": phase,
            "mas.hip_adductors.left": "1" if post else "2", "mas.hip_adductors.right": "1+",
            "tardieu.gastrocnemius.left.r1": "-15", "tardieu.gastrocnemius.left.r2": "5",
            "tardieu.gastrocnemius.left.quality": "2", "tardieu.gastrocnemius.right.r1": "-10",
            "tardieu.gastrocnemius.right.r2": "10", "tardieu.gastrocnemius.right.quality": "1",
            "gait.walk_10m_seconds": "12.5" if post else "14.25", "function.standing": "with_support",
            "mas.soleus.not_tested": "left", "mas.soleus.not_tested_reason": "Cast on the left leg",
            "mas.soleus.right": "3"}
    if repeat:
        data["repeat"] = "1"
    return data


@pytest.fixture
def build_trial(app: Flask, make_trial, make_user):  # type: ignore[no-untyped-def]
    """Factory: a trial that began 10 days ago with `days` days dosed, `assessments` baseline and post-dose
    assessments on each (the first of each phase, then repeats) and `observations` sets of observations a day."""
    staff = {"surgeon": make_user("surgeon"), "nurse": make_user("nurse"), "pt": make_user("pt")}

    def _build(days: int = 1, assessments: int = 1, observations: int = 1, **trial: Any) -> int:
        from server.assessments.schemas import schema_for
        from server.assessments.services import record_assessment
        from server.dosing.services import record_dose, record_observation
        from server.trials.models import Trial
        from server.web import clock
        from server.web.clock import local_to_utc
        from server.web.forms import load_form

        with app.app_context():
            start = clock.today() - timedelta(days=10)
        trial_id = make_trial(start_date=start, **trial)
        with app.app_context():
            t = db.session.get(Trial, trial_id)
            for day in sorted(t.days, key=lambda d: d.day_number)[:days]:
                record_dose(day.id, {"given_time": time(9, 0), "dose_mcg": Decimal("50"), "route": "catheter",
                                     "given_by_id": staff["surgeon"], "checked_by_id": staff["nurse"]},
                            recorded_by_id=staff["surgeon"], now=LATER)
                for n in range(assessments):
                    for phase, at in (("baseline", time(8, 0)), ("post_dose", time(13, 0))):
                        payload = assessment_payload(trial_id, day.day_number, phase, repeat=n > 0)
                        data, errors = load_form(schema_for(payload), payload)  # type: ignore[arg-type]
                        assert data is not None, errors
                        when = local_to_utc(day.date, at) + timedelta(minutes=n)
                        record_assessment(data, author_id=staff["pt"], recorded_at=when, entry_id=str(uuid.uuid4()))
                for n in range(observations):
                    taken = local_to_utc(day.date, time(9, 15)) + timedelta(minutes=15 * n)
                    record_observation({"trial_day_id": day.id, "taken_at": None, "heart_rate": 96 + n,
                                        "resp_rate": 22, "spo2": 97, "bp_systolic": 100, "bp_diastolic": 60,
                                        "temperature_c": Decimal("36.9"), "sedation_score": 1, "pain_score": 2,
                                        "effects": ["nausea_vomiting"] if n == 0 else [], "notes": None},
                                       author_id=staff["nurse"], entry_id=str(uuid.uuid4()), recorded_at=taken,
                                       now=LATER)
            db.session.commit()
        return trial_id

    _build.staff = staff  # type: ignore[attr-defined]
    return _build


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def unzip(body: bytes) -> dict[str, str]:
    """The files of an export zip by file name (without the folder)."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return {name.rsplit("/", 1)[-1]: z.read(name).decode("utf-8") for name in z.namelist()}


def export(client: Any, **form: str) -> Any:
    return client.post("/exports", data={"file": "zip", **form})


Export = Callable[..., Any]
