"""Monitoring outlives the trial's status (issue 10, finding 2): a child stays on the ward, with the observations
due and overdue, until the monitoring after the last dose given has ended, whatever the trial's status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from server.decisions.services import record_outcome
from server.dosing.services import monitoring_ends, record_observation, ward_schedule
from server.extensions import db
from server.trials.models import Trial
from tests.dosing.conftest import DAY, day_id, give

LONG_REASON = "Clear fall in tone at every dose tried; the family want the pump."


def _close(app, tid: int, surgeon: int) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        t = db.session.get(Trial, tid)
        record_outcome(tid, {"outcome": "candidate", "outcome_reason": LONG_REASON, "confirm_missing": True,
                             "base_revision": t.revision}, author_id=surgeon)
        db.session.commit()
        assert db.session.get(Trial, tid).status == "completed"


def _observe(app, did: int, nurse: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        record_observation({"trial_day_id": did, "heart_rate": 90, "taken_at": at}, author_id=nurse,
                           entry_id=str(uuid.uuid4()), recorded_at=at, now=at)
        db.session.commit()


def _row(app, today, now):  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = ward_schedule(today, now)
        return rows[0] if rows else None


def test_an_outcome_on_day_1_keeps_the_child_on_the_ward_until_the_monitoring_ends(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: outcome recorded on day 1 after one dose. Before, the child left the ward at once."""
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    _close(app, tid, staff["surgeon"])
    row = _row(app, DAY, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert row is not None and row.trial.id == tid and row.closed
    assert row.next_obs.state == "overdue" and row.next_obs.slot.at == datetime(2026, 11, 25, 9, 45, tzinfo=UTC)
    assert row.monitoring_ends == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    # The next morning (day 2, cancelled by the outcome): still there until the last check.
    for minutes in (15, 30, 45, 60, 90, 120, 180, 240, 300, 360, 420, 480, 720, 960, 1200, 1440):
        _observe(app, did, staff["nurse"], datetime(2026, 11, 25, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        if minutes == 1200:
            morning = _row(app, DAY + timedelta(days=1), datetime(2026, 11, 26, 8, 50, tzinfo=UTC))
            assert morning is not None and morning.next_obs.slot.at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
            assert morning.day.dose_status == "cancelled"
    assert _row(app, DAY + timedelta(days=1), datetime(2026, 11, 26, 9, 5, tzinfo=UTC)) is None  # all done


def test_an_outcome_on_day_3_in_the_evening_keeps_the_remaining_checks_on_the_ward(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                                   trial_on, time_machine) -> None:
    """Finding 2: outcome at 18:32 on day 3, checks due until 09:00 the next day."""
    start = DAY - timedelta(days=2)
    tid = trial_on(start)
    for n in (1, 2, 3):
        give(app, day_id(app, tid, n), staff, time(9, 0))
    d3 = day_id(app, tid, 3)
    dose_at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    for minutes in (15, 30, 45, 60, 90, 120, 180, 240, 300, 360, 420, 480):  # every check up to 17:00
        _observe(app, d3, staff["nurse"], dose_at + timedelta(minutes=minutes))
    _close(app, tid, staff["surgeon"])
    evening = datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
    row = _row(app, DAY, evening)
    assert row is not None and row.trial.id == tid and row.closed
    assert (row.next_obs.state, row.next_obs.slot.at) == ("upcoming", datetime(2026, 11, 25, 21, 0, tzinfo=UTC))
    time_machine.move_to(evening, tick=False)
    signed_in("nurse")
    html = client.get("/ward").get_data(as_text=True)
    assert "Next obs <strong>21:00</strong> (4-hourly #13)" in html
    assert "Trial completed (outcome recorded): observations continue until <strong>09:00 Thu 26 Nov</strong>" in html
    # Next morning, no trial day any more: still on the ward until the 09:00 check is done.
    after = datetime(2026, 11, 26, 8, 55, tzinfo=UTC)
    for at in (datetime(2026, 11, 25, 21, 0, tzinfo=UTC), datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
               datetime(2026, 11, 26, 5, 0, tzinfo=UTC)):
        _observe(app, d3, staff["nurse"], at)
    morning = _row(app, DAY + timedelta(days=1), after)
    assert morning is not None and morning.day is None and morning.next_obs.slot.at == datetime(
        2026, 11, 26, 9, 0, tzinfo=UTC)
    # Not taken: overdue and still shown, for 12 h after it; then the monitoring after that dose has ended.
    late = _row(app, DAY + timedelta(days=1), datetime(2026, 11, 26, 20, 59, tzinfo=UTC))
    assert late is not None and late.next_obs.state == "overdue" and late.rank == 0
    assert _row(app, DAY + timedelta(days=1), datetime(2026, 11, 26, 21, 1, tzinfo=UTC)) is None
    _observe(app, d3, staff["nurse"], datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    assert _row(app, DAY + timedelta(days=1), datetime(2026, 11, 26, 9, 5, tzinfo=UTC)) is None


def test_the_outcome_page_says_how_long_monitoring_continues(app, client, signed_in, staff, trial_on,  # type: ignore[no-untyped-def]
                                                             time_machine) -> None:
    tid = trial_on(DAY)
    give(app, day_id(app, tid, 1), staff, time(9, 0))
    time_machine.move_to(datetime(2026, 11, 25, 18, 32, tzinfo=UTC), tick=False)
    signed_in("surgeon")
    html = client.get(f"/trials/{tid}/outcome").get_data(as_text=True)
    assert "Monitoring after the last dose continues until <strong>09:00 Thu 26 Nov</strong>" in html
    with app.app_context():
        t = db.session.get(Trial, tid)
        assert monitoring_ends(t, datetime(2026, 11, 26, 21, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize("status", ["completed", "stopped"])
def test_a_closed_trial_without_a_recent_dose_is_not_on_the_ward(app, staff, trial_on, status) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY - timedelta(days=5))
    give(app, day_id(app, tid, 1), staff, time(9, 0))
    with app.app_context():
        db.session.get(Trial, tid).status = status
        db.session.commit()
        assert ward_schedule(DAY, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) == []
