from __future__ import annotations

from flask import request, url_for
from sqlalchemy import select

from ..assessments.today import NEEDS, pt_days
from ..auth.decorators import roles_required
from ..auth.session import current_user_id
from ..decisions.services import waiting_for
from ..dosing.services import open_escalations
from ..extensions import db
from ..protocol import current_protocol
from ..web.clock import local_today
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from ..web.types import utcnow
from . import bp
from .lookup import trial_or_404
from .models import OUTCOMES, TONE_TYPES, TRIAL_STATUSES, Patient
from .schemas import PatientSchema, TrialSchema
from .services import TrialError, active_trials_on, create_patient, create_trial, trials_query

STAFF = ("pt", "nurse", "surgeon", "admin")


@bp.get("/today")
@roles_required("pt")
def today():  # type: ignore[no-untyped-def]
    day = local_today()
    now = utcnow()
    trials = active_trials_on(day)
    escalations = open_escalations([t.id for t in trials])
    rows = pt_days(trials, day, now)
    # An open escalation first, then what needs the PT now (stable: beds stay in order within each group).
    rows.sort(key=lambda r: (r.trial.id not in escalations, NEEDS.index(r.needs)))
    return render("trials/today.html", rows=rows, day=day, escalations=escalations, now=now)


@bp.get("/trials")
@roles_required("surgeon", "admin")
def index():  # type: ignore[no-untyped-def]
    status = request.args.get("status")
    statuses = (status,) if status in TRIAL_STATUSES else None
    trials = list(db.session.scalars(trials_query(statuses=statuses)).all())
    escalations = open_escalations([t.id for t in trials])
    trials.sort(key=lambda t: t.id not in escalations)  # an open escalation first, whatever the trial's status
    return render("trials/index.html", "trials/_trial_list.html", trials=trials, chosen_status=status,
                  waiting=waiting_for(trials, utcnow()), escalations=escalations, now=utcnow(),
                  statuses=TRIAL_STATUSES, day=local_today())


@bp.get("/trials/<int:trial_id>")
@roles_required(*STAFF)
def detail(trial_id: int):  # type: ignore[no-untyped-def]
    trial = trial_or_404(trial_id)
    return render("trials/detail.html", trial=trial, day=local_today(), statuses=TRIAL_STATUSES,
                  outcomes=OUTCOMES, tone_types=TONE_TYPES)


@bp.get("/patients")
@roles_required("admin", "surgeon")
def patients():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(Patient).order_by(Patient.last_name, Patient.first_name)).all()
    return render("trials/patients.html", patients=rows, tone_types=TONE_TYPES)


def _patient_form(values: dict, errors: dict, status: int = 200):  # type: ignore[no-untyped-def,type-arg]
    return render("trials/patient_new.html", "trials/_patient_form.html", values=values, errors=errors,
                  tone_types=TONE_TYPES, status=status)


@bp.route("/patients/new", methods=["GET", "POST"])
@roles_required("admin")
def patient_new():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _patient_form({}, {})
    data, errors = load_form(PatientSchema(), request.form)
    if data is None:
        return _patient_form(request.form, errors, 422)
    try:
        create_patient(data)
        db.session.commit()
    except TrialError as exc:
        return _patient_form(request.form, exc.errors, 422)
    return redirect_to(url_for("trials.patients"))


def _trial_form(values, errors, status=200):  # type: ignore[no-untyped-def]
    patients = db.session.scalars(select(Patient).order_by(Patient.last_name, Patient.first_name)).all()
    return render("trials/trial_new.html", "trials/_trial_form.html", values=values, errors=errors,
                  patients=patients, protocol=current_protocol(), status=status)


@bp.route("/trials/new", methods=["GET", "POST"])
@roles_required("admin", "surgeon")
def trial_new():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        protocol = current_protocol()
        defaults = {"start_date": local_today().isoformat(), "dose_time": protocol.default_dose_time,
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
        return _trial_form(request.form, exc.errors, 422)
    return redirect_to(url_for("trials.detail", trial_id=trial.id))
