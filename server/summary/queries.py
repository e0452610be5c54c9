"""The trial summary for the medical record, read in a fixed number of queries however many days, assessments,
doses, corrections and observations the trial holds. Read-only: nothing here writes (the view audits the read).

It starts from the exports' `collect` (the trial, its child, every assessment version pair, dose record version,
nursing observation, day decision, goal, rating and staff member named, each in one query) and adds what only
the summary shows through the owning features' read functions: the day comparisons (`assessments.results.
day_views`, from the assessments already read), the assessment plan, the adverse effects and escalations the
nurses charted (`dosing.charted_events`), the parents' daily observations (`parents.observations_for_trial`) and
the suggested starting pump dose (`decisions.pump.suggest_pump_dose`). No table of another feature is queried here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from ..assessments.instruments import MasMapping
from ..assessments.models import Assessment
from ..assessments.results import DayView, day_views
from ..assessments.services import plan_for
from ..auth.models import User
from ..decisions.models import DayDecision
from ..decisions.pump import Bolus, PumpSuggestion, suggest_pump_dose
from ..dosing.models import DoseAdministration, Observation
from ..dosing.services import DayEvents, charted_events, observation_flags
from ..dosing.vitals import Flag
from ..exports.records import Records, collect
from ..goals.models import Goal, GoalRating
from ..parents.observations import TeamView, observations_for_trial
from ..protocol import current_protocol
from ..trials.models import Patient, Trial, TrialDay
from .chart import MasChart, mas_chart


@dataclass(frozen=True)
class FlaggedObservation:
    obs: Observation
    flags: list[Flag]
    by: str


@dataclass(frozen=True)
class SummaryDay:
    """One trial day as the summary prints it."""

    day: TrialDay
    dose: DoseAdministration | None  # the dose given, as last corrected (None: none, or entered in error)
    record: DoseAdministration | None  # the latest version of the day's dose record, whatever it says
    versions: list[DoseAdministration]  # every version of the record, oldest first (corrections, entered in error)
    view: DayView | None  # the PT comparison (None: no assessment that day)
    decision: DayDecision | None
    events: DayEvents  # adverse effects and escalations the nurses charted
    observations: list[Observation]  # every set of nursing observations that day, in time order
    flagged: list[FlaggedObservation]  # those with a flag
    parents: list[TeamView]  # the parents' daily observations (their words)
    ratings: list[tuple[Goal, GoalRating]]  # the family's goals rated that day
    gas: Decimal | None  # that day's GAS T-score

    @property
    def corrected(self) -> bool:
        return len(self.versions) > 1

    @property
    def entered_in_error(self) -> bool:
        return self.record is not None and not self.record.is_given

    @property
    def responder(self) -> bool | None:
        return self.view.result.tone.meets if self.view is not None else None


@dataclass(frozen=True)
class GoalLine:
    goal: Goal
    ratings: dict[int, GoalRating]  # by trial day id


@dataclass(frozen=True)
class Summary:
    trial: Trial
    patient: Patient
    days: list[SummaryDay]
    goals: list[GoalLine]
    t_scores: dict[int, Decimal]  # by trial day id
    pump: PumpSuggestion | None
    chart: MasChart
    mapping: MasMapping
    users: dict[int, User]
    # Everything read, kept while the page is drawn: a corrected assessment's time is its first version's
    # (`assessments.services.assessed_at`, from the session's identity map, which holds only what is referenced).
    records: Records

    def person(self, user_id: int | None) -> str:
        """A staff member's name as the record shows it ("" when not known)."""
        user = self.users.get(user_id) if user_id is not None else None
        return user.display_name if user is not None else ""


def _by_day(rows: list[Observation]) -> dict[int, list[Observation]]:
    out: dict[int, list[Observation]] = defaultdict(list)
    for row in rows:
        out[row.trial_day_id].append(row)
    return out


def _versions(rec: Records) -> dict[int, list[DoseAdministration]]:
    out: dict[int, list[DoseAdministration]] = defaultdict(list)
    for dose in rec.doses:  # by day, then version
        out[dose.trial_day_id].append(dose)
    return out


def build_summary(trial_id: int) -> Summary | None:
    """The trial's summary, or None when there is no such trial."""
    rec = collect([trial_id])
    if not rec.trials:
        return None
    trial = rec.trials[0]
    patient = trial.patient
    given = {d.id: dose for d in trial.days if (dose := rec.dose_given(d.id)) is not None}
    current: list[Assessment] = [a for a, _first in rec.assessments]  # their first versions stay loaded: `records`
    views = {v.day.id: v for v in day_views(trial, current, given, plan_for(trial), rec.mapping)}
    events = charted_events(trial)
    parents = observations_for_trial(trial)
    observations = _by_day(rec.observations)
    versions = _versions(rec)
    scores = rec.t_scores()
    goals = [GoalLine(g, {day_id: r for (goal_id, day_id), r in rec.ratings.items() if goal_id == g.id})
             for g in rec.goals]
    days = []
    for d in trial.days:
        seen = observations.get(d.id, [])
        flagged = [FlaggedObservation(o, flags, rec.users[o.author_id].display_name if o.author_id in rec.users
                                      else "") for o in seen if (flags := observation_flags(o, patient))]
        days.append(SummaryDay(
            day=d, dose=given.get(d.id), record=rec.latest_dose.get(d.id), versions=versions.get(d.id, []),
            view=views.get(d.id), decision=rec.decisions.get(d.id), events=events.get(d.id, DayEvents()),
            observations=seen, flagged=flagged, parents=parents.get(d.id, []),
            ratings=[(line.goal, line.ratings[d.id]) for line in goals if d.id in line.ratings],
            gas=scores.get(d.id)))
    pump = suggest_pump_dose([Bolus(s.day.day_number, s.dose.dose_mcg if s.dose else None, s.responder,
                                    s.decision.effect_duration_hours if s.decision else None) for s in days],
                             current_protocol())
    chart = mas_chart([(s.day.day_number, s.view.result.tone if s.view else None) for s in days], rec.mapping)
    return Summary(trial=trial, patient=patient, days=days, goals=goals, t_scores=scores, pump=pump, chart=chart,
                   mapping=rec.mapping, users=rec.users, records=rec)
