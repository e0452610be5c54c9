"""Demo goals for the demo children on a trial now (server/cli.py load_demo_data calls add_demo_goals): set
through the service, and rated on the days whose dose was given. Flushes only: the caller commits."""

from __future__ import annotations

from sqlalchemy import select

from ..audit.context import Actor, acting_as
from ..auth.models import User
from ..dosing.demo import day_of, has_dose, trial_by_mrn
from ..extensions import db
from .services import goals_for, rate_goals, set_goals

# mrn -> (goals as (description, weight), {day number: scores in goal order})
DEMO: dict[str, tuple[list[tuple[str, int]], dict[int, list[int]]]] = {
    "DEMO-1002": ([("Sits at the table through a whole meal (expected: with one reminder)", 2),
                   ("Easier to dress in the morning (expected: legs part without a struggle)", 1)],
                  {1: [-1, 0]}),
    "DEMO-1003": ([("Sits in her wheelchair for a school morning (expected: 2 hours)", 2),
                   ("Sleeps through without spasms waking her (expected: wakes once)", 1)],
                  {1: [-1, -1], 2: [0, 1]}),
}


def add_demo_goals() -> None:
    pt = db.session.scalar(select(User.id).where(User.username == "pt"))
    if pt is None:
        return
    with acting_as(Actor(user_id=None, via="cli")):
        for mrn, (goals, ratings) in DEMO.items():
            trial = trial_by_mrn(mrn)
            if trial is None or not trial.is_open or goals_for(trial.id):
                continue
            made = set_goals(trial.id, goals, author_id=pt)
            for number, scores in ratings.items():
                day = day_of(trial, number)
                if has_dose(day):
                    rate_goals(day.id, {g.id: x for g, x in zip(made, scores, strict=True)}, author_id=pt)
