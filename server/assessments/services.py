# ruff: noqa: RUF001  (clinical text uses en dashes and minus signs on purpose)
"""PT assessments: the one write path. The form view and the sync handler (offline.py) both call these.

Assessments are append-only: `correct_assessment` adds a new version that supersedes the old one, with a
reason, and the old one stays. The plan is a mutable record with a revision.

Like every service, these flush and never commit: the caller owns the transaction (the form view commits;
the sync engine runs one transaction per batch with a savepoint per entry; the CLI commits the demo data).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit.tracking import record_created
from ..auth.models import User
from ..dosing import schedule
from ..dosing.models import DoseAdministration
from ..dosing.services import current_doses
from ..extensions import db
from ..protocol import current_protocol
from ..trials.models import TRIAL_STATUSES, Patient, Trial, TrialDay
from ..trials.services import before_trial_message
from ..web import clock
from ..web.filters import localtime
from ..web.forms import Refused
from .instruments import ITEMS, PHASES, default_plan, ordered
from .models import Assessment, AssessmentPlan, latest_version


class AssessmentError(Refused):
    """Refused input, with messages by form field name (shown beside the fields, or sent back to the phone);
    `reason`, the first message, is what the phone shows for a refused entry."""

    def __init__(self, errors: dict[str, list[str]]):
        self.reason = next(iter(next(iter(errors.values()))), "The assessment was refused.")
        super().__init__(errors, self.reason)


class AlreadySaved(AssessmentError):
    """This entry id was saved before (a double submit): nothing new is written."""

    def __init__(self, existing_id: int):
        super().__init__({"_form": ["This assessment was already saved."]})
        self.existing_id = existing_id


class AlreadyCorrected(AssessmentError):
    """The version being corrected has been corrected already (e.g. on another phone)."""

    def __init__(self, latest: Assessment):
        super().__init__({"supersedes_id": [
            f"This version was already corrected (version {latest.version} is the latest): correct that one."]})
        self.latest_id = latest.id


class PlanConflict(AssessmentError):
    def __init__(self, plan: AssessmentPlan):
        super().__init__({"_form": [
            f"Someone changed this child's plan meanwhile (now revision {plan.revision}). "
            "Check the choices below and save again."]})
        self.plan = plan


# ---- reading ---------------------------------------------------------------------------------------------

def get_trial(trial_id: int) -> Trial | None:
    return db.session.get(Trial, trial_id)


def get_plan(trial_id: int) -> AssessmentPlan | None:
    return db.session.scalar(select(AssessmentPlan).where(AssessmentPlan.trial_id == trial_id))


def plan_for(trial: Trial) -> list[str]:
    """The trial's plan, or the default (lower limb; walking or sitting tests by GMFCS) before the first one."""
    plan = get_plan(trial.id)
    return ordered(plan.items) if plan is not None else default_plan(trial.patient.gmfcs_level)


def trial_day(trial: Trial, day_number: int) -> TrialDay | None:
    return next((d for d in trial.days if d.day_number == day_number), None)


def get_assessment(assessment_id: int) -> Assessment | None:
    return db.session.get(Assessment, assessment_id)


def by_entry_id(entry_id: str) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.entry_id == entry_id))


def is_current(assessment: Assessment) -> bool:
    return db.session.scalar(select(Assessment.id).where(Assessment.supersedes_id == assessment.id)) is None


def chain(assessment: Assessment) -> list[Assessment]:
    """Every version of this assessment, oldest first."""
    root = assessment.chain_id
    rows = db.session.scalars(select(Assessment).where(
        (Assessment.id == root) | (Assessment.first_version_id == root)).order_by(Assessment.version)).all()
    return list(rows)


def assessed_at(assessment: Assessment) -> datetime:
    """When the child was assessed: the first version's phone time (a correction fixes values, not the time)."""
    if assessment.first_version_id is None:
        return assessment.recorded_at
    first = assessment.first_version
    return first.recorded_at if first is not None else assessment.recorded_at


def current_assessments(trial_id: int) -> list[Assessment]:
    """The latest version of every assessment of a trial, by day, then phase, then time."""
    return current_assessments_of([trial_id])[trial_id]


def current_assessments_of(trial_ids: list[int]) -> dict[int, list[Assessment]]:
    """`current_assessments` for several trials (the PT's list of today's children): four queries, however many
    trials and corrections (each corrected one's first version, whose time is when the child was assessed, is
    loaded with the rest)."""
    out: dict[int, list[Assessment]] = {trial_id: [] for trial_id in trial_ids}
    if not trial_ids:
        return out
    rows = db.session.scalars(
        select(Assessment).options(selectinload(Assessment.trial_day), selectinload(Assessment.author),
                                   selectinload(Assessment.first_version))
        .where(Assessment.trial_id.in_(trial_ids), latest_version())).all()
    phase_order = list(PHASES)
    for a in sorted(rows, key=lambda a: (a.trial_day.day_number, phase_order.index(a.phase), assessed_at(a), a.id)):
        out[a.trial_id].append(a)
    return out


def current_versions(trial_ids: list[int]) -> list[tuple[Assessment, Assessment]]:
    """The latest version of every assessment of these trials, each with its first version (whose phone time is
    when the child was assessed, `assessed_at`): two queries however many there are (the exports)."""
    if not trial_ids:
        return []
    rows = list(db.session.scalars(select(Assessment).where(Assessment.trial_id.in_(trial_ids),
                                                            latest_version())
                                   .order_by(Assessment.trial_id, Assessment.id)))
    first_ids = {a.first_version_id for a in rows if a.first_version_id is not None}
    firsts = {a.id: a for a in db.session.scalars(select(Assessment).where(Assessment.id.in_(first_ids)))}
    return [(a, firsts.get(a.first_version_id, a) if a.first_version_id else a) for a in rows]


def all_versions(trial_id: int) -> dict[int, list[Assessment]]:
    """Every version of every assessment of a trial, grouped by chain (first version id), oldest first."""
    rows = db.session.scalars(
        select(Assessment).options(selectinload(Assessment.trial_day), selectinload(Assessment.author))
        .where(Assessment.trial_id == trial_id).order_by(Assessment.version, Assessment.id)).all()
    chains: dict[int, list[Assessment]] = defaultdict(list)
    for row in rows:
        chains[row.chain_id].append(row)
    return dict(chains)


def post_dose_days(trial_id: int) -> set[int]:
    """The trial days (ids) with a current post-dose assessment (one query)."""
    return set(db.session.scalars(select(Assessment.trial_day_id).where(
        Assessment.trial_id == trial_id, Assessment.phase == "post_dose", latest_version())))


def day_assessments(trial_id: int, day_id: int, phase: str) -> list[Assessment]:
    return [a for a in current_assessments(trial_id) if a.trial_day_id == day_id and a.phase == phase]


def same_day_baseline(trial_id: int, day_id: int, dose: DoseAdministration | None) -> Assessment | None:
    """The baseline the day's comparison uses: shown beside every post-dose field."""
    return choose_baseline(day_assessments(trial_id, day_id, "baseline"), dose)


# ---- phase from the clock (clinical-brief §2: baseline before the dose, reassessment after it) --------------

def out_of_phase(assessment: Assessment, dose: DoseAdministration | None) -> str | None:
    """Why this assessment's time contradicts its phase, with the times, or None. The phone's time decides
    (an entry made offline keeps the time it was made). Nothing to check before the day's dose is recorded."""
    if dose is None:
        return None
    at = assessed_at(assessment)
    minutes = minutes_after(at, dose.given_at)
    when = f"the dose was given at {localtime(dose.given_at, '%-d %b %H:%M')}"
    if assessment.phase == "baseline" and minutes > 0:
        return (f"Baseline recorded {hours_minutes(minutes)} AFTER the dose ({when}; baseline at "
                f"{localtime(at, '%H:%M')}).")
    if assessment.phase == "post_dose" and minutes < 0:
        return (f"Post-dose assessment recorded {hours_minutes(-minutes)} BEFORE the dose ({when}; assessment at "
                f"{localtime(at, '%H:%M')}).")
    return None


def needs_timing_check(assessment: Assessment, dose: DoseAdministration | None) -> str | None:
    """`out_of_phase`, unless the PT has confirmed the assessment as it stands: left out of the comparison."""
    return None if assessment.timing_confirmed else out_of_phase(assessment, dose)


def choose_baseline(baselines: list[Assessment], dose: DoseAdministration | None) -> Assessment | None:
    """The baseline compared: the latest one made before the dose (or confirmed by the PT)."""
    usable = [b for b in baselines if needs_timing_check(b, dose) is None]
    return usable[-1] if usable else None


def usable_posts(posts: list[Assessment], dose: DoseAdministration | None) -> list[Assessment]:
    return [p for p in posts if needs_timing_check(p, dose) is None]


@dataclass(frozen=True)
class Timing:
    """When a post-dose assessment was made, relative to the dose (filled in once the dose is recorded)."""

    minutes: int | None
    dose: DoseAdministration | None
    saved_before_dose_record: bool
    in_window: bool | None
    message: str

    @property
    def flagged(self) -> bool:
        return self.dose is None or self.in_window is False or self.saved_before_dose_record


def hours_minutes(minutes: int) -> str:
    sign = "−" if minutes < 0 else ""
    m = abs(minutes)
    return f"{sign}{m // 60} h {m % 60:02d}"


def minutes_after(at: datetime, start: datetime) -> int:
    """Whole minutes from `start` to `at` (negative when `at` is earlier)."""
    return int((at - start).total_seconds() // 60)


def timing(assessment: Assessment, dose: DoseAdministration | None) -> Timing | None:
    """None for a baseline. For a post-dose assessment: minutes after the dose, the window, and any flag."""
    if assessment.phase != "post_dose":
        return None
    early = assessment.saved_before_dose_record
    if dose is None:
        return Timing(None, None, early, None,
                      "No dose recorded yet for this day: kept and flagged; the time after the dose fills in "
                      "once the dose is recorded.")
    at = assessed_at(assessment)
    minutes = minutes_after(at, dose.given_at)
    window_at = schedule.reassessment(dose.given_at, current_protocol())
    in_window = window_at.state(at) == "open"
    lo, hi = minutes_after(window_at.opens, dose.given_at), minutes_after(window_at.closes, dose.given_at)
    if minutes < 0:
        message = f"Made {hours_minutes(-minutes)} BEFORE the recorded dose time: check the times."
    else:
        window = f"window {hours_minutes(lo)}–{hours_minutes(hi)}"
        message = f"{hours_minutes(minutes)} after the dose ({window} {'✓' if in_window else '— outside'})"
    if early:
        message += " · saved before the dose record reached the server"
    return Timing(minutes, dose, early, in_window, message)


# ---- writing ---------------------------------------------------------------------------------------------

def _open_trial_day(trial_id: int, day_number: int) -> tuple[Trial, TrialDay]:
    return _check_trial_day(db.session.get(Trial, trial_id), trial_id, day_number)


def _check_trial_day(trial: Trial | None, trial_id: int, day_number: int) -> tuple[Trial, TrialDay]:
    if trial is None:
        raise AssessmentError({"trial_id": [f"Unknown trial ({trial_id}): nothing was saved."]})
    if not trial.is_open:
        status = TRIAL_STATUSES.get(trial.status, trial.status).lower()
        raise AssessmentError({"trial_id": [
            f"This trial is {status}: assessments can no longer be recorded or corrected."]})
    day = trial_day(trial, day_number)
    if day is None:
        raise AssessmentError({"day_number": [
            f"This trial has no day {day_number} (days 1–{len(trial.days)})."]})
    return trial, day


def _check_recorded_at(trial: Trial, recorded_at: datetime) -> None:
    """A phone's time before the trial's admission is a wrong clock (the sync protocol bounds the future)."""
    message = before_trial_message(trial, recorded_at)
    if message:
        raise AssessmentError({"_form": [message]})


def _check_entry(entry_id: str, recorded_at: datetime) -> None:
    _check_entry_shape(entry_id, recorded_at)
    existing = by_entry_id(entry_id)
    if existing is not None:
        raise AlreadySaved(existing.id)


def _check_entry_shape(entry_id: str, recorded_at: datetime) -> None:
    if not entry_id or len(entry_id) > 36:
        raise AssessmentError({"_form": ["The entry has no valid id: reload the form and save again."]})
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")


def _finish(obj: Any) -> None:
    db.session.add(obj)
    db.session.flush()


@dataclass(frozen=True)
class NewAssessment:
    """One assessment to record: AssessmentSchema output (trial_id, day_number, phase, values, not_tested,
    notes) and who made it, when and where (the phone's time; the entry id the phone made)."""

    data: dict[str, Any]
    author_id: int
    recorded_at: datetime
    entry_id: str
    device_id: str | None = None
    form_version: int = 1


def record_assessment(data: dict[str, Any], *, author_id: int, recorded_at: datetime, entry_id: str,
                      device_id: str | None = None, form_version: int = 1) -> Assessment:
    """Store a new assessment (the form's path: one). A post-dose assessment with no dose on record yet is
    kept and flagged. Raises AssessmentError (AlreadySaved if this entry id was saved before)."""
    [outcome] = record_assessments([NewAssessment(data, author_id, recorded_at, entry_id, device_id, form_version)])
    if isinstance(outcome, AssessmentError):
        raise outcome
    return outcome


def record_assessments(items: list[NewAssessment]) -> list[Assessment | AssessmentError]:
    """`save_assessments`, answering each item with its saved row (read back in one query) or its refusal."""
    outcomes = save_assessments(items)
    ids = [o for o in outcomes if isinstance(o, int)]
    rows = {a.id: a for a in db.session.scalars(select(Assessment).where(Assessment.id.in_(ids)))} if ids else {}
    return [rows[o] if isinstance(o, int) else o for o in outcomes]


def save_assessments(items: list[NewAssessment]) -> list[int | AssessmentError]:
    """Store new assessments, answering each with its new id or the AssessmentError that refused it.

    The one write path for new assessments: the form sends one, a sync batch hundreds. Every item is checked
    before anything is written, so a refused item writes nothing; the accepted ones are inserted with one
    multi-row INSERT ... RETURNING id and their audit rows with one INSERT (`audit.tracking.record_created`: the
    rows the flush hook writes for a new record). A few queries in all, however many items; no ORM object is
    built for the rows written (a sync batch needs only their ids: `record_assessments` reads them back)."""
    ids = [item.entry_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("save_assessments() got the same entry id twice")
    outcomes: list[int | AssessmentError | None] = [None] * len(items)
    for n, item in enumerate(items):
        try:
            _check_entry_shape(item.entry_id, item.recorded_at)
        except AssessmentError as exc:
            outcomes[n] = exc
    rows = db.session.execute(select(Assessment.entry_id, Assessment.id).where(
        Assessment.entry_id.in_([i.entry_id for n, i in enumerate(items) if outcomes[n] is None]))).all()
    saved: dict[str, int] = {entry_id: pk for entry_id, pk in rows}
    trial_ids = {int(i.data["trial_id"]) for n, i in enumerate(items) if outcomes[n] is None}
    # (The child is read only for a trial's first plan, in _insert.)
    trials = {t.id: t for t in db.session.scalars(
        select(Trial).options(selectinload(Trial.days)).where(Trial.id.in_(trial_ids)))} if trial_ids else {}
    taken = _taken_phases({(d.id, i.data["phase"]) for n, i in enumerate(items)
                           if outcomes[n] is None and (t := trials.get(int(i.data["trial_id"]))) is not None
                           and (d := trial_day(t, int(i.data["day_number"]))) is not None})
    # (day id, phase) -> when the first assessment of that day and phase was made, and by whom (for the message)
    first: dict[tuple[int, str], tuple[datetime, str | None]] = {}
    accepted: list[tuple[int, NewAssessment, Trial, TrialDay]] = []
    repeats: set[int] = set()  # items that are a second assessment of their day and phase, meant as such
    for n, item in enumerate(items):
        if outcomes[n] is not None:
            continue
        try:
            if item.entry_id in saved:
                raise AlreadySaved(saved[item.entry_id])
            if item.data.get("supersedes_id") is not None:
                raise AssessmentError({"supersedes_id": ["A correction goes through correct_assessment."]})
            trial, day = _check_trial_day(trials.get(int(item.data["trial_id"])), int(item.data["trial_id"]),
                                          int(item.data["day_number"]))
            _check_recorded_at(trial, item.recorded_at)
            if item.data["phase"] not in PHASES:
                raise AssessmentError({"phase": ["Choose baseline or post-dose."]})
            key = (day.id, item.data["phase"])
            earlier = key in taken
            if earlier and not item.data.get("repeat"):
                if key not in first:
                    first[key] = _first_assessed(*key)
                raise AssessmentError({"repeat": [_already_message(day, item.data["phase"], first[key])]})
        except AssessmentError as exc:
            outcomes[n] = exc
            continue
        if earlier:
            repeats.add(n)
        else:
            taken.add(key)
            first[key] = (item.recorded_at, None)
        accepted.append((n, item, trial, day))
    if accepted:
        _insert(accepted, outcomes, repeats)
    assert all(o is not None for o in outcomes)
    return outcomes  # type: ignore[return-value]


def _taken_phases(pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """The (day id, phase) pairs among `pairs` that already hold a current assessment: one query, one EXISTS
    probe per day and phase on the trial day's index, however many assessments those days hold. The statement
    is the same for any number of days (an expanding IN), so it is built and compiled once."""
    if not pairs:
        return set()
    days = sorted({day_id for day_id, _ in pairs})
    found = db.session.execute(_taken_statement(), {"days": days}).all()
    return {(row[0], phase) for row in found for phase, hit in zip(PHASES, row[1:], strict=True) if hit} & pairs


@cache
def _taken_statement() -> Any:
    probes = [exists().where(Assessment.trial_day_id == TrialDay.id, Assessment.phase == phase, latest_version())
              for phase in PHASES]
    return select(TrialDay.id, *probes).where(TrialDay.id.in_(bindparam("days", expanding=True)))


def _first_assessed(day_id: int, phase: str) -> tuple[datetime, str | None]:
    """When the first current assessment of a day and phase was made, and by whom (a refused repeat's message)."""
    row = db.session.execute(
        select(Assessment.recorded_at, User.display_name).join(User, User.id == Assessment.author_id)
        .where(Assessment.trial_day_id == day_id, Assessment.phase == phase, latest_version())
        .order_by(Assessment.recorded_at, Assessment.id).limit(1)).one()
    return row.recorded_at, row.display_name


def _already_message(day: TrialDay, phase: str, earlier: tuple[datetime, str | None]) -> str:
    at, who = earlier
    by = f" by {who}" if who else ""
    return (f"A {PHASES[phase].lower()} assessment for day {day.day_number} is already saved "
            f"({localtime(at, '%-d %b %H:%M')}{by}). Open it to correct it, or tick “This is a repeat” "
            "to keep both.")


def _insert(accepted: list[tuple[int, NewAssessment, Trial, TrialDay]],
            outcomes: list[int | AssessmentError | None], repeats: set[int]) -> None:

    # The first assessment of a trial fixes its plan, so later ones measure the same set.
    planned = set(db.session.scalars(select(AssessmentPlan.trial_id).where(
        AssessmentPlan.trial_id.in_({trial.id for _, _, trial, _ in accepted}))))
    unplanned = {trial.patient_id for _, _, trial, _ in accepted if trial.id not in planned}
    # Their children (the GMFCS level chooses the default plan), in one query rather than one per trial; held
    # here, as the session's identity map keeps objects only while something refers to them.
    children = db.session.scalars(select(Patient).where(Patient.id.in_(unplanned))).all() if unplanned else []
    for _, item, trial, _ in accepted:
        if trial.id not in planned:  # (made by another request at the same moment: that one stands)
            _first_plan(trial.id, ordered(default_plan(trial.patient.gmfcs_level)), item.author_id)
            planned.add(trial.id)
    del children
    post_dose_days = {day.id for _, item, _, day in accepted if item.data["phase"] == "post_dose"}
    dosed = set(current_doses(list(post_dose_days)))
    received_at = clock.now()
    records = [{
        "trial_id": trial.id, "trial_day_id": day.id, "phase": item.data["phase"], "author_id": item.author_id,
        "recorded_at": item.recorded_at, "received_at": received_at, "entry_id": item.entry_id,
        "device_id": item.device_id, "form_version": item.form_version,
        "values": dict(item.data.get("values") or {}), "not_tested": dict(item.data.get("not_tested") or {}),
        "notes": item.data.get("notes"), "version": 1, "first_version_id": None, "supersedes_id": None,
        "correction_reason": None, "is_repeat": n in repeats, "timing_confirmed": False,
        "saved_before_dose_record": item.data["phase"] == "post_dose" and day.id not in dosed,
    } for n, item, trial, day in accepted]
    # One multi-row INSERT ... RETURNING, in the order given (the phone-made entry_id is the sentinel that lets
    # SQLite do that), then the audit rows the flush hook would write for these records, written by the audit
    # package's own function (the hook never sees a bulk INSERT).
    table = Assessment.__table__
    saved = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), records
                               ).scalars().all()
    for record, pk in zip(records, saved, strict=True):
        record["id"] = pk
    record_created(db.session(), Assessment, records)
    for (n, _, _, _), pk in zip(accepted, saved, strict=True):
        outcomes[n] = pk


def correct_assessment(assessment_id: int, data: dict[str, Any], *, reason: str | None, author_id: int,
                       recorded_at: datetime, entry_id: str, device_id: str | None = None,
                       form_version: int = 1) -> Assessment:
    """Add a new version that supersedes `assessment_id`, with a required reason. The old version stays."""
    return _new_version(assessment_id, reason=reason, author_id=author_id, recorded_at=recorded_at,
                        entry_id=entry_id, device_id=device_id, form_version=form_version,
                        change=lambda old: {"values": dict(data.get("values") or {}),
                                            "not_tested": dict(data.get("not_tested") or {}),
                                            "notes": data.get("notes")})


TIMING_ACTIONS = {"confirm": "Confirmed as recorded", "move": "Moved to the other phase"}


def resolve_timing(assessment_id: int, action: str, *, reason: str | None, author_id: int, recorded_at: datetime,
                   entry_id: str) -> Assessment:
    """An assessment whose time contradicts its phase (`out_of_phase`): the PT confirms it as it stands (the
    comparison may then use it) or moves it to the other phase. Either way a new version, with the reason."""
    if action not in TIMING_ACTIONS:
        raise AssessmentError({"action": ["Choose: keep it as recorded, or move it to the other phase."]})
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError({"correction_reason": ["Say why (e.g. “dose was given late; baseline taken "
                                                     "before it”)."]})

    def change(old: Assessment) -> dict[str, Any]:
        if action == "confirm":
            return {"timing_confirmed": True}
        return {"phase": "post_dose" if old.phase == "baseline" else "baseline", "timing_confirmed": False}

    return _new_version(assessment_id, reason=f"{TIMING_ACTIONS[action]}: {reason}", author_id=author_id,
                        recorded_at=recorded_at, entry_id=entry_id, change=change)


def _new_version(assessment_id: int, *, reason: str | None, author_id: int, recorded_at: datetime,
                 entry_id: str, change: Any, device_id: str | None = None, form_version: int = 1) -> Assessment:
    """The one way an assessment changes: a new version superseding the latest, with a reason."""
    _check_entry(entry_id, recorded_at)
    old = db.session.get(Assessment, assessment_id)
    if old is None:
        raise AssessmentError({"supersedes_id": [f"Unknown assessment ({assessment_id}) to correct."]})
    trial, _ = _open_trial_day(old.trial_id, old.trial_day.day_number)
    _check_recorded_at(trial, recorded_at)
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError({"correction_reason": ["Give the reason for the correction."]})
    newer = db.session.scalar(select(Assessment).where(Assessment.supersedes_id == old.id))
    if newer is not None:
        raise AlreadyCorrected(chain(old)[-1])
    fields: dict[str, Any] = {
        "phase": old.phase, "values": dict(old.values or {}), "not_tested": dict(old.not_tested or {}),
        "notes": old.notes, "timing_confirmed": old.timing_confirmed, **change(old)}
    correction = Assessment(
        trial_id=old.trial_id, trial_day_id=old.trial_day_id, author_id=author_id,
        recorded_at=recorded_at, received_at=clock.now(), entry_id=entry_id, device_id=device_id,
        form_version=form_version, version=old.version + 1, first_version_id=old.chain_id, supersedes_id=old.id,
        correction_reason=reason, is_repeat=old.is_repeat, saved_before_dose_record=old.saved_before_dose_record,
        **fields)
    _finish(correction)
    return correction


def _first_plan(trial_id: int, items: list[str], author_id: int | None) -> AssessmentPlan | None:
    """Insert the trial's first plan in a savepoint; None when another transaction inserted one meanwhile (the
    unique trial_id refuses the second; on PostgreSQL the INSERT waits for the other to commit, then fails)."""
    try:
        with db.session.begin_nested():
            plan = AssessmentPlan(trial_id=trial_id, items=items, revision=1, chosen_by_id=author_id,
                                  updated_at=clock.now())
            _finish(plan)
    except IntegrityError:
        return None
    return plan


def set_plan(trial_id: int, items: list[str], *, author_id: int | None, base_rev: int | None = None
             ) -> AssessmentPlan:
    """Choose the items measured for this child. An edit names the revision it started from (`base_rev`)."""
    trial = db.session.get(Trial, trial_id)
    if trial is None:
        raise AssessmentError({"trial_id": [f"Unknown trial ({trial_id})."]})
    if not trial.is_open:
        raise AssessmentError({"_form": ["This trial is closed: its assessment plan can no longer change."]})
    unknown = [i for i in items if i not in ITEMS]
    if unknown:
        raise AssessmentError({"items": [f"Unknown item(s): {', '.join(unknown)}."]})
    chosen = ordered(items)
    if not chosen:
        raise AssessmentError({"items": ["Choose at least one muscle group, joint or test."]})
    plan = get_plan(trial_id)
    if plan is None:
        first = _first_plan(trial_id, chosen, author_id)
        if first is not None:
            return first
        plan = get_plan(trial_id)  # another request made the trial's first plan at the same moment
        assert plan is not None
        if plan.items != chosen:
            raise PlanConflict(plan)
        return plan
    if base_rev is not None and base_rev != plan.revision:
        raise PlanConflict(plan)
    if plan.items != chosen:
        plan.items = chosen
        plan.revision = plan.revision + 1
        plan.chosen_by_id = author_id
        plan.updated_at = clock.now()
    _finish(plan)
    return plan
