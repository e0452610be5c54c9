"""Patients and trials: the one write path (the HTML forms and any later API call these).

Like every service, these flush and never commit: the caller (a view, the sync endpoint, the CLI) owns the
transaction, so a sync batch stays one transaction with a savepoint per entry.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..protocol import current_protocol
from ..web.clock import hospital_tz, local_to_utc
from .models import Patient, Trial, TrialDay


class TrialError(Exception):
    """Refused input, with messages by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


def create_patient(data: dict[str, Any]) -> Patient:
    if db.session.scalar(select(Patient.id).where(Patient.mrn == data["mrn"])) is not None:
        raise TrialError({"mrn": ["A child with this hospital number is already registered."]})
    patient = Patient(**data)
    db.session.add(patient)
    db.session.flush()
    return patient


def create_trial(data: dict[str, Any], created_by_id: int | None) -> Trial:
    patient = db.session.get(Patient, data["patient_id"])
    if patient is None:
        raise TrialError({"patient_id": ["Unknown child: choose one from the list."]})
    open_trial = db.session.scalar(select(Trial.id).where(
        Trial.patient_id == patient.id, Trial.status.in_(("planned", "active"))))
    if open_trial is not None:
        raise TrialError({"patient_id": ["This child already has an open trial."]})
    catheter: datetime | None = data.get("catheter_placed_at")
    if catheter is not None:
        catheter = catheter.replace(tzinfo=hospital_tz())
    protocol = current_protocol()
    start: date = data["start_date"]
    trial = Trial(patient=patient, status="active", bed=data.get("bed"), start_date=start,
                  catheter_placed_at=catheter, small_child=bool(data.get("small_child")),
                  created_by_id=created_by_id, revision=1)
    for n in range(1, protocol.trial_days + 1):
        day = start + timedelta(days=n - 1)
        trial.days.append(TrialDay(
            day_number=n, date=day, revision=1,
            planned_dose_mcg=data["day1_dose_mcg"] if n == 1 else None,
            planned_at=local_to_utc(day, data["dose_time"]) if n == 1 else None))
    db.session.add(trial)
    db.session.flush()
    return trial


def earliest_record_time(trial: Trial) -> datetime:
    """The earliest plausible time of a record made for this trial (a phone's clock before it is wrong): the
    start of the day before day 1, in hospital time (the child is admitted the day before), or the catheter's
    placement if that was earlier."""
    admitted = datetime.combine(trial.start_date - timedelta(days=1), datetime.min.time(), tzinfo=hospital_tz())
    if trial.catheter_placed_at is not None and trial.catheter_placed_at < admitted:
        return trial.catheter_placed_at
    return admitted


def before_trial_message(trial: Trial, when: datetime) -> str | None:
    """Why a record saved at `when` (by the device's clock) cannot belong to this trial, or None."""
    earliest = earliest_record_time(trial)
    if when >= earliest:
        return None
    return (f"The phone's clock says this was saved on {when.date().isoformat()}, before this child's trial began "
            f"({trial.start_date.isoformat()}): set the phone's date and time, then save it again.")


def trials_query(*, statuses: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    q = select(Trial).options(selectinload(Trial.patient), selectinload(Trial.days)).order_by(
        Trial.start_date.desc(), Trial.id)
    if statuses:
        q = q.where(Trial.status.in_(statuses))
    return q


def active_trials_on(day: date) -> list[Trial]:
    """Open trials with a trial day on `day` (the ward's list for today)."""
    trials = db.session.scalars(trials_query(statuses=("active",))).all()
    return sorted((t for t in trials if t.day_on(day) is not None), key=lambda t: (t.bed or "", t.id))
