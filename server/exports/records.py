"""Everything an export needs about some trials, read in a fixed number of queries however many days,
assessments, doses and observations they hold: the research CSV and the FHIR bundle both start here.

Other features' tables are read only through the read functions those packages expose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import selectinload

from ..assessments.instruments import MAS_MAPPINGS, MasMapping
from ..assessments.models import Assessment
from ..assessments.services import current_versions
from ..auth.models import User
from ..auth.services import users_by_id
from ..decisions.models import DayDecision
from ..decisions.services import decisions_by_day
from ..dosing.models import DoseAdministration, Observation
from ..dosing.services import dose_records, observations_for
from ..extensions import db
from ..goals.models import Goal, GoalRating
from ..goals.scoring import t_score
from ..goals.services import goals_of, ratings_for
from ..protocol import current_protocol
from ..trials.models import Patient, Trial, TrialDay
from ..trials.services import trials_query
from .study import study_code


@dataclass
class Records:
    trials: list[Trial]
    assessments: list[tuple[Assessment, Assessment]]  # (latest version, first version)
    doses: list[DoseAdministration]  # every version, by day then version
    observations: list[Observation]
    decisions: dict[int, DayDecision]  # by trial day id
    goals: list[Goal]
    ratings: dict[tuple[int, int], GoalRating]  # by (goal id, trial day id)
    users: dict[int, User]
    mapping: MasMapping
    rho: Decimal
    days: dict[int, TrialDay] = field(default_factory=dict)  # by id
    latest_dose: dict[int, DoseAdministration] = field(default_factory=dict)  # by trial day id, any status

    def __post_init__(self) -> None:
        self.days = {d.id: d for t in self.trials for d in t.days}
        for dose in self.doses:  # by version, so the last one seen is the latest
            self.latest_dose[dose.trial_day_id] = dose

    def dose_given(self, day_id: int) -> DoseAdministration | None:
        """The day's dose as last corrected, None if none or entered in error (as `dosing.current_given`)."""
        dose = self.latest_dose.get(day_id)
        return dose if dose is not None and dose.is_given else None

    def username(self, user_id: int | None) -> str:
        user = self.users.get(user_id) if user_id is not None else None
        return user.username if user is not None else ""

    def minutes_after_dose(self, day_id: int, at: datetime) -> int | None:
        dose = self.dose_given(day_id)
        return int((at - dose.given_at).total_seconds() // 60) if dose is not None else None

    def t_scores(self) -> dict[int, Decimal]:
        """The GAS T-score of each trial day with ratings, by trial day id (goals/scoring.py)."""
        by_trial: dict[int, list[Goal]] = defaultdict(list)
        for goal in self.goals:
            by_trial[goal.trial_id].append(goal)
        out: dict[int, Decimal] = {}
        for trial in self.trials:
            for day in trial.days:
                rated = [(g.weight, self.ratings[(g.id, day.id)].score) for g in by_trial[trial.id]
                         if (g.id, day.id) in self.ratings]
                score = t_score(rated, self.rho)
                if score is not None:
                    out[day.id] = score
        return out


def trial_code(trial: Trial) -> str:
    """The trial's code in research exports: the child's study code and the trial's number for that child."""
    ordered = sorted(trial.patient.trials, key=lambda t: (t.start_date, t.id))
    return f"{study_code(trial.patient)}-{ordered.index(trial) + 1}"


def collect(trial_ids: list[int] | None = None) -> Records:
    """The records of these trials (every trial when None), in a fixed number of queries."""
    query = trials_query().options(selectinload(Trial.patient).selectinload(Patient.trials))
    if trial_ids is not None:
        query = query.where(Trial.id.in_(trial_ids))
    trials = sorted(db.session.scalars(query).unique(), key=lambda t: t.id)
    ids = [t.id for t in trials]
    day_ids = [d.id for t in trials for d in t.days]
    assessments = current_versions(ids)
    doses = dose_records(day_ids)
    observations = observations_for(day_ids)
    decisions = decisions_by_day(day_ids)
    goals = goals_of(ids)
    ratings = ratings_for(goals)
    people: set[int] = {t.created_by_id for t in trials if t.created_by_id is not None}
    for current, first in assessments:
        people |= {current.author_id, first.author_id}
    for dose in doses:
        people |= {dose.given_by_id, dose.checked_by_id, *([dose.recorded_by_id] if dose.recorded_by_id else [])}
    people |= {o.author_id for o in observations} | {d.decided_by_id for d in decisions.values()}
    people |= {g.set_by_id for g in goals} | {r.rated_by_id for r in ratings.values()}
    protocol = current_protocol()
    return Records(trials=trials, assessments=assessments, doses=doses, observations=observations,
                   decisions=decisions, goals=goals, ratings=ratings, users=users_by_id(people),
                   mapping=MAS_MAPPINGS[protocol.mas_mapping], rho=Decimal(protocol.gas_rho))
