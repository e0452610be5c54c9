"""Demo decisions: each names a day whose dose was given, and agrees with the plan the dosing demo set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.cli import load_demo_data
from server.decisions.models import DayDecision
from server.extensions import db
from server.trials.models import Patient, Trial, TrialDay
from tests.dosing.conftest import DAY


@pytest.mark.parametrize("hour", [0, 11])
def test_demo_decisions_match_the_demo_doses_and_plans(app, hour: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        load_demo_data(DAY, datetime(2026, 11, 25, hour, 30, tzinfo=UTC))
        rows = db.session.execute(select(Patient.first_name, TrialDay.day_number, DayDecision)
                                  .join(TrialDay, DayDecision.trial_day_id == TrialDay.id)
                                  .join(Trial, TrialDay.trial_id == Trial.id).join(Patient)
                                  .order_by(Patient.first_name, TrialDay.day_number)).all()
        by_child: dict[str, list[int]] = {}
        for name, number, decision in rows:
            by_child.setdefault(name, []).append(number)
            if decision.next_dose_mcg is not None:  # tomorrow's plan is the dose the team chose
                day = db.session.get(TrialDay, decision.trial_day_id)
                tomorrow = next(d for d in day.trial.days if d.day_number == number + 1)
                assert tomorrow.planned_dose_mcg == decision.next_dose_mcg, (name, number)
        # Ben's day-1 dose is yesterday's at any hour; Amira has had no dose yet.
        assert by_child == {"Ben": [1], "Chloe": [1, 2], "Daniel": [1, 2, 3]}


def test_demo_goals_are_rated_on_the_dosed_days(app) -> None:  # type: ignore[no-untyped-def]
    from server.goals.services import goals_for, t_scores

    with app.app_context():
        load_demo_data(DAY, datetime(2026, 11, 25, 11, 30, tzinfo=UTC))
        trials = {t.patient.first_name: t for t in db.session.scalars(select(Trial).join(Patient))}
        assert [len(goals_for(trials[n].id)) for n in ("Amira", "Ben", "Chloe", "Daniel")] == [0, 2, 2, 0]
        by_day = {n: {d.day_number: t for d in trials[n].days if (t := t_scores(trials[n]).get(d.id))}
                  for n in ("Ben", "Chloe")}
        assert set(by_day["Ben"]) == {1} and set(by_day["Chloe"]) == {1, 2}
        assert by_day["Chloe"][2] > by_day["Chloe"][1]  # better on day 2, as the demo tells it


def test_demo_decisions_record_the_effect_within_the_protocols_bounds(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The demo loader is a path that sets the effect's hours: it records them and checks the protocol's bounds."""
    from decimal import Decimal

    from server.decisions import demo

    with app.app_context():
        load_demo_data(DAY, datetime(2026, 11, 25, 11, 30, tzinfo=UTC))
        daniel = {
            number: (decision.effect_onset_hours, decision.effect_duration_hours)
            for number, decision in db.session.execute(
                select(TrialDay.day_number, DayDecision).join(TrialDay, DayDecision.trial_day_id == TrialDay.id)
                .join(Trial, TrialDay.trial_id == Trial.id).join(Patient).where(Patient.first_name == "Daniel"))}
        assert daniel == {1: (None, None), 2: (Decimal("1.0"), Decimal("6.5")), 3: (Decimal("0.5"), Decimal("7.0"))}
        db.session.rollback()

    rows = {mrn: list(r) for mrn, r in demo.DEMO.items()}
    number, effect, step, dose, why, parents, _ = rows["DEMO-1004"][1]
    rows["DEMO-1004"][1] = (number, effect, step, dose, why, parents, ("1", "60"))
    monkeypatch.setattr(demo, "DEMO", rows)
    with app.app_context(), pytest.raises(ValueError, match="effect_duration_hours"):
        demo.add_demo_decisions()
