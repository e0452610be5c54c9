"""PT assessment pages: the bedside form (new and correction), one assessment, the history, the comparison
and the plan. Views parse, check access, call the service and render; the rules live in services.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import abort, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from sync.protocol import UUID_RE

from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user_id, device_header
from ..dosing.models import DoseAdministration
from ..dosing.schedule import reassessment
from ..dosing.services import current_dose, trial_doses
from ..extensions import db
from ..protocol import current_protocol
from ..trials.lookup import trial_or_404
from ..trials.models import Trial, TrialDay
from ..web import clock
from ..web.filters import localtime
from ..web.forms import load_form
from ..web.htmx import redirect_to, render
from ..web.redirects import safe_next
from . import bp
from .instruments import (
    DYNAMIC_LABEL,
    INSTRUMENTS,
    MAS_MAPPINGS,
    NOT_TESTED_SIDED,
    NOT_TESTED_YES,
    PHASES,
    REGIONS,
    SIDE_LABELS,
    Item,
    number_message,
    plan_items,
    range_message,
)
from .models import Assessment
from .results import default_mapping, snapshot, tone_threshold, trial_results
from .schemas import PlanSchema, TimingSchema, known_field_names, schema_for
from .scoring import (
    MISSING,
    NOT_TESTED,
    cell_text,
    dynamic_component,
    fmt,
    items_in_use,
    signed,
    trend,
    walk_speed,
)
from .services import (
    AlreadySaved,
    AssessmentError,
    PlanConflict,
    all_versions,
    assessed_at,
    by_entry_id,
    chain,
    correct_assessment,
    day_assessments,
    get_assessment,
    get_plan,
    hours_minutes,
    is_current,
    minutes_after,
    needs_timing_check,
    out_of_phase,
    plan_for,
    record_assessment,
    resolve_timing,
    same_day_baseline,
    set_plan,
    timing,
    trial_day,
)

PHASE_SLUGS = {"baseline": "baseline", "post-dose": "post_dose"}
SLUG_FOR = {v: k for k, v in PHASE_SLUGS.items()}


def _entry_id(sent: str | None) -> str:
    """The form's client-made id (so a double submit is one assessment), or a fresh one."""
    return sent if sent and UUID_RE.fullmatch(sent) else str(uuid.uuid4())


def draft_key(trial_id: int, day_number: int, phase: str, supersedes_id: int | None = None) -> str:
    """Where the phone keeps the draft of a form: form, trial, day, phase (and the version being corrected)."""
    key = f"assessment-form:{trial_id}:{day_number}:{phase}"
    return f"{key}:corrects:{supersedes_id}" if supersedes_id else key


def child_short(trial: Trial) -> str:
    return f"{trial.patient.first_name} {trial.patient.last_name[:1]}."


def _assessment_or_404(assessment_id: int) -> Assessment:
    return get_assessment(assessment_id) or abort(404, description="No such assessment.")


def form_values(assessment: Assessment) -> MultiDict[str, str]:
    """An assessment as the form's fields (to start a correction from what was recorded)."""
    out: MultiDict[str, str] = MultiDict()
    for name, value in (assessment.values or {}).items():
        out[name] = f"{Decimal(str(value)).normalize():f}" if isinstance(value, int | float) else str(value)
    for item_id, nt in (assessment.not_tested or {}).items():
        sides = nt.get("sides") or []
        out[f"{item_id}.not_tested"] = (NOT_TESTED_YES if not sides else "both" if len(sides) == 2 else sides[0])
        out[f"{item_id}.not_tested_reason"] = nt.get("reason", "")
    if assessment.notes:
        out["notes"] = assessment.notes
    return out


def _baseline_texts(baseline: Assessment | None, groups: dict[str, list[Item]]) -> dict[str, str]:
    snap = snapshot(baseline)
    if snap is None:
        return {}
    texts: dict[str, str] = {}
    for items in groups.values():
        for it in items:
            for cell in it.cells():
                state, value = snap.state(cell)
                texts[cell.name] = "not recorded" if state == MISSING else (
                    "not tested" if state == NOT_TESTED else cell_text(cell, state, value))
    return texts


def _form_page(trial: Trial, day: TrialDay, phase: str, values: Any, errors: dict[str, list[str]], *,
               entry_id: str, correcting: Assessment | None = None, status: int = 200,
               repeat_of: list[Assessment] | None = None) -> Any:
    """The form. `repeat_of`: the day's assessments of this phase already saved (shown, with the repeat box)."""
    item_ids = plan_for(trial)
    if correcting is not None:  # show whatever the version being corrected holds, even outside today's plan
        item_ids = items_in_use(item_ids, snapshot(correcting))
    groups = plan_items(item_ids)
    dose = current_dose(day.id)
    baseline = same_day_baseline(trial.id, day.id, dose) if phase == "post_dose" else None
    rendered = known_field_names()
    other_errors = {k: v for k, v in errors.items() if k not in rendered}
    label = f"{child_short(trial)} · Day {day.day_number} · {PHASES[phase]}"
    supersedes_id = correcting.id if correcting is not None else None
    action = (url_for(".correct", assessment_id=correcting.id) if correcting is not None
              else url_for(".new", trial_id=trial.id, day_number=day.day_number, phase=SLUG_FOR[phase]))
    return render(
        "assessments/form.html", "assessments/_form.html", status=status, trial=trial, day=day, phase=phase,
        phase_label=PHASES[phase], values=values, errors=errors, other_errors=other_errors, groups=groups,
        instruments=INSTRUMENTS, regions=REGIONS, side_labels=SIDE_LABELS, not_tested_sided=NOT_TESTED_SIDED,
        baseline=baseline, baseline_texts=_baseline_texts(baseline, groups), dose=dose,
        timing_note=_dose_note(day, dose, phase), entry_id=entry_id, correcting=correcting,
        supersedes_id=supersedes_id, action=action, label=label, child=child_short(trial),
        draft_key=draft_key(trial.id, day.day_number, phase, supersedes_id), repeat_of=repeat_of,
        next_url=url_for(".by_entry", entry_id=entry_id, saved=1), plan=get_plan(trial.id),
        range_message=range_message, number_message=number_message)


def _dose_note(day: TrialDay, dose: DoseAdministration | None, phase: str) -> str:
    if dose is not None:
        mins = minutes_after(clock.now(), dose.given_at)
        note = (f"Dose {fmt(Decimal(dose.dose_mcg), 1)} mcg given at {localtime(dose.given_at)} · "
                f"now {hours_minutes(mins)} after")
        if phase == "post_dose":  # the reassessment window beside the clock, as in the design sketch
            window = reassessment(dose.given_at, current_protocol())
            state = window.state(clock.now())
            lo, hi = minutes_after(window.opens, dose.given_at), minutes_after(window.closes, dose.given_at)
            note += (f" (window {hours_minutes(lo)}–{hours_minutes(hi)} "  # noqa: RUF001
                     f"{'✓' if state == 'open' else ('— not yet' if state == 'before' else '— past it')})")
        return note
    if phase == "post_dose":
        return ("No dose is recorded for this day yet. You can still save: the assessment is kept and flagged, "
                "and its time after the dose fills in once the dose is recorded.")
    return ""


@bp.route("/trials/<int:trial_id>/days/<int:day_number>/<phase>", methods=["GET", "POST"])
@roles_required("pt")
def new(trial_id: int, day_number: int, phase: str):
    trial = trial_or_404(trial_id)
    phase_key = PHASE_SLUGS.get(phase) or abort(404, description="Choose baseline or post-dose.")
    day = trial_day(trial, day_number) or abort(404, description=f"This trial has no day {day_number}.")
    existing = day_assessments(trial.id, day.id, phase_key)
    if request.method == "GET":
        if existing and not request.args.get("repeat"):  # one per day and phase unless the PT means a repeat
            return _existing_page(trial, day, phase_key, existing)
        errors = {} if trial.is_open else {"_form": ["This trial is closed: no new assessments can be recorded."]}
        # "Add a repeat" (?repeat=1) ticks the box even where the page is kept for use offline and one is saved
        # later: what the PT asked for travels with the entry.
        return _form_page(trial, day, phase_key, {"repeat": "1"} if request.args.get("repeat") else {}, errors,
                          entry_id=_entry_id(None), repeat_of=existing)
    payload = request.form.copy()
    payload["trial_id"], payload["day_number"], payload["phase"] = str(trial.id), str(day_number), phase_key
    payload.pop("supersedes_id", None)
    entry_id = _entry_id(request.form.get("entry_id"))
    data, errors = load_form(schema_for(payload), payload)
    if data is None:
        return _form_page(trial, day, phase_key, request.form, errors, entry_id=entry_id, status=422,
                          repeat_of=existing)
    try:
        saved = record_assessment(data, author_id=current_user_id(), recorded_at=clock.now(),
                                  entry_id=entry_id, device_id=device_header())
        db.session.commit()
    except AlreadySaved as exc:
        return redirect_to(url_for(".detail", assessment_id=exc.existing_id, saved=1))
    except IntegrityError:  # the same form saved twice at once (a double tap): the other save stands
        db.session.rollback()
        found = by_entry_id(entry_id)
        if found is None:
            raise
        return redirect_to(url_for(".detail", assessment_id=found.id, saved=1))
    except AssessmentError as exc:
        db.session.rollback()
        return _form_page(trial, day, phase_key, request.form, exc.errors, entry_id=entry_id, status=422,
                          repeat_of=existing)
    return redirect_to(url_for(".detail", assessment_id=saved.id, saved=1))


def _existing_page(trial: Trial, day: TrialDay, phase: str, existing: list[Assessment]) -> Any:
    """The day's assessments of this phase, with Correct and Add a repeat, instead of a blank form."""
    dose = current_dose(day.id)
    return render("assessments/existing.html", trial=trial, day=day, phase=phase, phase_label=PHASES[phase],
                  existing=existing, child=child_short(trial), assessed_at=assessed_at,
                  flags={a.id: needs_timing_check(a, dose) for a in existing},
                  repeat_url=url_for(".new", trial_id=trial.id, day_number=day.day_number, phase=SLUG_FOR[phase],
                                     repeat=1))


@bp.route("/assessments/<int:assessment_id>/timing", methods=["GET", "POST"])
@roles_required("pt")
def resolve(assessment_id: int):
    """A baseline made after the dose (or a post-dose before it): keep it as recorded, or move its phase."""
    a = _assessment_or_404(assessment_id)
    dose = current_dose(a.trial_day.id)
    errors: dict[str, list[str]] = {}
    values: Any = {}
    if request.method == "POST":
        data, errors = load_form(TimingSchema(), request.form)
        values = request.form
        if data is not None:
            try:
                saved = resolve_timing(a.id, data["action"], reason=data.get("reason"),
                                       author_id=current_user_id(), recorded_at=clock.now(),
                                       entry_id=_entry_id(request.form.get("entry_id")))
                db.session.commit()
            except AssessmentError as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                return redirect_to(url_for(".detail", assessment_id=saved.id))
    return render("assessments/timing.html", "assessments/_timing_form.html",
                  status=422 if errors else 200, a=a, trial=a.trial, child=child_short(a.trial),
                  problem=out_of_phase(a, dose), latest=is_current(a), errors=errors, values=values,
                  entry_id=_entry_id(None), other_phase=PHASES["post_dose" if a.phase == "baseline" else "baseline"])


@bp.route("/assessments/<int:assessment_id>/correct", methods=["GET", "POST"])
@roles_required("pt")
def correct(assessment_id: int):
    old = _assessment_or_404(assessment_id)
    trial, day = old.trial, old.trial_day
    if request.method == "GET":
        errors: dict[str, list[str]] = {}
        if not is_current(old):
            errors["_form"] = ["A newer version exists: correct the latest version instead."]
        if not trial.is_open:
            errors["_form"] = ["This trial is closed: assessments can no longer be corrected."]
        return _form_page(trial, day, old.phase, form_values(old), errors, entry_id=_entry_id(None), correcting=old)
    payload = request.form.copy()
    payload["trial_id"], payload["day_number"], payload["phase"] = str(trial.id), str(day.day_number), old.phase
    payload["supersedes_id"] = str(old.id)
    entry_id = _entry_id(request.form.get("entry_id"))
    data, errors = load_form(schema_for(payload), payload)
    if data is None:
        return _form_page(trial, day, old.phase, request.form, errors, entry_id=entry_id, correcting=old,
                          status=422)
    try:
        saved = correct_assessment(old.id, data, reason=data.get("correction_reason"),
                                   author_id=current_user_id(), recorded_at=clock.now(),
                                   entry_id=entry_id, device_id=device_header())
        db.session.commit()
    except AlreadySaved as exc:
        return redirect_to(url_for(".detail", assessment_id=exc.existing_id, saved=1))
    except IntegrityError:  # the same form saved twice at once (a double tap): the other save stands
        db.session.rollback()
        found = by_entry_id(entry_id)
        if found is None:
            raise
        return redirect_to(url_for(".detail", assessment_id=found.id, saved=1))
    except AssessmentError as exc:
        db.session.rollback()
        return _form_page(trial, day, old.phase, request.form, exc.errors, entry_id=entry_id, correcting=old,
                          status=422)
    return redirect_to(url_for(".detail", assessment_id=saved.id, saved=1))


@bp.get("/assessments/entry/<entry_id>")
@roles_required(*STAFF)
def by_entry(entry_id: str):
    """Where a phone lands once its entry is sent: the assessment that entry made."""
    found = by_entry_id(entry_id) or abort(404, description="That assessment has not reached the server yet.")
    return redirect_to(url_for(".detail", assessment_id=found.id, saved=1 if request.args.get("saved") else None))


@dataclass(frozen=True)
class ValueRow:
    label: str
    hint: str
    by_side: dict[str | None, str]
    sided: bool


def value_rows(assessment: Assessment) -> dict[str, list[ValueRow]]:
    """What one version recorded, grouped by instrument, for reading (not tested shown with its reason)."""
    snap = snapshot(assessment)
    assert snap is not None
    out: dict[str, list[ValueRow]] = {}
    for instrument, items in plan_items(items_in_use([], snap)).items():
        for it in items:
            nt = (assessment.not_tested or {}).get(it.id)
            for measure in it.measures:
                by_side: dict[str | None, str] = {}
                for cell in (c for c in it.cells() if c.measure is measure):
                    state, value = snap.state(cell)
                    by_side[cell.side] = "—" if state == MISSING else cell_text(cell, state, value)
                label = it.label if len(it.measures) == 1 else f"{it.label}: {measure.label}"
                hint = f"Not tested: {nt['reason']}" if nt and measure is it.measures[0] else ""
                out.setdefault(instrument, []).append(ValueRow(label, hint, by_side, it.sided))
            if it.instrument == "tardieu":  # derived, as on the comparison
                dyn = {side: dynamic_component(it, snap.values, side) for side in it.sides()}
                out[instrument].append(ValueRow(f"{it.label}: {DYNAMIC_LABEL}", "", {
                    side: "—" if v is None else f"{fmt(v, 0)}°" for side, v in dyn.items()}, True))
            if it.id == "gait.walk_10m_seconds":
                speed = walk_speed(snap.values)
                out[instrument].append(ValueRow("10 m walk speed", "", {
                    None: "—" if speed is None else f"{fmt(speed)} m/s"}, False))
    return out


@bp.get("/assessments/<int:assessment_id>")
@roles_required(*STAFF)
def detail(assessment_id: int):
    a = _assessment_or_404(assessment_id)
    versions = chain(a)
    latest = versions[-1]
    dose = current_dose(a.trial_day.id)
    saved = bool(request.args.get("saved"))
    return render("assessments/detail.html", a=a, trial=a.trial, versions=versions, latest=latest,
                  is_latest=latest.id == a.id, timing=timing(a, dose), assessed=assessed_at(a), saved=saved,
                  phase_problem=out_of_phase(a, dose),
                  rows=value_rows(a), instruments=INSTRUMENTS, side_labels=SIDE_LABELS, child=child_short(a.trial),
                  draft_key=draft_key(a.trial_id, a.trial_day.day_number, a.phase, a.supersedes_id),
                  slug_for=SLUG_FOR, today=clock.today())


@bp.get("/trials/<int:trial_id>/assessments")
@roles_required(*STAFF)
def history(trial_id: int):
    trial = trial_or_404(trial_id)
    chains = list(all_versions(trial.id).values())
    phase_order = list(PHASES)
    chains.sort(key=lambda vs: (vs[0].trial_day.day_number, phase_order.index(vs[0].phase), assessed_at(vs[0])))
    doses = trial_doses(trial)
    timings = {vs[-1].id: timing(vs[-1], doses.get(vs[-1].trial_day_id)) for vs in chains}
    return render("assessments/history.html", "assessments/_history.html", trial=trial, chains=chains,
                  timings=timings, child=child_short(trial), today=clock.today(), slug_for=SLUG_FOR)


@bp.get("/trials/<int:trial_id>/assessments/compare")
@roles_required(*STAFF)
def compare_view(trial_id: int):
    trial = trial_or_404(trial_id)
    protocol = current_protocol()
    mapping = MAS_MAPPINGS.get(request.args.get("mapping") or "", default_mapping())
    threshold = tone_threshold()
    days = trial_results(trial, mapping)
    rows = trend([(f"Day {d.day.day_number}", d.result) for d in days])
    return render("assessments/compare.html", "assessments/_compare.html", trial=trial, days=days, trend=rows,
                  mapping=mapping, mappings=MAS_MAPPINGS, threshold=threshold, instruments=INSTRUMENTS,
                  side_labels=SIDE_LABELS, child=child_short(trial), fmt=fmt, signed=signed,
                  sources=protocol.sources, today=clock.today(), slug_for=SLUG_FOR)


def _plan_page(trial: Trial, chosen: list[str], errors: dict[str, list[str]], base_rev: int | None, nxt: str | None,
               status: int = 200) -> Any:
    return render("assessments/plan.html", "assessments/_plan_form.html", status=status, trial=trial,
                  chosen=set(chosen), errors=errors, base_rev=base_rev, next=nxt, instruments=INSTRUMENTS,
                  regions=REGIONS, child=child_short(trial), plan=get_plan(trial.id))


@bp.route("/trials/<int:trial_id>/assessment-plan", methods=["GET", "POST"])
@roles_required("pt")
def plan(trial_id: int):
    trial = trial_or_404(trial_id)
    nxt = safe_next(request.values.get("next"))
    current = get_plan(trial.id)
    if request.method == "GET":
        return _plan_page(trial, plan_for(trial), {}, current.revision if current else None, nxt)
    data, errors = load_form(PlanSchema(), request.form)
    chosen = request.form.getlist("items")
    if data is None:
        return _plan_page(trial, chosen, errors, current.revision if current else None, nxt, 422)
    try:
        set_plan(trial.id, data["items"], author_id=current_user_id(),
                 base_rev=data.get("base_rev"))
        db.session.commit()
    except PlanConflict as exc:
        db.session.rollback()
        return _plan_page(trial, chosen, exc.errors, exc.plan.revision, nxt, 409)
    except AssessmentError as exc:
        db.session.rollback()
        return _plan_page(trial, chosen, exc.errors, current.revision if current else None, nxt, 422)
    return redirect_to(nxt or url_for("trials.detail", trial_id=trial.id))
