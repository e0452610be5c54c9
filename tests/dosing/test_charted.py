"""What the nurses charted, read by trial day for the team's pages (issue 13, finding 5): the adverse effects with
their times, and each escalation with what was done, or still open. Other features read observations and escalation
records only through `dosing.services.charted_events`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server.dosing.services import charted_events, record_escalation_response
from server.extensions import db
from server.trials.models import Trial
from tests.dosing.conftest import DAY, day_id, give, observe

T = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # London is on GMT: hospital time = UTC
ACTION = "Rapid response called; surgeon reviewed the child at the bedside."



def _events(app, trial_id: int) -> dict[int, Any]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return charted_events(db.session.get(Trial, trial_id))


def test_effects_and_escalations_by_day(app, trial_on, staff) -> None:  # type: ignore[no-untyped-def]
    trial = trial_on(DAY - timedelta(days=1))
    d1, d2 = day_id(app, trial, 1), day_id(app, trial, 2)
    give(app, d1, staff)
    give(app, d2, staff, mcg="75")
    # Day 1: nausea charted twice, a quiet check in between. Day 2: drowsiness (an overdose sign) with headache,
    # acted on; then a seizure, still open.
    observe(app, d1, staff["nurse"], T - timedelta(days=1), heart_rate=90, effects=["nausea_vomiting"])
    observe(app, d1, staff["nurse"], T - timedelta(days=1, minutes=-30), heart_rate=88, effects=[])
    observe(app, d1, staff["nurse"], T - timedelta(days=1, minutes=-60),
             effects=["nausea_vomiting", "nausea_vomiting"])
    observe(app, d2, staff["nurse"], T, effects=["headache", "drowsiness"])
    with app.app_context():
        from server.dosing.services import open_escalations

        key = open_escalations([trial])[trial].key
        record_escalation_response(trial, {"acted_by_id": staff["nurse"], "acted_at": T + timedelta(minutes=10),
                                           "action_taken": ACTION, "escalation_key": key},
                                   author_id=staff["nurse"], now=T + timedelta(minutes=15))
        db.session.commit()
    observe(app, d2, staff["nurse"], T + timedelta(hours=1), effects=["seizure"])

    events = _events(app, trial)
    with app.app_context():
        day1 = events[d1]
        assert [(c.label, c.times, c.overdose_sign) for c in day1.effects] == [
            ("Nausea or vomiting", [T - timedelta(days=1), T - timedelta(days=1, minutes=-60)], False)]
        assert day1.escalations == []
        day2 = events[d2]
        # In the order of the form's list, each with when it was charted.
        assert [(c.label, c.times, c.overdose_sign) for c in day2.effects] == [
            ("Drowsiness", [T], True), ("Headache (often positional)", [T], False),
            ("Seizure", [T + timedelta(hours=1)], True)]
        acted, still_open = day2.escalations
        assert acted.since == T and acted.signs == ["Drowsiness charted."]
        assert acted.response is not None and acted.response.action_taken == ACTION
        assert acted.response.acted_at == T + timedelta(minutes=10)
        assert still_open.since == T + timedelta(hours=1) and still_open.signs == ["Seizure charted."]
        assert still_open.response is None
    assert set(events) == {d1, d2}  # day 3: nothing charted


def test_vital_sign_overdose_signs_are_named_and_other_trials_are_not_read(app, trial_on, staff) -> None:  # type: ignore[no-untyped-def]
    mine, other = trial_on(), trial_on()
    d1, other_d1 = day_id(app, mine, 1), day_id(app, other, 1)
    give(app, d1, staff)
    give(app, other_d1, staff)
    observe(app, d1, staff["nurse"], T, resp_rate=10, spo2=90)
    observe(app, other_d1, staff["nurse"], T, effects=["nausea_vomiting"])
    events = _events(app, mine)
    assert set(events) == {d1} and events[d1].effects == []
    (escalation,) = events[d1].escalations
    assert escalation.response is None and escalation.since == T
    assert any(s.startswith("Respiratory rate 10/min is below") for s in escalation.signs)
    assert "SpO2 90% is below 94%." in escalation.signs
    assert _events(app, other)[other_d1].escalations == []


def test_a_trial_with_nothing_charted_has_no_events(app, trial_on) -> None:  # type: ignore[no-untyped-def]
    assert _events(app, trial_on()) == {}
