"""The nurses' ward schedule: today's doses across all active trials, what is due now first."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from time_machine import TimeMachineFixture

from server.dosing.services import hold_dose, record_observation, set_plan, ward_schedule
from server.extensions import db
from tests.dosing.conftest import DAY, day_id, give
from tests.querycount import statements_for

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 10:00 in London (GMT)


@pytest.fixture
def at_ten(time_machine: TimeMachineFixture) -> datetime:
    """The app's clock stopped at 10:00 on DAY."""
    time_machine.move_to(NOW, tick=False)
    return NOW


def _plan(app, did: int, at: time, mcg: str = "50") -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    with app.app_context():
        set_plan(did, {"dose_mcg": Decimal(mcg), "planned_time": at, "base_revision": 1}, author_id=1)
        db.session.commit()


def _names(html: str) -> list[str]:
    return re.findall(r'class="card-title" href="[^"]+">([^<]+)</a>', html)


def test_a_0900_dose_shows_given_with_the_reassessment_and_the_next_check(app, client, signed_in, staff, trial_on,  # type: ignore[no-untyped-def]
                                                                          make_patient, at_ten) -> None:
    tid = trial_on(patient_id=make_patient(first_name="Ben", last_name="Carter"))
    give(app, day_id(app, tid, 1), staff, time(9, 0), now=NOW)
    signed_in("nurse")
    response = client.get("/ward")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert 'hx-get="/ward" hx-trigger="every 60s"' in html
    assert 'Updated <time datetime="2026-11-25T10:00:00+00:00">10:00</time>' in html
    assert '<span class="dose-badge dose-given">Given</span>' in html
    assert "50 mcg (1.00 mL) given 09:00" in html
    assert 'PT reassess <strong>13:00</strong> <span class="nowrap">(window 12:00\u201314:00)</span>' in html
    assert "Obs overdue since <strong>09:45</strong> (q15 min #3)" in html
    fragment = client.get("/ward", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "Updated" in text and "HX-Request" in fragment.headers["Vary"]


def test_due_now_sorts_first_and_held_last(app, client, signed_in, staff, trial_on, make_patient, at_ten) -> None:  # type: ignore[no-untyped-def]
    later = trial_on(patient_id=make_patient(first_name="Dan", last_name="Later"), bed="1")
    _plan(app, day_id(app, later, 1), time(15, 0))
    held = trial_on(patient_id=make_patient(first_name="Hana", last_name="Held"), bed="2")
    with app.app_context():
        hold_dose(day_id(app, held, 1), {"action": "hold", "reason": "Fever", "base_revision": 1}, author_id=1)
        db.session.commit()
    given = trial_on(patient_id=make_patient(first_name="Gus", last_name="Given"), bed="3")
    gid = day_id(app, given, 1)
    give(app, gid, staff, time(9, 0), now=NOW)
    with app.app_context():
        for minutes in (15, 30, 45):
            record_observation({"trial_day_id": gid, "heart_rate": 90}, author_id=staff["nurse"],
                               entry_id=f"00000000-0000-4000-8000-0000000000{minutes}",
                               recorded_at=datetime(2026, 11, 25, 9, minutes, tzinfo=UTC), now=NOW)
        db.session.commit()
    soon = trial_on(patient_id=make_patient(first_name="Sam", last_name="Soon"), bed="4")
    _plan(app, day_id(app, soon, 1), time(10, 30))
    late = trial_on(patient_id=make_patient(first_name="Olly", last_name="Overdue"), bed="5")  # 09:00, not given
    signed_in("nurse")
    html = client.get("/ward").get_data(as_text=True)
    assert _names(html) == ["Olly O.", "Gus G.", "Sam S.", "Dan L.", "Hana H."]
    assert '<span class="dose-badge dose-overdue">Overdue</span>' in html
    assert "Obs due now <strong>10:00</strong> (q15 min #4)" in html
    assert "Held: Fever" in html
    with app.app_context():
        rows = ward_schedule(DAY, NOW)
        assert [r.status for r in rows] == ["overdue", "given", "due", "due", "held"]
        assert rows[0].trial.id == late


def test_an_out_of_range_observation_flags_the_row(app, client, signed_in, staff, trial_on, at_ten) -> None:  # type: ignore[no-untyped-def]
    # A fever is flagged but is not an overdose sign (those open an escalation: tests/dosing/test_escalation.py).
    tid = trial_on()
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0), now=NOW)
    with app.app_context():
        record_observation({"trial_day_id": did, "temperature_c": Decimal("38.5")}, author_id=staff["nurse"],
                           entry_id="00000000-0000-4000-8000-000000000001",
                           recorded_at=datetime(2026, 11, 25, 9, 58, tzinfo=UTC), now=NOW)
        db.session.commit()
    signed_in("nurse")
    assert "Latest observation flagged" in client.get("/ward").get_data(as_text=True)


def test_monitoring_of_a_late_evening_dose_carries_into_the_next_day(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY - timedelta(days=1))
    give(app, day_id(app, tid, 1), staff, time(22, 30), now=NOW)
    with app.app_context():
        [row] = ward_schedule(DAY, datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
        assert row.day.day_number == 2 and row.status == "not planned" and row.monitored_day.day_number == 1
        assert row.reassess is not None and row.reassess.due == datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
        assert row.next_obs is not None and row.next_obs.state == "overdue"
        assert row.next_obs.slot.at == datetime(2026, 11, 25, 0, 30, tzinfo=UTC) and row.rank == 0


def _count_ward_queries(app, client) -> int:  # type: ignore[no-untyped-def]
    return statements_for(app, lambda: client.get("/ward"))


def _add_trials(app, n: int, staff, trial_on, make_patient) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        tid = trial_on(patient_id=make_patient())
        did = day_id(app, tid, 1)
        if i % 3 == 0:
            give(app, did, staff, time(9, 0), now=NOW)
            with app.app_context():
                record_observation({"trial_day_id": did, "heart_rate": 90 + i, "effects": ["headache"]},
                                   author_id=staff["nurse"], entry_id=str(uuid.uuid4()),
                                   recorded_at=datetime(2026, 11, 25, 9, 16, tzinfo=UTC), now=NOW)
                db.session.commit()
        elif i % 3 == 1:
            with app.app_context():
                hold_dose(did, {"action": "hold", "reason": "Fever", "base_revision": 1}, author_id=staff["surgeon"])
                db.session.commit()


def test_the_ward_renders_30_trials_with_as_many_queries_as_5(app, client, signed_in, staff, trial_on,  # type: ignore[no-untyped-def]
                                                              make_patient, at_ten) -> None:
    _add_trials(app, 5, staff, trial_on, make_patient)
    signed_in("nurse")
    client.get("/ward")  # warm up: first-request work is not the page's
    five = _count_ward_queries(app, client)
    _add_trials(app, 25, staff, trial_on, make_patient)
    thirty = _count_ward_queries(app, client)
    assert client.get("/ward").get_data(as_text=True).count('class="card ward-row"') == 30
    assert five == thirty, (five, thirty)
    assert thirty <= 10, thirty


def test_a_dose_planned_too_soon_after_yesterdays_shows_when_it_may_be_given(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                             trial_on, time_machine) -> None:
    # Day 1 was given late (10:36 yesterday); day 2 was planned for 09:00 before that.
    tid = trial_on(DAY - timedelta(days=1))
    _plan(app, day_id(app, tid, 2), time(9, 0))
    give(app, day_id(app, tid, 1), staff, time(10, 36), now=NOW)
    now = datetime(2026, 11, 25, 9, 45, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    signed_in("nurse")
    html = client.get("/ward").get_data(as_text=True)
    assert "50 mcg planned 09:00\n      · <strong>not before 10:36</strong> (24 h after day 1)" in html
    assert '<span class="dose-badge dose-due">Due</span>' in html  # not overdue: it may not be given yet
    with app.app_context():
        [row] = ward_schedule(DAY, datetime(2026, 11, 25, 11, 7, tzinfo=UTC))
        assert row.status == "overdue" and row.sort_at == datetime(2026, 11, 25, 10, 36, tzinfo=UTC)
