"""The team's decisions: the one write path (the decision and outcome forms call these) and their reads.

A day's decision judges the dose and names the next step. A step that changes tomorrow's dose writes it
through `dosing.set_plan`, so the protocol's rules (allowed values, ceiling, 24 h interval) and the plan's
history apply; ending or stopping cancels the doses still planned, through `dosing.hold_dose`. The candidacy
outcome closes the trial. The app records what the team decided; it never decides (clinical-brief §4.2).

Like every service these flush and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..assessments.models import Assessment, latest_version
from ..assessments.results import trial_results
from ..assessments.scoring import ToneSummary
from ..dosing.models import DoseAdministration, current_given
from ..dosing.services import (
    FUTURE_SLACK,
    DayEvents,
    DosingError,
    PlanConflict,
    charted_events,
    hold_dose,
    interval_errors,
    resume_dose,
    set_plan,
)
from ..extensions import db
from ..goals.services import t_scores
from ..protocol import current_protocol, format_mcg
from ..trials.models import OUTCOMES, TRIAL_STATUSES, Trial, TrialDay
from ..web.clock import hospital_tz, local_to_utc
from ..web.types import utcnow
from .models import EFFECTS, NEXT_STEPS, TEAM_ROLES, DayDecision
from .pump import Bolus, PumpSuggestion, suggest_pump_dose
from .schemas import DOSE_STEPS

CLOSING_STEPS = ("end", "stop")
EFFECT_SEEN = ("good", "over_response")  # the dose had an effect: how long it lasted is part of the evidence
EFFECT_FIELDS = ("effect_onset_hours", "effect_duration_hours")


class DecisionError(Exception):
    """Refused input, with messages by form field ("_form" for the whole form). Nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


class DecisionConflict(Exception):
    """The edit started from another revision than the current one. Nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- reading -----------------------------------------------------------------------------------------------------

def decisions_for(trial: Trial) -> dict[int, DayDecision]:
    """The trial's day decisions, by trial day id."""
    return decisions_by_day([d.id for d in trial.days])


def decisions_by_day(day_ids: list[int]) -> dict[int, DayDecision]:
    """The day decisions of these trial days (of any trials), by trial day id (one query)."""
    if not day_ids:
        return {}
    rows = db.session.scalars(select(DayDecision).where(DayDecision.trial_day_id.in_(day_ids))).all()
    return {row.trial_day_id: row for row in rows}


def decision_for(day: TrialDay) -> DayDecision | None:
    return db.session.scalar(select(DayDecision).where(DayDecision.trial_day_id == day.id))


def next_day(day: TrialDay) -> TrialDay | None:
    return next((d for d in day.trial.days if d.day_number == day.day_number + 1), None)


def dose_given(day: TrialDay) -> DoseAdministration | None:
    """The day's dose as last corrected (None if none, or entered in error)."""
    return db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == day.id,
                                                              current_given()))


def suggested_time(day: TrialDay, given: DoseAdministration | None) -> str:
    """Tomorrow's dose time to offer: its plan's time, else the protocol's default, moved later if it would
    fall under the minimum interval after today's dose (up to the quarter hour, unless that passes midnight)."""
    tomorrow = next_day(day)
    protocol = current_protocol()
    tz = hospital_tz()
    if tomorrow is not None and tomorrow.planned_at is not None:
        chosen = tomorrow.planned_at.astimezone(tz).time().replace(second=0, microsecond=0)
    else:
        hours, minutes = (int(x) for x in protocol.default_dose_time.split(":"))
        chosen = time(hours, minutes)
    if given is None or tomorrow is None:
        return chosen.strftime("%H:%M")
    earliest = (given.given_at + timedelta(hours=protocol.min_interval_hours)).astimezone(tz)
    if local_to_utc(tomorrow.date, chosen) >= earliest:
        return chosen.strftime("%H:%M")
    start = earliest.replace(second=0, microsecond=0)
    if start < earliest:
        start += timedelta(minutes=1)
    quarter = start + timedelta(minutes=(-start.minute) % 15)
    return (quarter if quarter.date() == start.date() else start).strftime("%H:%M")


def pending_later_days(trial: Trial, after: int) -> list[TrialDay]:
    """Days after day `after` whose dose is not given and not cancelled (planned or held): what ending the
    test doses, stopping, or closing the trial cancels."""
    given = {d.trial_day_id for d in db.session.scalars(select(DoseAdministration).where(
        DoseAdministration.trial_day_id.in_([d.id for d in trial.days]), current_given()))} if trial.days else set()
    return [d for d in trial.days if d.day_number > after and d.id not in given and d.dose_status != "cancelled"]


@dataclass(frozen=True)
class Waiting:
    """What the team still has to record for an open trial: day decisions, then the outcome."""

    decision_days: list[TrialDay]  # days ready to judge (see waiting_for) with no decision yet, up to a
    # decision to end or stop
    outcome: bool  # every day is done or decided to end, and the outcome is not recorded


def waiting_for(trials: list[Trial], now: datetime) -> dict[int, Waiting]:
    """For each open trial with something to record, what (two queries, however many trials).

    A day with a dose given is due once the PT's reassessment window has opened (the team judges the dose
    at its peak, not as it is given); a cancelled day once its date has come; a held one not yet (its dose
    may still be given)."""
    days = [d for t in trials if t.is_open for d in t.days]
    if not days:
        return {}
    ids = [d.id for d in days]
    given_at = {day_id: at for day_id, at in db.session.execute(
        select(DoseAdministration.trial_day_id, DoseAdministration.given_at)
        .where(DoseAdministration.trial_day_id.in_(ids), current_given())).all()}
    decided = {row.trial_day_id: row for row in db.session.scalars(
        select(DayDecision).where(DayDecision.trial_day_id.in_(ids)))}
    judge_after = timedelta(minutes=current_protocol().reassess_window_from_minutes)
    today = now.astimezone(hospital_tz()).date()

    def ready(day: TrialDay) -> bool:
        if day.id in given_at:
            return given_at[day.id] + judge_after <= now
        return day.dose_status == "cancelled" and day.date <= today

    out: dict[int, Waiting] = {}
    for trial in trials:
        if not trial.is_open:
            continue
        end = next((d.day_number for d in trial.days
                    if d.id in decided and decided[d.id].next_step in CLOSING_STEPS), None)
        ended = end is not None
        # After a decision to end or stop, the later (cancelled) days need no decision of their own.
        due = [d for d in trial.days if d.id not in decided and (end is None or d.day_number < end) and ready(d)]
        last = trial.days[-1] if trial.days else None
        dosed = any(d.id in given_at for d in trial.days)
        outcome = dosed and not due and (ended or (last is not None and last.id in decided))
        if due or outcome:
            out[trial.id] = Waiting(due, outcome)
    return out


# --- writing -----------------------------------------------------------------------------------------------------

def _check_revision(current: int | None, base: int, what: str) -> None:
    """`base` is 0 for a new record. Anything but the current revision is a conflict."""
    if (current or 0) != base:
        if current is None:
            raise DecisionConflict(f"The {what} you opened no longer exists: reload the page.")
        raise DecisionConflict(f"Someone else saved this {what} (now revision {current}) after you opened it "
                               f"(revision {base or 'new'}). Nothing was changed: check the current version below, "
                               "then save again if it still needs to change.")


def _dose_errors(step: str, dose: Decimal | None, today: Decimal | None) -> dict[str, list[str]]:
    if dose is None:
        return {"dose_mcg": ["Choose tomorrow's dose."]}
    if today is None:
        return {}
    word = format_mcg(today)
    if step == "escalate" and not dose > today:
        return {"dose_mcg": [f"To escalate, choose a dose above today's {word} mcg."]}
    if step == "repeat" and dose != today:
        return {"dose_mcg": [f"To repeat, choose today's dose again ({word} mcg)."]}
    if step == "de_escalate" and not dose < today:
        return {"dose_mcg": [f"To de-escalate, choose a dose below today's {word} mcg."]}
    return {}


def _plan_matches(tomorrow: TrialDay, dose: Decimal, at: time) -> bool:
    """Tomorrow's plan already says this (e.g. only the reasons were edited): leave it, and its history, alone.
    Once tomorrow's dose is given, its time no longer matters, only the dose."""
    if tomorrow.planned_dose_mcg != dose:
        return False
    return dose_given(tomorrow) is not None or tomorrow.planned_at == local_to_utc(tomorrow.date, at)


def _plan_tomorrow(tomorrow: TrialDay, existing: DayDecision | None, step: str, dose: Decimal,
                   data: dict[str, Any], author_id: int) -> None:
    """Set tomorrow's dose through the dosing service, unless it already says so. A hold or cancellation is
    never lifted as a side effect: only the one this decision made itself (by ending or stopping) is. Even a
    plan left as it was goes through the dosing service's 24-hour rule (a dose given late today may put
    tomorrow's unchanged time under 24 h): refused with the message beside the time, never kept silently."""
    if tomorrow.dose_status == "planned":
        if _plan_matches(tomorrow, dose, data["planned_time"]):
            if dose_given(tomorrow) is None and tomorrow.planned_at is not None:
                errors = interval_errors(tomorrow.trial_id, tomorrow.id, tomorrow.planned_at, current_protocol(),
                                         "planned_time")
                if errors:
                    raise DecisionError(errors)
            return
    elif existing is not None and existing.next_step == step and existing.next_dose_mcg == dose:
        return  # the decision's step and dose are unchanged: the hold stays as it is
    else:
        word = "held" if tomorrow.dose_status == "held" else "cancelled"
        raise DecisionError({"next_step": [
            f"Day {tomorrow.day_number}'s dose is {word} ({tomorrow.dose_status_reason}). Resume it on its plan "
            "page first if the team wants it given, then save this decision."]})
    try:
        set_plan(tomorrow.id, {"dose_mcg": dose, "planned_time": data["planned_time"],
                               "override_reason": data.get("override_reason"),
                               "override_confirm": data.get("override_confirm"),
                               "dose_field": data.get("dose_field"),
                               "base_revision": tomorrow.revision}, author_id=author_id)
    except DosingError as exc:
        raise DecisionError(exc.errors) from exc
    except PlanConflict as exc:
        raise DecisionConflict(f"Day {tomorrow.day_number}'s plan was changed by someone else meanwhile. Nothing "
                               "was saved: reload the page, check that plan, then save the decision again.") from exc


def _closing_reason(day_number: int, step: str) -> str:
    """The reason a decision to end or stop writes on the later days it cancels (and so can recognise)."""
    return f"Team decision on day {day_number}: " + ("no more test doses." if step == "end" else
                                                      "trial stopped early.")


def _undo_closing(trial: Trial, day: TrialDay, existing: DayDecision, author_id: int) -> None:
    """The team no longer ends (or stops) on this day: resume the later days this decision cancelled, and only
    those (a cancellation someone else made, for another reason, stays)."""
    reason = _closing_reason(day.day_number, existing.next_step)
    for later in trial.days:
        if later.day_number > day.day_number and later.dose_status == "cancelled" \
                and later.dose_status_reason == reason and dose_given(later) is None:
            try:
                resume_dose(later.id, {"reason": f"Team decision on day {day.day_number} revised.",
                                       "base_revision": later.revision}, author_id=author_id)
            except DosingError as exc:
                raise DecisionError(exc.errors) from exc
            except PlanConflict as exc:
                raise DecisionConflict(exc.message) from exc


def _cancel_later(trial: Trial, after: int, reason: str, author_id: int) -> list[TrialDay]:
    cancelled = pending_later_days(trial, after)
    try:
        for d in cancelled:
            hold_dose(d.id, {"action": "cancel", "reason": reason, "base_revision": d.revision},
                      author_id=author_id)
    except DosingError as exc:
        raise DecisionError(exc.errors) from exc
    except PlanConflict as exc:
        raise DecisionConflict(exc.message) from exc
    return cancelled


def _locked_day(day_id: int) -> TrialDay | None:
    """The day, locked for this transaction (PostgreSQL: FOR UPDATE) and read fresh, so two decisions on the
    same day queue and the second sees the first (then its revision check answers a conflict)."""
    return db.session.scalars(select(TrialDay).where(TrialDay.id == day_id).with_for_update()
                              .execution_options(populate_existing=True)).first()


def duration_missing(decision: DayDecision | None) -> bool:
    """The team judged the dose to have had an effect, but has not recorded how long it lasted."""
    return decision is not None and decision.effect in EFFECT_SEEN and decision.effect_duration_hours is None


def effect_errors(day: TrialDay, given: DoseAdministration | None, onset: Decimal | None, duration: Decimal | None,
                  now: datetime) -> dict[str, list[str]]:
    """The effect's onset and duration: within the protocol's bounds, only for a day with a dose given, and not
    ending after now (the team records how long it lasted once it has worn off)."""
    errors = current_protocol().effect_hours_errors(onset, duration)
    typed = {name: value for name, value in zip(EFFECT_FIELDS, (onset, duration), strict=True) if value is not None}
    if errors or not typed:
        return errors
    if given is None:
        return {name: [f"No dose was given on day {day.day_number}: leave the effect's onset and duration blank."]
                for name in typed}
    tz = hospital_tz()
    began = given.given_at + timedelta(hours=float(onset or 0))
    if began > now + FUTURE_SLACK:
        return {"effect_onset_hours": [
            f"{format_mcg(onset)} h after the dose ({given.given_at.astimezone(tz):%H:%M}) is "
            f"{began.astimezone(tz):%a %H:%M}, which has not come yet: check the onset."]}
    if duration is not None and began + timedelta(hours=float(duration)) > now + FUTURE_SLACK:
        ended = began + timedelta(hours=float(duration))
        return {"effect_duration_hours": [
            f"The effect would wear off at {ended.astimezone(tz):%a %H:%M}, which has not come yet: record how long "
            "it lasted once it has worn off (revise the decision then)."]}
    return {}


def _hours(value: Decimal | None) -> Decimal | None:
    places = current_protocol().effect_hours_places
    return None if value is None else Decimal(value).quantize(Decimal(1).scaleb(-places))


def record_decision(day_id: int, data: dict[str, Any], *, author_id: int) -> DayDecision:
    """Record (or revise) a trial day's decision. `data`: effect, next_step, dose_mcg, planned_time,
    override_reason, rationale, team_present, parents_present, parents_view, effect_onset_hours and
    effect_duration_hours (optional), base_revision (0 when new)."""
    trial_id = db.session.scalar(select(TrialDay.trial_id).where(TrialDay.id == day_id))
    if trial_id is None:
        raise DecisionError({"_form": ["No such trial day."]})
    # The trial first (FOR KEY SHARE: the outcome's FOR UPDATE waits for this decision, a dose record does not),
    # then the day: the same order as the outcome path, so no deadlock, and the outcome sees this decision.
    trial = db.session.scalars(select(Trial).where(Trial.id == trial_id).with_for_update(read=True, key_share=True)
                               .execution_options(populate_existing=True)).one()
    day = _locked_day(day_id)
    if day is None:
        raise DecisionError({"_form": ["No such trial day."]})
    if not trial.is_open:
        raise DecisionError({"_form": [f"This trial is {TRIAL_STATUSES[trial.status].lower()}: its day decisions "
                                       "can no longer change."]})
    existing = db.session.scalars(select(DayDecision).where(DayDecision.trial_day_id == day.id)
                                  .execution_options(populate_existing=True)).first()  # fresh, under the lock
    _check_revision(existing.revision if existing else None, data["base_revision"], "decision")
    given = dose_given(day)
    if given is None and day.dose_status == "planned":
        raise DecisionError({"_form": [f"No dose is recorded for day {day.day_number} yet: record it (or hold or "
                                       "cancel it) before the team's decision."]})
    step = data["next_step"]
    tomorrow = next_day(day)
    dose: Decimal | None = data.get("dose_mcg") if step in DOSE_STEPS else None
    onset, duration = data.get("effect_onset_hours"), data.get("effect_duration_hours")
    errors: dict[str, list[str]] = effect_errors(day, given, onset, duration, utcnow())
    if step in DOSE_STEPS:
        if tomorrow is None:
            errors["next_step"] = [f"Day {day.day_number} is the last trial day: choose “No more test doses” or "
                                   "“Stop the trial early”, then record the candidacy outcome."]
        else:
            errors |= _dose_errors(step, dose, given.dose_mcg if given else day.planned_dose_mcg)
            if data.get("planned_time") is None:
                errors["planned_time"] = ["Enter the time of tomorrow's dose."]
    if errors:
        raise DecisionError(errors)
    if existing is not None and existing.next_step in CLOSING_STEPS and step != existing.next_step:
        _undo_closing(trial, day, existing, author_id)
    if step in DOSE_STEPS and tomorrow is not None and dose is not None:
        _plan_tomorrow(tomorrow, existing, step, dose, data, author_id)
    elif step in CLOSING_STEPS:
        _cancel_later(trial, day.day_number, _closing_reason(day.day_number, step), author_id)
    fields = {"effect": data["effect"], "next_step": step, "next_dose_mcg": dose,
              "rationale": data["rationale"], "team_present": list(data["team_present"]),
              "parents_present": bool(data["parents_present"]), "parents_view": data.get("parents_view"),
              "effect_onset_hours": _hours(onset), "effect_duration_hours": _hours(duration)}
    now = utcnow()
    if existing is None:
        existing = DayDecision(trial_day_id=day.id, revision=1, decided_by_id=author_id, decided_at=now,
                               updated_at=now, **fields)
        db.session.add(existing)
    else:
        changed = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(existing, key, value)
            existing.revision += 1
            existing.decided_by_id = author_id
            existing.updated_at = now
    db.session.flush()
    return existing


@dataclass(frozen=True)
class Evidence:
    """What the candidacy outcome would be recorded without: days (up to a decision to end or stop, else every
    day) without a dose given, dosed days without a post-dose PT assessment, days without a team decision, and
    days whose dose had an effect (judged good or an over-response) without how long it lasted (the starting
    pump dose depends on it)."""

    no_dose: list[TrialDay]
    no_post_dose: list[TrialDay]
    no_decision: list[TrialDay]
    no_duration: list[TrialDay] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return bool(self.no_dose or self.no_post_dose or self.no_decision or self.no_duration)

    def lines(self) -> list[str]:
        def days(ds: list[TrialDay]) -> str:
            numbers = [str(d.day_number) for d in ds]
            return ("day " if len(numbers) == 1 else "days ") + ", ".join(numbers)

        out = []
        if self.no_dose:
            out.append(f"No test dose given: {days(self.no_dose)}.")
        if self.no_post_dose:
            out.append(f"No post-dose PT assessment: {days(self.no_post_dose)}.")
        if self.no_decision:
            out.append(f"No team decision: {days(self.no_decision)}.")
        if self.no_duration:
            out.append(f"How long the effect lasted is not recorded: {days(self.no_duration)}.")
        return out


def outcome_evidence(trial: Trial) -> Evidence:
    """The evidence the outcome page lists as missing (three queries)."""
    decided = decisions_for(trial)
    end = next((d.day_number for d in trial.days if d.id in decided and decided[d.id].next_step in CLOSING_STEPS),
               None)
    counted = [d for d in trial.days if end is None or d.day_number <= end]
    ids = [d.id for d in trial.days]
    dosed = set(db.session.scalars(select(DoseAdministration.trial_day_id).where(
        DoseAdministration.trial_day_id.in_(ids), current_given()))) if ids else set()
    assessed = set(db.session.scalars(select(Assessment.trial_day_id).where(
        Assessment.trial_id == trial.id, Assessment.phase == "post_dose", latest_version())))
    return Evidence(no_dose=[d for d in counted if d.id not in dosed],
                    no_post_dose=[d for d in counted if d.id in dosed and d.id not in assessed],
                    no_decision=[d for d in counted if d.id not in decided],
                    no_duration=[d for d in counted if d.id in dosed and duration_missing(decided.get(d.id))])


@dataclass(frozen=True)
class DayEvidence:
    """One trial day as the outcome page shows it."""

    day: TrialDay
    dose: DoseAdministration | None
    tone: ToneSummary | None  # None: no PT assessment that day
    decision: DayDecision | None
    gas: Decimal | None
    events: DayEvents

    @property
    def duration_missing(self) -> bool:
        return self.dose is not None and duration_missing(self.decision)

    @property
    def responder(self) -> bool | None:
        """The responder flag: the tone criterion met (None: no assessment, or no muscle compared)."""
        return self.tone.meets if self.tone is not None else None


@dataclass(frozen=True)
class CandidacyEvidence:
    days: list[DayEvidence]
    pump: PumpSuggestion | None  # from the label's rule (decisions/pump.py); the team confirms


def candidacy_evidence(trial: Trial) -> CandidacyEvidence:
    """Per trial day: the dose given, the responder flag and MAS change, the effect's onset and duration, the
    GAS T-score, and the adverse effects and escalations the nurses charted; and the suggested starting pump
    dose from the lowest effective bolus."""
    ids = [d.id for d in trial.days]
    doses = {d.trial_day_id: d for d in db.session.scalars(select(DoseAdministration).where(
        DoseAdministration.trial_day_id.in_(ids), current_given()))} if ids else {}
    tones = {view.day.id: view.result.tone for view in trial_results(trial)}
    decided = decisions_for(trial)
    gas = t_scores(trial)
    events = charted_events(trial)
    days = [DayEvidence(d, doses.get(d.id), tones.get(d.id), decided.get(d.id), gas.get(d.id),
                        events.get(d.id, DayEvents())) for d in trial.days]
    pump = suggest_pump_dose([Bolus(e.day.day_number, e.dose.dose_mcg if e.dose else None, e.responder,
                                    e.decision.effect_duration_hours if e.decision else None) for e in days],
                             current_protocol())
    return CandidacyEvidence(days, pump)


def _guard_errors(evidence: Evidence, data: dict[str, Any]) -> dict[str, list[str]]:
    """With evidence missing, the outcome needs an explicit confirmation and a reason of at least a sentence."""
    if not evidence.missing:
        return {}
    protocol = current_protocol()
    errors: dict[str, list[str]] = {}
    if not data.get("confirm_missing"):
        errors["confirm_missing"] = ["Evidence is missing (listed above): tick to confirm the team records the "
                                     "outcome without it."]
    if not protocol.is_full_reason(data.get("outcome_reason")):
        errors["outcome_reason"] = [f"With evidence missing, give the team's reasons in {protocol.reason_rule()}."]
    return errors


def record_outcome(trial_id: int, data: dict[str, Any], *, author_id: int) -> Trial:
    """Record (or revise) the candidacy outcome: outcome, outcome_reason, confirm_missing, base_revision (the
    trial's). With evidence missing (`outcome_evidence`) it needs the explicit confirmation and a reason of at
    least a sentence, also when revised. The first time, it closes the trial (completed, or stopped when a day's
    decision stopped it early) and cancels any dose still planned; the monitoring after the last dose goes on
    (the ward keeps the child until it ends)."""
    trial = db.session.scalars(select(Trial).where(Trial.id == trial_id).with_for_update()
                               .execution_options(populate_existing=True)).first()
    if trial is None:
        raise DecisionError({"_form": ["No such trial."]})
    _check_revision(trial.revision, data["base_revision"], "outcome")
    if not db.session.scalar(select(DoseAdministration.id).join(TrialDay).where(TrialDay.trial_id == trial.id,
                                                                                current_given())):
        raise DecisionError({"_form": ["No test dose has been given in this trial yet: there is nothing to judge."]})
    if trial.status == "planned":
        raise DecisionError({"_form": ["This trial has not started."]})
    errors = _guard_errors(outcome_evidence(trial), data)
    if errors:
        raise DecisionError(errors)
    changed = trial.is_open or (trial.outcome, trial.outcome_reason) != (data["outcome"], data["outcome_reason"])
    if trial.is_open:
        stopped = any(d.next_step == "stop" for d in decisions_for(trial).values())
        _cancel_later(trial, 0, "Trial closed: the candidacy outcome was recorded.", author_id)
        trial.status = "stopped" if stopped else "completed"
    if changed:
        trial.outcome = data["outcome"]
        trial.outcome_reason = data["outcome_reason"]
        trial.revision += 1
        db.session.flush()
    return trial


@dataclass(frozen=True)
class Choices:
    """The fixed lists the forms offer (the schemas accept exactly these keys)."""

    effects: dict[str, str]
    next_steps: dict[str, str]
    team_roles: dict[str, str]
    outcomes: dict[str, str]


CHOICES = Choices(EFFECTS, NEXT_STEPS, TEAM_ROLES, OUTCOMES)
