"""Patients and trials: the one write path (the HTML forms and any later API call these).

Like every service, these flush and never commit: the caller (a view, the sync endpoint, the CLI) owns the
transaction, so a sync batch stays one transaction with a savepoint per entry.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..protocol import current_protocol
from ..web import clock
from ..web.clock import hospital_tz, local_to_utc
from ..web.forms import Refused
from .models import Patient, Trial, TrialDay

_signals = Namespace()
# Sent with the child's id, inside the edit's transaction, after a corrected date of birth is flushed: features
# that derived something from the child's age work it out again (dosing: which observations show an overdose
# sign). Trials is the shared layer, so it tells its listeners instead of importing them.
date_of_birth_corrected = _signals.signal("date-of-birth-corrected")


class TrialError(Refused):
    """Refused input, with messages by field."""


class EditConflict(TrialError):
    """An edit of a patient or a trial that began from a revision someone else has since changed: nothing was
    written; the view shows the current record beside what the user typed."""

    def __init__(self, message: str):
        super().__init__({"_form": [message]})


# A first trial day before today, or further ahead than this, is possible but unusual: the form asks for a
# confirmation (trials.schemas.TrialSchema, update_trial). DEFAULT, a plausibility check, not a clinical rule.
START_AHEAD_DAYS = 14
# A catheter placed more than this before day 1 is almost certainly a typed date gone wrong. DEFAULT.
CATHETER_BEFORE_DAYS = 7
CATHETER_FUTURE_SLACK = timedelta(minutes=5)


def start_date_question(start: date, today: date) -> str | None:
    """The confirmation a first trial day needs (in the past, or far ahead), or None."""
    if start < today:
        return f"The first trial day, {start.strftime('%-d %b %Y')}, is in the past: tick to confirm it is right."
    if start > today + timedelta(days=START_AHEAD_DAYS):
        return (f"The first trial day, {start.strftime('%-d %b %Y')}, is more than {START_AHEAD_DAYS} days ahead: "
                "tick to confirm it is right.")
    return None


def catheter_problem(placed: datetime | None, start: date, days: int, now: datetime) -> str | None:
    """Why a catheter placement time cannot be right for a trial from `start` over `days` days, or None."""
    if placed is None:
        return None
    if placed > now + CATHETER_FUTURE_SLACK:
        return "The catheter placement cannot be in the future."
    earliest = datetime.combine(start - timedelta(days=CATHETER_BEFORE_DAYS), time.min, tzinfo=hospital_tz())
    if placed < earliest:
        return (f"That is more than {CATHETER_BEFORE_DAYS} days before the first trial day "
                f"({start.strftime('%-d %b %Y')}): check the date.")
    latest = datetime.combine(start + timedelta(days=days), time.min, tzinfo=hospital_tz())
    if placed >= latest:
        return "That is after the last trial day: check the date."
    return None


def _weight_date_problem(measured: date, born: date, today: date) -> str | None:
    if measured > today:
        return "The weight cannot have been measured in the future."
    if measured < born:
        return "The weight cannot have been measured before the date of birth."
    return None


def create_patient(data: dict[str, Any]) -> Patient:
    """A new child: first_name, last_name, date_of_birth, mrn, weight_kg (and weight_measured_on, today if not
    given), gmfcs_level, diagnosis, tone_type."""
    data = {"weight_measured_on": clock.today(), **{k: v for k, v in data.items() if v is not None}}
    if db.session.scalar(select(Patient.id).where(Patient.mrn == data["mrn"])) is not None:
        raise TrialError({"mrn": ["A child with this hospital number is already registered."]})
    problem = _weight_date_problem(data["weight_measured_on"], data["date_of_birth"], clock.today())
    if problem:
        raise TrialError({"weight_measured_on": [problem]})
    patient = Patient(**data, revision=1)
    db.session.add(patient)
    db.session.flush()
    return patient


def _locked_at(model: Any, record_id: int, base_revision: int, what: str) -> Any:
    """The row to edit, locked for this transaction (FOR UPDATE) and read afresh (a copy the session loaded
    earlier must not hide another user's edit), provided it is still at `base_revision`; else EditConflict."""
    record = db.session.scalars(select(model).where(model.id == record_id).with_for_update()
                                .execution_options(populate_existing=True)).first()
    if record is None:
        raise TrialError({"_form": [f"No such {what}."]})
    if base_revision != record.revision:
        raise EditConflict(f"Someone else changed this {what} while you were editing (the current details are "
                           "shown below). Nothing was saved: check your changes and save again.")
    return record


def update_patient(patient_id: int, data: dict[str, Any]) -> Patient:
    """Correct or update a child's details (the fields of PatientSchema, and `base_revision`). A new weight
    comes with the date it was measured, never earlier than the weight it replaces: the patient's weight is the
    latest one, and every dose check reads it. Nothing changed, nothing written; any change is one new revision
    (and one audit event with before and after)."""
    patient: Patient = _locked_at(Patient, patient_id, data["base_revision"], "child")
    errors: dict[str, list[str]] = {}
    if data["mrn"] != patient.mrn and db.session.scalar(select(Patient.id).where(
            Patient.mrn == data["mrn"], Patient.id != patient.id)) is not None:
        errors["mrn"] = ["A child with this hospital number is already registered."]
    today = clock.today()
    problem = _weight_date_problem(data["weight_measured_on"], data["date_of_birth"], today)
    if problem is None and data["weight_kg"] != patient.weight_kg and data["weight_measured_on"] < \
            patient.weight_measured_on:
        problem = (f"The weight on record was measured on {patient.weight_measured_on.strftime('%-d %b %Y')}: a "
                   "new weight needs that date or a later one.")
    if problem:
        errors["weight_measured_on"] = [problem]
    if errors:
        raise TrialError(errors)
    fields = ("first_name", "last_name", "date_of_birth", "mrn", "weight_kg", "weight_measured_on", "gmfcs_level",
              "diagnosis", "tone_type")
    changed = {f: data[f] for f in fields if getattr(patient, f) != data[f]}
    if changed:
        for name, value in changed.items():
            setattr(patient, name, value)
        patient.revision += 1
        db.session.flush()
        if "date_of_birth" in changed:
            date_of_birth_corrected.send(patient.id)
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
    problem = catheter_problem(catheter, start, protocol.trial_days, clock.now())
    if problem:
        raise TrialError({"catheter_placed_at": [problem]})
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


def _has_day_records(trial: Trial) -> bool:
    """Whether anything was recorded against the trial's days (a dose, a plan change, an observation, an
    assessment, a decision, a goal rating: any table with a foreign key to trial_days), read from the schema so
    a feature added later counts too."""
    ids = [d.id for d in trial.days]
    if not ids:
        return False
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if (fk.column.table.name == TrialDay.__tablename__ and table.name != TrialDay.__tablename__
                    and db.session.execute(select(fk.parent).where(fk.parent.in_(ids)).limit(1)).first() is not None):
                return True
    return False


def update_trial(trial_id: int, data: dict[str, Any]) -> Trial:
    """Correct a trial's setup: start_date, bed, catheter_placed_at (hospital wall clock), with `base_revision`
    and `confirm_start`. The first day may move only while the trial is open and nothing has been recorded for
    any of its days; the days (and a planned dose time, at the same wall-clock time) move with it. A new first
    day in the past or far ahead needs `confirm_start` (start_date_question). Nothing changed, nothing written."""
    trial: Trial = _locked_at(Trial, trial_id, data["base_revision"], "trial")
    start: date = data["start_date"]
    catheter: datetime | None = data.get("catheter_placed_at")
    if catheter is not None:
        catheter = catheter.replace(tzinfo=hospital_tz())
    errors: dict[str, list[str]] = {}
    moved = start != trial.start_date
    if moved and not trial.is_open:
        errors["start_date"] = ["This trial is closed: its days can no longer move."]
    elif moved and _has_day_records(trial):
        errors["start_date"] = ["Doses, assessments, observations or decisions are recorded for this trial's "
                                "days, so they can no longer move. If the dates are wrong, close this trial and "
                                "start a new one."]
    elif moved and not data.get("confirm_start") and (question := start_date_question(start, clock.today())):
        errors["confirm_start"] = [question]
    problem = catheter_problem(catheter, start, len(trial.days), clock.now())
    if problem:
        errors["catheter_placed_at"] = [problem]
    if errors:
        raise TrialError(errors)
    changed = False
    if moved:
        for day in trial.days:
            day.date = start + timedelta(days=day.day_number - 1)
            if day.planned_at is not None:
                day.planned_at = local_to_utc(day.date, day.planned_at.astimezone(hospital_tz()).time())
            day.revision += 1  # a dose plan form opened before the move is stale
        trial.start_date = start
        changed = True
    for name, value in (("bed", data.get("bed")), ("catheter_placed_at", catheter)):
        if getattr(trial, name) != value:
            setattr(trial, name, value)
            changed = True
    if changed:
        trial.revision += 1
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


def trials_query(*, statuses: tuple[str, ...] | None = None):
    q = select(Trial).options(selectinload(Trial.patient), selectinload(Trial.days)).order_by(
        Trial.start_date.desc(), Trial.id)
    if statuses:
        q = q.where(Trial.status.in_(statuses))
    return q


def active_trials_on(day: date) -> list[Trial]:
    """Open trials with a trial day on `day` (the ward's list for today)."""
    trials = db.session.scalars(trials_query(statuses=("active",))).all()
    return sorted((t for t in trials if t.day_on(day) is not None), key=lambda t: (t.bed or "", t.id))
