"""Trial summary fixtures: trials written through each feature's services, as on the ward, with as many days,
repeat assessments, corrections and observations as a test asks for, and the parents' daily observations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from server.extensions import db
from tests.decisions.conftest import OVER, START, clock, day_id, decide, give, team

__all__ = ["clock", "team"]  # the decision tests' fixtures, for these tests too

MUM = "Mum's phone"
PARENT_NOTE = "He slept through the night and his legs felt looser when dressing."


def _assess(trial_id: int, number: int, pt: int, grade: tuple[str, str], repeats: int) -> None:
    """Baseline at 08:00 and post-dose at 13:00 (then repeats a minute apart), every lower-limb muscle at one
    grade; each repeat's first version corrected once, so corrections are read too."""
    from server.assessments.services import correct_assessment, record_assessment
    from tests.assessments.conftest import form, loaded

    on = START + timedelta(days=number - 1)
    for n in range(repeats):
        for phase, g, hour in (("baseline", grade[0], 8), ("post_dose", grade[1], 13)):
            at = datetime.combine(on, time(hour, n), tzinfo=UTC)
            extra = {"repeat": "1"} if n else {}
            saved = record_assessment(loaded(form(trial_id, day_number=number, phase=phase, grade=g, **extra)),
                                      author_id=pt, recorded_at=at, entry_id=str(uuid.uuid4()))
            if n:
                correct_assessment(saved.id, loaded(form(trial_id, day_number=number, phase=phase, grade=g)),
                                   reason="Typed on the wrong side first.", author_id=pt,
                                   recorded_at=at + timedelta(minutes=30), entry_id=str(uuid.uuid4()))
    db.session.commit()


def _observe(trial_id: int, number: int, nurse: int, count: int) -> None:
    """`count` sets of observations from 09:15, every 15 minutes; on day 1 the first charts drowsiness (an overdose
    sign: an escalation, acted on)."""
    from server.dosing.services import open_escalations, record_escalation_response, record_observation

    on = START + timedelta(days=number - 1)
    for n in range(count):
        at = datetime.combine(on, time(9, 15), tzinfo=UTC) + timedelta(minutes=15 * n)
        effects = ["drowsiness"] if number == 1 and n == 0 else []
        record_observation({"trial_day_id": day_id(trial_id, number), "taken_at": at, "heart_rate": 96 + n,
                            "resp_rate": 22, "spo2": 97, "sedation_score": 1, "pain_score": 2, "effects": effects},
                           author_id=nurse, entry_id=str(uuid.uuid4()), recorded_at=at, now=at)
        db.session.commit()
        if effects:
            key = open_escalations([trial_id])[trial_id].key
            record_escalation_response(trial_id, {"acted_by_id": nurse, "acted_at": at + timedelta(minutes=5),
                                                  "action_taken": "Surgeon reviewed; observations every 15 minutes.",
                                                  "escalation_key": key}, author_id=nurse,
                                       now=at + timedelta(minutes=10))
            db.session.commit()


def _correct_dose(trial_id: int, number: int, surgeon: int, nurse: int, times: int) -> None:
    from server.dosing.services import amend_dose, current_dose

    for n in range(times):
        dose = current_dose(day_id(trial_id, number))
        assert dose is not None
        amend_dose(dose.id, {"given_time": time(8, 59 - n), "dose_mcg": dose.dose_mcg, "override_reason": None,
                             "override_confirm": None, "checked_by_id": surgeon, "base_version": dose.version,
                             "reason": "The drug sheet says a minute earlier than typed."},
                   author_id=surgeon, now=OVER)
        db.session.commit()


@pytest.fixture
def build(app: Flask, make_trial, team, clock):  # type: ignore[no-untyped-def]
    """Factory: a trial from START (2 Nov 2026, GMT) with `days` days dosed (50, 75, 75 mcg), each with
    `assessments` baseline and post-dose assessments (repeats corrected once), `observations` sets of nursing
    observations, `corrections` corrections of the dose, a parent's observation, goals rated and the team's
    decision; the outcome (candidate) once every dosed day is decided. Returns the trial id."""

    def _build(days: int = 3, assessments: int = 1, observations: int = 1, corrections: int = 0,
               outcome: bool = True, **trial: Any) -> int:
        from server.decisions.services import record_outcome
        from server.goals.services import rate_goals, set_goals
        from server.parents.observations import record_observation as parent_observation
        from server.parents.services import create_link
        from server.trials.models import Trial

        s, n, pt = team["surgeon"], team["nurse"], team["pt"]
        trial_id = make_trial(start_date=START, **trial)
        with app.app_context():
            goals = set_goals(trial_id, [("Sit at the table for a meal", 2), ("Easier nappy changes", 1)],
                              author_id=pt)
            link = create_link(trial_id, {"label": MUM, "expires_in_days": 30}, author_id=s).link
            db.session.commit()
            for number in range(1, days + 1):
                give(trial_id, number, nurse=n, surgeon=s, mcg="50" if number == 1 else "75")
                _correct_dose(trial_id, number, s, n, corrections)
                _assess(trial_id, number, pt, ("2", "2") if number == 1 else ("2", "1"), assessments)
                _observe(trial_id, number, n, observations)
                parent_observation(link, day_id(trial_id, number), {"comfort": 4, "sleep": 5, "note": PARENT_NOTE},
                                   language="en", today=START + timedelta(days=9), now=OVER)
                rate_goals(day_id(trial_id, number), {goals[0].id: number - 2, goals[1].id: 0}, author_id=pt)
                db.session.commit()
                if number == days:
                    decide(trial_id, number, s, effect="good", next_step="end", dose_mcg=None,
                           effect_onset_hours=Decimal("0.5"), effect_duration_hours=Decimal("5.5"))
                elif number == 1:
                    decide(trial_id, number, s)  # inadequate: escalate to 75 mcg
                else:
                    decide(trial_id, number, s, effect="good", next_step="repeat", dose_mcg=Decimal("75"),
                           effect_onset_hours=Decimal(1), effect_duration_hours=Decimal(6))
            if outcome and days:
                t = db.session.get(Trial, trial_id)
                record_outcome(trial_id, {"outcome": "candidate", "base_revision": t.revision, "confirm_missing": True,
                                          "outcome_reason": "Tone clearly lower at 75 mcg; goals met; family keen."},
                               author_id=s)
                db.session.commit()
        return int(trial_id)

    return _build
