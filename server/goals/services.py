"""Goals and their ratings: the one write path (the goals page calls these) and the reads the team pages use.

Goals are agreed with the family before the first test dose (clinical-brief §6): they can be rewritten until
the first rating, then they are fixed, so every day is rated against the same goals. Ratings are per goal and
trial day; re-rating a day updates it (audited). Like every service these flush and never commit.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..protocol import current_protocol
from ..trials.models import TRIAL_STATUSES, Trial, TrialDay
from ..web import clock
from ..web.forms import Refused
from .models import Goal, GoalRating
from .scoring import t_score


class GoalError(Refused):
    """Refused input, with messages by form field. Nothing was written."""


def goals_for(trial_id: int) -> list[Goal]:
    return list(db.session.scalars(select(Goal).where(Goal.trial_id == trial_id).order_by(Goal.position)))


def goals_of(trial_ids: list[int]) -> list[Goal]:
    """The goals of these trials, by trial then position (one query: the exports)."""
    if not trial_ids:
        return []
    return list(db.session.scalars(select(Goal).where(Goal.trial_id.in_(trial_ids))
                                   .order_by(Goal.trial_id, Goal.position)))


def ratings_for(goals: list[Goal]) -> dict[tuple[int, int], GoalRating]:
    """Every rating of these goals, by (goal id, trial day id)."""
    if not goals:
        return {}
    rows = db.session.scalars(select(GoalRating).where(GoalRating.goal_id.in_([g.id for g in goals])))
    return {(r.goal_id, r.trial_day_id): r for r in rows}


def t_scores(trial: Trial) -> dict[int, Decimal]:
    """The GAS T-score of each trial day that has ratings, by trial day id (two queries)."""
    goals = goals_for(trial.id)
    ratings = ratings_for(goals)
    rho = Decimal(current_protocol().gas_rho)
    out: dict[int, Decimal] = {}
    for day in trial.days:
        rated = [(g.weight, ratings[(g.id, day.id)].score) for g in goals if (g.id, day.id) in ratings]
        score = t_score(rated, rho)
        if score is not None:
            out[day.id] = score
    return out


def _open(trial: Trial | None) -> Trial:
    if trial is None:
        raise GoalError({"_form": ["No such trial."]})
    if not trial.is_open:
        raise GoalError({"_form": [f"This trial is {TRIAL_STATUSES[trial.status].lower()}: its goals can no "
                                   "longer change."]})
    return trial


def set_goals(trial_id: int, goals: list[tuple[str, int]], *, author_id: int) -> list[Goal]:
    """Replace the trial's goals (description, weight), in order. Refused once any goal has been rated."""
    trial = _open(db.session.get(Trial, trial_id))
    limit = current_protocol().gas_max_goals
    if len(goals) > limit:
        raise GoalError({"goal_1": [f"At most {limit} goals."]})
    current = goals_for(trial.id)
    if ratings_for(current):
        raise GoalError({"_form": ["The goals have been rated already, so they are fixed: every day is rated "
                                   "against the same goals."]})
    if [(g.description, g.weight) for g in current] == list(goals):
        return current
    for goal in current:  # unrated, so nothing refers to them; the audit log records each removal
        db.session.delete(goal)
    db.session.flush()
    now = clock.now()
    made = [Goal(trial_id=trial.id, position=n, description=text, weight=weight, set_by_id=author_id, set_at=now)
            for n, (text, weight) in enumerate(goals, start=1)]
    db.session.add_all(made)
    db.session.flush()
    return made


def rate_goals(day_id: int, scores: dict[int, int], *, author_id: int) -> list[GoalRating]:
    """Rate the trial's goals for one trial day (-2..+2 each); a goal rated before on that day is re-rated."""
    day = db.session.get(TrialDay, day_id)
    if day is None:
        raise GoalError({"_form": ["No such trial day."]})
    trial = _open(day.trial)
    goals = {g.id: g for g in goals_for(trial.id)}
    unknown = [gid for gid in scores if gid not in goals]
    if unknown:
        raise GoalError({f"score_{gid}": ["This goal is not one of this trial's goals."] for gid in unknown})
    existing = ratings_for(list(goals.values()))
    now = clock.now()
    saved: list[GoalRating] = []
    for gid, score in scores.items():
        rating = existing.get((gid, day.id))
        if rating is None:
            rating = GoalRating(goal_id=gid, trial_day_id=day.id, score=score, rated_by_id=author_id, rated_at=now)
            db.session.add(rating)
        elif rating.score != score:
            rating.score, rating.rated_by_id, rating.rated_at = score, author_id, now
        saved.append(rating)
    db.session.flush()
    return saved

