"""Helpers for decision tests: a trial with doses given through the dosing service, as on the ward."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from time_machine import TimeMachineFixture

from server.extensions import db

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for record_dose: every dose time of a test trial is in the past
START = date(2026, 11, 2)  # a trial's first day in the past; London is on GMT from 2 to 4 Nov, so local = UTC
OVER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # a week later: every dose and effect of a test trial is over


def day_id(trial_id: int, day_number: int) -> int:
    from server.trials.models import Trial

    trial = db.session.get(Trial, trial_id)
    assert trial is not None
    return next(d.id for d in trial.days if d.day_number == day_number)


def give(trial_id: int, day_number: int, *, nurse: int, surgeon: int, mcg: str = "50", at: time = time(9, 0)) -> None:
    """Record a day's dose through the dosing service (which also makes the trial active), and commit."""
    from server.dosing.services import record_dose

    record_dose(day_id(trial_id, day_number), {"given_time": at, "dose_mcg": Decimal(mcg), "route": "catheter",
                                               "given_by_id": nurse, "checked_by_id": surgeon},
                recorded_by_id=surgeon, now=LATER)
    db.session.commit()


def decision(**over: Any) -> dict[str, Any]:
    """A valid DecisionSchema output: escalate to 75 mcg at 09:00, surgeon and PT present."""
    return {"effect": "inadequate", "next_step": "escalate", "dose_mcg": Decimal("75"), "planned_time": time(9, 0),
            "override_reason": None, "rationale": "Little change in tone at 50 mcg.", "team_present": ["surgeon", "pt"],
            "parents_present": True, "parents_view": "We saw no difference.", "base_revision": 0, **over}


def assess(trial_id: int, number: int, pt: int, base: str, post: str) -> None:
    """Baseline at 08:00 and post-dose at 13:00 on the day, every lower-limb muscle group at one grade."""
    from server.assessments.services import record_assessment
    from tests.assessments.conftest import form, loaded

    on = START + timedelta(days=number - 1)
    for phase, grade, hour in (("baseline", base, 8), ("post_dose", post, 13)):
        record_assessment(loaded(form(trial_id, day_number=number, phase=phase, grade=grade)), author_id=pt,
                          recorded_at=datetime.combine(on, time(hour), tzinfo=UTC), entry_id=str(uuid.uuid4()))
    db.session.commit()


def decide(trial_id: int, number: int, surgeon: int, **over: Any) -> Any:
    """Record a day's decision through the service (`decision()` with `over`), and commit."""
    from server.decisions.services import record_decision

    saved = record_decision(day_id(trial_id, number), decision(**over), author_id=surgeon)
    db.session.commit()
    return saved


def three_days(trial_id: int, team: dict[str, int]) -> None:
    """Day 1 50 mcg: MAS 2 -> 2, inadequate. Day 2 75 mcg: 2 -> 1, good, 1 h / 6 h, drowsiness charted and acted on.
    Day 3 75 mcg: 2 -> 1, good, 0.5 h / 5.5 h, nausea charted. Goals rated each day."""
    from server.dosing.services import open_escalations, record_escalation_response, record_observation
    from server.goals.services import rate_goals, set_goals

    s, n, pt = team["surgeon"], team["nurse"], team["pt"]
    goals = set_goals(trial_id, [("Sit at the table for a meal", 2), ("Easier nappy changes", 1)], author_id=pt)
    db.session.commit()
    assess(trial_id, 1, pt, "2", "2")
    decide(trial_id, 1, s)  # inadequate -> escalate to 75 mcg at 09:00
    give(trial_id, 2, nurse=n, surgeon=s, mcg="75")
    assess(trial_id, 2, pt, "2", "1")
    at = datetime(2026, 11, 3, 11, 30, tzinfo=UTC)
    record_observation({"trial_day_id": day_id(trial_id, 2), "taken_at": at, "sedation_score": 1,
                        "effects": ["drowsiness"]}, author_id=n, entry_id=str(uuid.uuid4()), recorded_at=at, now=at)
    db.session.commit()
    key = open_escalations([trial_id])[trial_id].key
    record_escalation_response(trial_id, {"acted_by_id": n, "acted_at": at + timedelta(minutes=5),
                                          "action_taken": "Surgeon reviewed; observations every 15 minutes.",
                                          "escalation_key": key}, author_id=n, now=at + timedelta(minutes=10))
    db.session.commit()
    decide(trial_id, 2, s, effect="good", next_step="repeat", dose_mcg=Decimal("75"),
           effect_onset_hours=Decimal(1), effect_duration_hours=Decimal(6))
    give(trial_id, 3, nurse=n, surgeon=s, mcg="75")
    assess(trial_id, 3, pt, "2", "1")
    at3 = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    record_observation({"trial_day_id": day_id(trial_id, 3), "taken_at": at3, "effects": ["nausea_vomiting"]},
                       author_id=n, entry_id=str(uuid.uuid4()), recorded_at=at3, now=at3)
    decide(trial_id, 3, s, effect="good", next_step="end", dose_mcg=None, effect_onset_hours=Decimal("0.5"),
           effect_duration_hours=Decimal("5.5"))
    for number, scores in ((1, (-1, -1)), (2, (1, 0)), (3, (1, 1))):
        rate_goals(day_id(trial_id, number), {g.id: x for g, x in zip(goals, scores, strict=True)}, author_id=pt)
    db.session.commit()


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> None:
    """The clock stands at OVER (an effect's duration is recorded once it has worn off)."""
    time_machine.move_to(OVER, tick=False)


@pytest.fixture
def team(make_user):  # type: ignore[no-untyped-def]
    return {"surgeon": make_user("surgeon"), "nurse": make_user("nurse"), "pt": make_user("pt")}


