"""The team's decisions: the trial overview, a day's decision, the candidacy outcome. Views stay thin: the
rules live in services.py."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from sqlalchemy.orm import selectinload

from ..assessments.results import DayView, trial_results
from ..assessments.scoring import fmt, signed
from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user, current_user_id
from ..dosing.services import current_dose, monitoring_ends, plans_too_soon, trial_doses
from ..extensions import db
from ..goals.services import t_scores
from ..protocol import current_protocol, format_mcg
from ..trials.lookup import day_or_404, trial_or_404
from ..trials.models import TRIAL_STATUSES, Trial, TrialDay
from ..web import clock
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from . import bp
from .schemas import DOSE_STEPS, DecisionSchema, OutcomeSchema
from .services import (
    CHOICES,
    DecisionConflict,
    DecisionError,
    candidacy_evidence,
    decision_for,
    decisions_for,
    next_day,
    outcome_evidence,
    pending_later_days,
    record_decision,
    record_outcome,
    suggested_time,
)


def _trial(trial_id: int) -> Trial:
    return trial_or_404(trial_id, options=[selectinload(Trial.patient), selectinload(Trial.days)])


def _results_by_day(trial: Trial) -> dict[int, DayView]:
    return {view.day.id: view for view in trial_results(trial)}


@bp.get("/trials/<int:trial_id>/decisions")
@roles_required(*STAFF)
def trial(trial_id: int) -> Any:
    """Every day's dose, tone result and decision, and the candidacy outcome: the team's page."""
    t = _trial(trial_id)
    return render("decisions/trial.html", trial=t, doses=trial_doses(t), results=_results_by_day(t), gas=t_scores(t),
                  decisions=decisions_for(t), choices=CHOICES, statuses=TRIAL_STATUSES, today=clock.today(),
                  fmt=fmt, signed=signed, threshold=current_protocol().tone_response_threshold)


def _day_page(day: TrialDay, values: Any = None, errors: dict[str, list[str]] | None = None,
              conflict: str | None = None, status: int = 200) -> Response:
    decision = decision_for(day)
    given = current_dose(day.id)
    tomorrow = next_day(day)
    if values is None:
        values = _decision_values(day, decision, given)
    too_soon = plans_too_soon(day.trial, trial_doses(day.trial))
    return render("decisions/day.html", "decisions/_day_body.html", day=day, trial=day.trial, decision=decision,
                  too_soon=too_soon.get(tomorrow.id) if tomorrow else None,
                  gas=t_scores(day.trial),
                  given=given, tomorrow=tomorrow, result=_results_by_day(day.trial).get(day.id),
                  pending=pending_later_days(day.trial, day.day_number), values=values, errors=errors or {},
                  conflict=conflict, choices=CHOICES, dose_steps=DOSE_STEPS, protocol=current_protocol(),
                  fmt=fmt, signed=signed, can_edit=current_user().has_role("surgeon") and day.trial.is_open,  # type: ignore[union-attr]
                  status=status)


def _decision_values(day: TrialDay, decision: Any, given: Any) -> dict[str, Any]:
    if decision is None:
        return {"base_revision": 0, "team_present": ["surgeon"], "planned_time": suggested_time(day, given),
                "dose_mcg": format_mcg(given.dose_mcg) if given else ""}
    def hours(value: Any) -> str:
        return format_mcg(value) if value is not None else ""

    return {"base_revision": decision.revision, "effect": decision.effect, "next_step": decision.next_step,
            "effect_onset_hours": hours(decision.effect_onset_hours),
            "effect_duration_hours": hours(decision.effect_duration_hours),
            "dose_mcg": format_mcg(decision.next_dose_mcg) if decision.next_dose_mcg is not None else "",
            "planned_time": suggested_time(day, given), "rationale": decision.rationale,
            "team_present": decision.team_present, "parents_present": "yes" if decision.parents_present else "",
            "parents_view": decision.parents_view or ""}


def _typed(form: Any) -> dict[str, Any]:
    """What the user typed, to show again (lists kept as lists)."""
    values: dict[str, Any] = form.to_dict()
    values["team_present"] = form.getlist("team_present")
    return values


@bp.get("/days/<int:day_id>/decision")
@roles_required(*STAFF)
def day(day_id: int) -> Any:
    return _day_page(day_or_404(day_id))


@bp.post("/days/<int:day_id>/decision")
@roles_required("surgeon")
def day_save(day_id: int) -> Any:
    d = day_or_404(day_id)
    data, errors = load_form(DecisionSchema(), request.form)
    if data is None:
        return _day_page(d, _typed(request.form), errors, status=422)
    try:
        record_decision(d.id, data, author_id=current_user_id())
        db.session.commit()
    except DecisionError as exc:
        db.session.rollback()
        return _day_page(d, _typed(request.form), exc.errors, status=422)
    except DecisionConflict as exc:
        db.session.rollback()
        current = decision_for(d)
        values = _typed(request.form) | {"base_revision": current.revision if current else 0}
        return _day_page(d, values, {}, conflict=exc.message, status=409)
    return redirect_to(url_for("decisions.trial", trial_id=d.trial_id, _anchor=f"day-{d.day_number}"))


def _outcome_page(t: Trial, values: Any = None, errors: dict[str, list[str]] | None = None,
                  conflict: str | None = None, status: int = 200) -> Response:
    if values is None:
        values = {"outcome": t.outcome or "", "outcome_reason": t.outcome_reason or "", "base_revision": t.revision}
    return render("decisions/outcome.html", "decisions/_outcome_body.html", trial=t,
                  monitoring_until=monitoring_ends(t, clock.now()), evidence=outcome_evidence(t),
                  candidacy=candidacy_evidence(t), protocol=current_protocol(), pending=pending_later_days(t, 0),
                  values=values, errors=errors or {}, conflict=conflict, choices=CHOICES, statuses=TRIAL_STATUSES,
                  fmt=fmt, signed=signed, threshold=current_protocol().tone_response_threshold,
                  can_edit=current_user().has_role("surgeon") and t.status != "planned",  # type: ignore[union-attr]
                  status=status)


@bp.get("/trials/<int:trial_id>/outcome")
@roles_required(*STAFF)
def outcome(trial_id: int) -> Any:
    return _outcome_page(_trial(trial_id))


@bp.post("/trials/<int:trial_id>/outcome")
@roles_required("surgeon")
def outcome_save(trial_id: int) -> Any:
    t = _trial(trial_id)
    data, errors = load_form(OutcomeSchema(), request.form)
    if data is None:
        return _outcome_page(t, request.form.to_dict(), errors, status=422)
    try:
        record_outcome(t.id, data, author_id=current_user_id())
        db.session.commit()
    except DecisionError as exc:
        db.session.rollback()
        return _outcome_page(t, request.form.to_dict(), exc.errors, status=422)
    except DecisionConflict as exc:
        db.session.rollback()
        t = _trial(trial_id)
        return _outcome_page(t, request.form.to_dict() | {"base_revision": t.revision}, {}, conflict=exc.message,
                             status=409)
    return redirect_to(url_for("decisions.trial", trial_id=t.id, _anchor="outcome"))
