"""Dosing pages. Views parse, check access, call the service, render; the rules live in services.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response, abort, request, url_for
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as ResponseBase

from ..auth.decorators import roles_required
from ..auth.session import current_user_id, device_header
from ..extensions import db
from ..protocol import current_protocol, format_mcg
from ..trials.lookup import day_or_404, trial_or_404
from ..trials.models import Trial, TrialDay
from ..web import clock
from ..web.clock import hospital_tz
from ..web.filters import hm
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from . import bp, schedule, vitals
from .models import DAY_STATUSES, PLAN_ACTIONS, ROUTES, DoseAdministration
from .schemas import (
    AmendSchema,
    DoseSchema,
    EscalationResponseSchema,
    HoldSchema,
    ObservationSchema,
    PlanSchema,
    VoidSchema,
)
from .services import (
    DoseConflict,
    DosingError,
    PlanConflict,
    amend_dose,
    clinical_staff,
    day_monitoring,
    describe_dose,
    dose_history,
    earliest_next_bolus,
    escalation_responses,
    hold_dose,
    open_escalations,
    record_dose,
    record_escalation_response,
    record_observation,
    set_plan,
    trial_dosing,
    void_dose,
    ward_schedule,
)

WARD = ("nurse", "surgeon", "admin")


@dataclass(frozen=True)
class OverridePreview:
    dose: Decimal | None = None  # a dose above the ceiling, within the absolute maximum: to confirm
    text: str = ""  # "125 mcg = 2.50 mL = 5.21 mcg/kg (24.0 kg)"
    confirmed: bool = False  # the form already confirms this very dose
    message: str = ""  # why there is nothing to confirm (e.g. above the absolute maximum)


@bp.app_template_global("override_preview")
def override_preview(values: Any, weight_kg: Decimal | None) -> OverridePreview:
    """What the override's confirmation shows for the values typed so far (see _override_confirm.html)."""
    protocol = current_protocol()
    if (values.get("dose_mcg") or "other") != "other":
        return OverridePreview()
    try:
        dose = Decimal(str(values.get("other_dose_mcg") or "").strip())
    except ArithmeticError:
        return OverridePreview()
    if not dose.is_finite() or dose <= protocol.ceiling_mcg:
        return OverridePreview()
    too_high = protocol.above_absolute_max(dose)
    if too_high:
        return OverridePreview(message=too_high)
    dose = dose.quantize(Decimal("0.1"))
    try:
        confirmed = Decimal(str(values.get("override_confirm") or "").strip()) == dose
    except ArithmeticError:
        confirmed = False
    return OverridePreview(dose=dose, text=describe_dose(dose, protocol, weight_kg), confirmed=confirmed)


@bp.app_context_processor
def _dosing_globals() -> dict[str, Any]:
    return {"status_labels": schedule.STATUS_LABELS}


@bp.get("/trials/<int:trial_id>/override-check")
@roles_required("surgeon")
def override_check(trial_id: int):
    """The override's confirmation for the dose typed so far (htmx, as the surgeon types)."""
    t = trial_or_404(trial_id, options=[selectinload(Trial.patient)])
    values = {"dose_mcg": "other", "other_dose_mcg": request.args.get("other_dose_mcg", "")[:20]}
    return render("dosing/_override_confirm.html", values=values, errors={}, weight=t.patient.weight_kg,
                  protocol=current_protocol())


# --- nurse: the ward ----------------------------------------------------------------------------------------------

@bp.get("/ward")
@roles_required(*WARD)
def ward():
    now = clock.now()
    rows = ward_schedule(clock.today(), now)
    return render("dosing/ward.html", "dosing/_ward_rows.html", rows=rows, now=now, day=clock.today(),
                  protocol=current_protocol())


@bp.get("/trials/<int:trial_id>/dosing")
@roles_required(*WARD)
def trial(trial_id: int):
    view = trial_dosing(trial_id) or abort(404, description="No such trial.")
    return render("dosing/trial.html", view=view, today=clock.today(), day_statuses=DAY_STATUSES,
                  plan_actions=PLAN_ACTIONS, protocol=current_protocol())


# --- surgeon: plan, hold, record ----------------------------------------------------------------------------------

def _dose_value(value: Any) -> str:
    return format_mcg(value) if value is not None else ""


def _plan_page(day: TrialDay, *, plan_values: Any = None, plan_errors: dict[str, list[str]] | None = None,
               hold_values: Any = None, hold_errors: dict[str, list[str]] | None = None,
               conflict: PlanConflict | None = None, status: int = 200) -> Response:
    view = trial_dosing(day.trial_id)
    assert view is not None
    defaults = {"dose_mcg": _dose_value(day.planned_dose_mcg or current_protocol().day1_default_mcg),
                "planned_time": hm(day.planned_at)[:5] if day.planned_at else current_protocol().default_dose_time,
                "base_revision": day.revision}
    return render("dosing/plan.html", "dosing/_plan_body.html", day=day, view=view,
                  changes=view.changes.get(day.id, []), given=view.doses.get(day.id),
                  plan_values=plan_values or defaults, plan_errors=plan_errors or {},
                  hold_values=hold_values or {"base_revision": day.revision, "action": "hold"},
                  hold_errors=hold_errors or {}, conflict=conflict, protocol=current_protocol(),
                  day_statuses=DAY_STATUSES, plan_actions=PLAN_ACTIONS, status=status)


def _with_revision(form: MultiDict[str, str], revision: int) -> dict[str, Any]:
    """What the user typed, based on the current revision (after a conflict they may save it deliberately)."""
    values: dict[str, Any] = form.to_dict()
    values["base_revision"] = revision
    return values


def _change_plan(day: TrialDay, schema: Any, change: Any, form: str) -> ResponseBase:
    """Plan or hold a day's dose: one way to validate, apply, keep a refused stale version, and answer.
    `form` names the form on the plan page ("plan" or "hold") whose values and errors are shown again."""
    data, errors = load_form(schema, request.form)
    if data is None:
        shown: dict[str, Any] = {f"{form}_values": request.form, f"{form}_errors": errors}
        return _plan_page(day, **shown, status=422)
    try:
        change(day.id, data, author_id=current_user_id())
        db.session.commit()
    except DosingError as exc:
        db.session.rollback()
        refused: dict[str, Any] = {f"{form}_values": request.form, f"{form}_errors": exc.errors}
        return _plan_page(day, **refused, status=422)
    except PlanConflict as exc:
        db.session.commit()  # keep the refused version beside the current one
        return _plan_page(day, **{f"{form}_values": _with_revision(request.form, day.revision)}, conflict=exc,
                          status=409)
    return redirect_to(url_for("dosing.trial", trial_id=day.trial_id, _anchor=f"day-{day.day_number}"))


@bp.route("/days/<int:day_id>/plan", methods=["GET", "POST"])
@roles_required("surgeon")
def plan(day_id: int):
    day = day_or_404(day_id)
    if request.method == "GET":
        return _plan_page(day)
    return _change_plan(day, PlanSchema(), set_plan, "plan")


@bp.post("/days/<int:day_id>/hold")
@roles_required("surgeon")
def hold(day_id: int):
    return _change_plan(day_or_404(day_id), HoldSchema(), hold_dose, "hold")


def _dose_form(day: TrialDay, values: Any, errors: dict[str, list[str]], status: int = 200) -> Response:
    view = trial_dosing(day.trial_id)
    assert view is not None
    given = view.doses.get(day.id)
    earliest = earliest_next_bolus(day) if given is None else None
    not_before = earliest if earliest is not None and earliest.astimezone(hospital_tz()).date() >= day.date else None
    return render("dosing/dose.html", "dosing/_dose_form.html", day=day, view=view, values=values, errors=errors,
                  staff=clinical_staff(), routes=ROUTES, protocol=current_protocol(), given=given,
                  not_before=not_before, status=status)


@bp.route("/days/<int:day_id>/dose", methods=["GET", "POST"])
@roles_required("surgeon")
def record(day_id: int):
    day = day_or_404(day_id)
    if request.method == "GET":
        now = clock.local_now()
        given_time = now.strftime("%H:%M") if day.date == now.date() else (
            hm(day.planned_at)[:5] if day.planned_at else "")
        defaults = {"given_time": given_time, "dose_mcg": _dose_value(day.planned_dose_mcg), "route": "catheter",
                    "given_by_id": current_user_id()}
        return _dose_form(day, defaults, {})
    data, errors = load_form(DoseSchema(), request.form)
    if data is None:
        return _dose_form(day, request.form, errors, 422)
    try:
        record_dose(day.id, data, recorded_by_id=current_user_id())
        db.session.commit()
    except DosingError as exc:
        db.session.rollback()
        return _dose_form(day, request.form, exc.errors, 422)
    return redirect_to(url_for("dosing.trial", trial_id=day.trial_id, _anchor=f"day-{day.day_number}"))


# --- surgeon: correct a recorded dose (append-only) ----------------------------------------------------------------

def _correct_page(record: DoseAdministration, *, amend_values: Any = None, amend_errors: dict | None = None,  # type: ignore[type-arg]
                  void_values: Any = None, void_errors: dict | None = None, status: int = 200) -> Response:  # type: ignore[type-arg]
    day = record.trial_day
    view = trial_dosing(day.trial_id)
    assert view is not None
    if amend_values is None:
        amend_values = {"given_time": hm(record.given_at)[:5], "checked_by_id": record.checked_by_id,
                        "base_version": record.version}
        amend_values |= ({"dose_mcg": _dose_value(record.dose_mcg)} if record.dose_mcg in
                         current_protocol().allowed_bolus_mcg else
                         {"dose_mcg": "other", "other_dose_mcg": _dose_value(record.dose_mcg),
                          "override_reason": record.override_reason or ""})
    return render("dosing/correct.html", "dosing/_correct_body.html", record=record, day=day, view=view,
                  history=dose_history(day.id), amend_values=amend_values, amend_errors=amend_errors or {},
                  void_values=void_values or {"base_version": record.version}, void_errors=void_errors or {},
                  staff=clinical_staff(), protocol=current_protocol(), status=status)


def _record_or_404(dose_id: int) -> DoseAdministration:
    return db.get_or_404(DoseAdministration, dose_id, description="No such dose record.")


@bp.get("/doses/<int:dose_id>/correct")
@roles_required("surgeon")
def correct(dose_id: int):
    return _correct_page(_record_or_404(dose_id))


def _change_record(dose_id: int, schema: Any, change: Any, form: str) -> ResponseBase:
    """Amend or void a recorded dose: validate, apply (a new version), and answer; `form` names the form on the
    correction page ("amend" or "void") whose values and errors are shown again."""
    record = _record_or_404(dose_id)
    data, errors = load_form(schema, request.form)
    status = 422
    if data is not None:
        try:
            change(record.id, data, author_id=current_user_id())
            db.session.commit()
            day = record.trial_day
            return redirect_to(url_for("dosing.trial", trial_id=day.trial_id, _anchor=f"day-{day.day_number}"))
        except DosingError as exc:  # DoseConflict (a stale version) is a DosingError answered 409
            db.session.rollback()
            errors, status = exc.errors, 409 if isinstance(exc, DoseConflict) else 422
    shown: dict[str, Any] = {f"{form}_values": request.form, f"{form}_errors": errors}
    return _correct_page(record, **shown, status=status)


@bp.post("/doses/<int:dose_id>/amend")
@roles_required("surgeon")
def amend(dose_id: int):
    return _change_record(dose_id, AmendSchema(), amend_dose, "amend")


@bp.post("/doses/<int:dose_id>/void")
@roles_required("surgeon")
def void(dose_id: int):
    return _change_record(dose_id, VoidSchema(), void_dose, "void")


# --- nurse: monitoring and observations ---------------------------------------------------------------------------

def _monitoring_page(day_id: int, *, values: Any = None, errors: dict[str, list[str]] | None = None,
                     status: int = 200) -> Response:
    now = clock.now()
    view = day_monitoring(day_id, now) or abort(404, description="No such trial day.")
    escalation = open_escalations([view.day.trial_id]).get(view.day.trial_id)
    if values is None:
        values = {"acted_by_id": current_user_id(),
                  "acted_at": now.astimezone(hospital_tz()).strftime("%Y-%m-%dT%H:%M"),
                  "escalation_key": escalation.key if escalation else ""}
    elif escalation is not None:
        values = _with_key(values, escalation.key)
    return render("dosing/monitoring.html", m=view, now=now, protocol=current_protocol(),
                  vitals=vitals, effects=vitals.ADVERSE_EFFECTS, sedation=vitals.SEDATION_SCALE,
                  escalation=escalation, responses=escalation_responses(view.day.trial_id), staff=clinical_staff(),
                  values=values, errors=errors or {}, status=status)


def _with_key(form: Any, key: int) -> dict[str, Any]:
    """What the user typed, against the escalation as it is now (after a refusal they may save it again)."""
    values: dict[str, Any] = form.to_dict() if hasattr(form, "to_dict") else dict(form)
    values["escalation_key"] = key
    return values


@bp.get("/days/<int:day_id>/monitoring")
@roles_required(*WARD)
def monitoring(day_id: int):
    return _monitoring_page(day_id)


@bp.post("/days/<int:day_id>/escalation")
@roles_required("nurse", "surgeon")
def escalation_acted_on(day_id: int):
    """A nurse or neurosurgeon records that the open escalation was acted on (who, when, what was done)."""
    day = day_or_404(day_id)
    data, errors = load_form(EscalationResponseSchema(), request.form)
    if data is None:
        return _monitoring_page(day.id, values=request.form, errors=errors, status=422)
    try:
        record_escalation_response(day.trial_id, data, author_id=current_user_id())
        db.session.commit()
    except DosingError as exc:
        db.session.rollback()
        return _monitoring_page(day.id, values=request.form, errors=exc.errors, status=422)
    return redirect_to(url_for("dosing.monitoring", day_id=day.id, _anchor="escalation-history"))


def _observation_form(day: TrialDay, values: Any, errors: dict[str, list[str]], status: int = 200) -> Response:
    entry_id = values.get("entry_id") or str(uuid.uuid4())
    return render("dosing/observe.html", "dosing/_observation_form.html", day=day, values=values, errors=errors,
                  entry_id=entry_id, effects=vitals.ADVERSE_EFFECTS, sedation=vitals.SEDATION_SCALE,
                  chosen=set(values.getlist("effects") if hasattr(values, "getlist") else values.get("effects", [])),
                  status=status)


@bp.route("/days/<int:day_id>/observations", methods=["GET", "POST"])
@roles_required("nurse")
def observe(day_id: int):
    """Plain-POST path of the outbox-ready form (kind "dosing.observe"; the replay is offline.handle_observe)."""
    day = day_or_404(day_id)
    if request.method == "GET":
        return _observation_form(day, {}, {})
    data, errors = load_form(ObservationSchema(), request.form)
    if data is not None and data["trial_day_id"] != day.id:
        abort(400, description="This form belongs to another trial day. Reload the page.")
    if data is None:
        return _observation_form(day, request.form, errors, 422)
    try:
        obs = record_observation(data, author_id=current_user_id(), entry_id=data.get("entry_id") or str(uuid.uuid4()),
                                 device_id=device_header())
        db.session.commit()
    except DosingError as exc:
        db.session.rollback()
        return _observation_form(day, request.form, exc.errors, 422)
    return redirect_to(url_for("dosing.monitoring", day_id=day.id, _anchor=f"obs-{obs.id}"))
