from __future__ import annotations

from typing import Any

from flask import request, url_for
from sqlalchemy import select

from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user_id
from ..extensions import db
from ..protocol import current_protocol
from ..web import clock
from ..web.clock import to_local
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from ..web.redirects import safe_next
from . import bp
from .lookup import trial_or_404
from .models import OUTCOMES, TONE_TYPES, TRIAL_STATUSES, Patient, Trial
from .schemas import PatientEditSchema, PatientSchema, TrialEditSchema, TrialSchema
from .services import (
    EditConflict,
    TrialError,
    create_patient,
    create_trial,
    update_patient,
    update_trial,
)


@bp.get("/trials/<int:trial_id>")
@roles_required(*STAFF)
def detail(trial_id: int):
    trial = trial_or_404(trial_id)
    return render("trials/detail.html", trial=trial, day=clock.today(), statuses=TRIAL_STATUSES,
                  outcomes=OUTCOMES, tone_types=TONE_TYPES)


@bp.get("/patients")
@roles_required("admin", "surgeon")
def patients():
    rows = db.session.scalars(select(Patient).order_by(Patient.last_name, Patient.first_name)).all()
    return render("trials/patients.html", patients=rows, tone_types=TONE_TYPES)


def _patient_form(values: Any, errors: dict, status: int = 200):  # type: ignore[type-arg]
    return render("trials/patient_new.html", "trials/_patient_form.html", values=values, errors=errors,
                  tone_types=TONE_TYPES, patient=None, current=None, next=None, status=status)


@bp.route("/patients/new", methods=["GET", "POST"])
@roles_required("admin")
def patient_new():
    if request.method == "GET":
        return _patient_form({"weight_measured_on": clock.today().isoformat()}, {})
    data, errors = load_form(PatientSchema(), request.form)
    if data is None:
        return _patient_form(request.form, errors, 422)
    try:
        create_patient(data)
        db.session.commit()
    except TrialError as exc:
        db.session.rollback()
        return _patient_form(request.form, exc.errors, 422)
    return redirect_to(url_for("trials.patients"))


def _save_edit(record: Any, schema: Any, update: Any, page: Any) -> Any:
    """One edit form posted: validate, save through `update(id, data)` and commit (None), or the form again:
    422 with the messages, or 409 after a stale edit, with the record as saved meanwhile and what the user
    typed, now based on the current revision (so saving again is deliberate)."""
    data, errors = load_form(schema, request.form)
    if data is None:
        return page(record, request.form, errors, 422)
    try:
        update(record.id, data)
    except EditConflict as exc:
        db.session.rollback()
        current = db.session.get(type(record), record.id)
        assert current is not None  # an edit conflict is about a record that exists
        return page(current, {**request.form.to_dict(), "base_revision": current.revision}, exc.errors, 409,
                    current=current)
    except TrialError as exc:
        db.session.rollback()
        return page(record, request.form, exc.errors, 422)
    db.session.commit()
    return None


def _patient_edit_page(patient: Patient, values: Any, errors: dict[str, list[str]], status: int = 200,
                       current: Patient | None = None):
    return render("trials/patient_edit.html", "trials/_patient_form.html", patient=patient, values=values,
                  errors=errors, tone_types=TONE_TYPES, current=current, next=safe_next(request.values.get("next")),
                  status=status)


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "surgeon")
def patient_edit(patient_id: int):
    """Correct a child's details or record a new weight (with the date it was measured)."""
    patient = db.get_or_404(Patient, patient_id, description="No such child.")
    if request.method == "GET":
        values = {name: getattr(patient, name) for name in PATIENT_FIELDS} | {"base_revision": patient.revision}
        return _patient_edit_page(patient, values, {})
    refused = _save_edit(patient, PatientEditSchema(), update_patient, _patient_edit_page)
    return refused or redirect_to(safe_next(request.values.get("next")) or url_for("trials.patients"))


PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "mrn", "weight_kg", "weight_measured_on", "gmfcs_level",
                  "diagnosis", "tone_type")


def _trial_edit_page(trial: Trial, values: Any, errors: dict[str, list[str]], status: int = 200,
                     current: Trial | None = None):
    return render("trials/trial_edit.html", "trials/_trial_edit_form.html", trial=trial, values=values,
                  errors=errors, current=current, status=status)


@bp.route("/trials/<int:trial_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "surgeon")
def trial_edit(trial_id: int):
    """Correct a trial's first day, bed or catheter placement."""
    trial = trial_or_404(trial_id)
    if request.method == "GET":
        placed = to_local(trial.catheter_placed_at)
        values = {"start_date": trial.start_date.isoformat(), "bed": trial.bed,
                  "catheter_placed_at": placed.strftime("%Y-%m-%dT%H:%M") if placed else None,
                  "base_revision": trial.revision}
        return _trial_edit_page(trial, values, {})
    refused = _save_edit(trial, TrialEditSchema(), update_trial, _trial_edit_page)
    return refused or redirect_to(url_for("trials.detail", trial_id=trial.id))


def _trial_form(values, errors, status=200):
    patients = db.session.scalars(select(Patient).order_by(Patient.last_name, Patient.first_name)).all()
    return render("trials/trial_new.html", "trials/_trial_form.html", values=values, errors=errors,
                  patients=patients, protocol=current_protocol(), status=status)


@bp.route("/trials/new", methods=["GET", "POST"])
@roles_required("admin", "surgeon")
def trial_new():
    if request.method == "GET":
        protocol = current_protocol()
        defaults = {"start_date": clock.today().isoformat(), "dose_time": protocol.default_dose_time,
                    "day1_dose_mcg": f"{protocol.day1_default_mcg.normalize():f}",
                    "patient_id": request.args.get("patient_id", "")}
        return _trial_form(defaults, {})
    data, errors = load_form(TrialSchema(), request.form)
    if data is None:
        return _trial_form(request.form, errors, 422)
    try:
        trial = create_trial(data, created_by_id=current_user_id())
        db.session.commit()
    except TrialError as exc:
        db.session.rollback()
        return _trial_form(request.form, exc.errors, 422)
    return redirect_to(url_for("trials.detail", trial_id=trial.id))
