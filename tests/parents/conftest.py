"""Helpers for parent-link tests: a child whose trial has a dose, assessments and a decision, made through the
real services (the decision row is inserted directly: its service belongs to server/decisions)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import Flask

from server.extensions import db
from tests.assessments.conftest import form, loaded

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for record_dose, so every dose time of a test trial is past
STAFF_NAMES = ("Drzed Surgeonname", "Nurseworth Hale", "Physio Quill")
SECRET_RATIONALE = "Discussed with Drzed Surgeonname at the bedside"


@dataclass(frozen=True)
class Child:
    trial_id: int
    first_name: str
    last_name: str
    mrn: str
    date_of_birth: date
    bed: str
    surgeon: int


@pytest.fixture
def staff(app: Flask, make_user):  # type: ignore[no-untyped-def]
    """A surgeon, a nurse and a PT with recognisable display names (which a parent's page must never show)."""
    from server.auth.models import User

    ids = {"surgeon": make_user("surgeon"), "nurse": make_user("nurse"), "pt": make_user("pt")}
    with app.app_context():
        for (_, uid), name in zip(ids.items(), STAFF_NAMES, strict=True):
            db.session.get(User, uid).display_name = name
        db.session.commit()
    return ids


def _day_id(trial_id: int, number: int) -> int:
    from server.trials.models import Trial

    trial = db.session.get(Trial, trial_id)
    assert trial is not None
    return next(d.id for d in trial.days if d.day_number == number)


def give(trial_id: int, number: int, staff: dict[str, int], mcg: str, at: time) -> None:
    """A dose recorded through the dosing service, as on the ward."""
    from server.dosing.services import record_dose

    record_dose(_day_id(trial_id, number), {"given_time": at, "dose_mcg": Decimal(mcg), "route": "catheter",
                                            "given_by_id": staff["nurse"], "checked_by_id": staff["surgeon"]},
                recorded_by_id=staff["surgeon"], now=LATER)
    db.session.commit()


def assess(trial_id: int, number: int, phase: str, grade: str, pt: int, at: datetime) -> None:
    """A full lower-limb assessment through the assessment service, as the PT's phone sends it."""
    from server.assessments.services import record_assessment

    record_assessment(loaded(form(trial_id, day_number=number, phase=phase, grade=grade)), author_id=pt,
                      recorded_at=at, entry_id=str(uuid.uuid4()), device_id="phone-1")
    db.session.commit()


def decide(trial_id: int, number: int, surgeon: int, step: str, mcg: str | None) -> None:
    from server.decisions.models import DayDecision

    db.session.add(DayDecision(trial_day_id=_day_id(trial_id, number), revision=1, effect="inadequate",
                               next_step=step, next_dose_mcg=Decimal(mcg) if mcg else None,
                               rationale=SECRET_RATIONALE, team_present=["surgeon", "pt"], parents_present=True,
                               parents_view="Mum said the legs felt the same", decided_by_id=surgeon))
    db.session.commit()


@pytest.fixture
def child(app: Flask, make_patient, make_trial, staff):  # type: ignore[no-untyped-def]
    """Factory: a child on day 1 today, with (unless bare=True) 50 mcg given at 09:05, MAS 2 before and 1 after
    (a mean change of -1), and the team's decision to escalate to 75 mcg tomorrow."""
    from server.web import clock

    def _make(first_name: str = "Ada", *, bare: bool = False, start: date | None = None) -> Child:
        n = uuid.uuid4().hex[:6]
        last, mrn, dob, bed = f"Zebedee{n}", f"MRN-{n}", date(2018, 3, 14), f"Q{n[:3]}"
        patient = make_patient(first_name=first_name, last_name=last, mrn=mrn, date_of_birth=dob)
        with app.app_context():
            start_day = start or clock.today()
        trial_id = make_trial(patient, bed=bed, start_date=start_day, dose_time=time(9, 0))
        if not bare:
            with app.app_context():
                at = datetime.combine(start_day, time(8, 0), tzinfo=UTC)
                give(trial_id, 1, staff, "50", time(9, 5))
                assess(trial_id, 1, "baseline", "2", staff["pt"], at)
                assess(trial_id, 1, "post_dose", "1", staff["pt"], at + timedelta(hours=5))
                decide(trial_id, 1, staff["surgeon"], "escalate", "75")
        return Child(trial_id, first_name, last, mrn, dob, bed, staff["surgeon"])

    return _make


def token_in(html: str) -> str:
    """The token in the link shown once after making it."""
    m = re.search(r"http://localhost/p/([A-Za-z0-9_-]+)", html)
    assert m, "no link shown"
    return m.group(1)
