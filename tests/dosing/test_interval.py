"""One 24-hour rule (issue 10, finding 4): every path that sets or moves a dose goes through
`dosing.services.interval_errors`. A test per path, with a day-1 dose given late in the day (14:20)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.decisions.models import DayDecision
from server.decisions.services import DecisionError, record_decision
from server.dosing.models import DoseAdministration, DosePlanChange
from server.dosing.services import DosingError, amend_dose, interval_errors, set_plan
from server.extensions import db
from server.protocol import current_protocol
from server.trials.models import TrialDay
from tests.conftest import field_error
from tests.dosing.conftest import day_id, dose_form, give

PAST = date(2026, 11, 2)  # Monday, GMT
LATE = time(14, 20)
TOO_SOON = "Only 18 h 40 min from the day-1 bolus (Mon 2 Nov 14:20): the minimum interval between boluses is 24 h."


def _counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                     for m in (DoseAdministration, DosePlanChange, DayDecision))


def _plan_day2_at_nine(app, tid: int, staff: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        set_plan(day_id(app, tid, 2), {"dose_mcg": Decimal("50"), "planned_time": time(9, 0), "base_revision": 1},
                 author_id=staff["surgeon"])
        db.session.commit()


def test_the_rule_itself(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, LATE)
    with app.app_context():
        day2 = db.session.get(TrialDay, day_id(app, tid, 2))
        nine = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
        assert interval_errors(tid, day2.id, nine, current_protocol(), "planned_time") == {"planned_time": [TOO_SOON]}
        assert interval_errors(tid, day2.id, datetime(2026, 11, 3, 14, 20, tzinfo=UTC), current_protocol(),
                               "planned_time") == {}


def test_plan_path_refuses_day_2_at_0900_after_a_1420_dose(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, LATE)
    signed_in("surgeon")
    before = _counts(app)
    response = client.post(f"/days/{day_id(app, tid, 2)}/plan", data={"dose_mcg": "75", "planned_time": "09:00",
                                                                        "base_revision": "1"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "planned_time") == TOO_SOON
    assert _counts(app) == before


def test_dose_record_path_refuses_a_dose_under_24_h_after_a_1420_dose(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                      trial_on) -> None:
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, LATE)
    signed_in("surgeon")
    before = _counts(app)
    response = client.post(f"/days/{day_id(app, tid, 2)}/dose", data=dose_form(staff, given_time="09:00"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "given_time") == TOO_SOON
    assert _counts(app) == before


def test_a_late_dose_record_makes_an_earlier_plan_too_soon_and_every_page_says_so(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                                   trial_on) -> None:
    """Day 2 was planned at 09:00 before day 1's dose was given at 14:20: the record is true and is kept, and the
    day-2 plan is shown as too soon (never silently) on the dosing, plan and decision pages."""
    tid = trial_on(PAST)
    _plan_day2_at_nine(app, tid, staff)
    give(app, day_id(app, tid, 1), staff, LATE)
    signed_in("surgeon")
    warning = "not before Tue 3 Nov 14:20"
    assert warning in client.get(f"/trials/{tid}/dosing").get_data(as_text=True)
    assert warning in client.get(f"/days/{day_id(app, tid, 2)}/plan").get_data(as_text=True)
    decision = client.get(f"/days/{day_id(app, tid, 1)}/decision").get_data(as_text=True)
    assert "Day 2 is still planned at 09:00, under 24 h after today's dose: it may not be given before Tue 3 Nov " \
           "14:20." in decision
    assert 'name="planned_time" type="time" value="14:30"' in decision  # the form offers a time that is allowed


def test_decision_path_does_not_keep_day_2_at_0900_silently(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    """Issue 10 finding 4: day 2 already 50 mcg at 09:00; day-1 dose at 14:20; the team repeats 50 mcg at 09:00.
    Before, the unchanged plan skipped the dosing service and was kept (18 h 40 min). Now refused beside the
    time, and nothing is written."""
    tid = trial_on(PAST)
    _plan_day2_at_nine(app, tid, staff)
    give(app, day_id(app, tid, 1), staff, LATE)
    before = _counts(app)
    data = {"effect": "good", "next_step": "repeat", "dose_mcg": Decimal("50"), "planned_time": time(9, 0),
            "override_reason": None, "rationale": "Good response at 50 mcg.", "team_present": ["surgeon"],
            "parents_present": False, "parents_view": None, "base_revision": 0}
    with app.app_context():
        with pytest.raises(DecisionError) as err:
            record_decision(day_id(app, tid, 1), data, author_id=staff["surgeon"])
        assert err.value.errors == {"planned_time": [TOO_SOON]}
        db.session.rollback()
    assert _counts(app) == before
    with app.app_context():  # moved to 14:30 (the time the form offers): accepted, the plan moves
        record_decision(day_id(app, tid, 1), data | {"planned_time": time(14, 30)}, author_id=staff["surgeon"])
        db.session.commit()
        day2 = db.session.get(TrialDay, day_id(app, tid, 2))
        assert day2.planned_at == datetime(2026, 11, 3, 14, 30, tzinfo=UTC)


def test_correction_path_refuses_moving_a_dose_under_24_h_from_another(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, time(9, 0))
    second = give(app, day_id(app, tid, 2), staff, LATE)
    before = _counts(app)
    with app.app_context():
        with pytest.raises(DosingError) as err:
            amend_dose(second, {"given_time": time(8, 0), "dose_mcg": Decimal("50"), "checked_by_id": staff["nurse2"],
                                "reason": "The time was typed from the wrong chart entry.", "base_version": 1},
                       author_id=staff["surgeon"], now=datetime(2030, 1, 1, tzinfo=UTC))
        assert err.value.errors["given_time"][0].startswith("Only 23 h from the day-1 bolus")
        db.session.rollback()
    assert _counts(app) == before


def test_sync_path_sets_no_dose(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    """No outbox kind sets or moves a dose (doses are recorded online, with a second person's check): an entry
    that tries is refused as unknown and nothing is written."""
    from server.sync_api.handlers import KINDS

    assert [k for k in KINDS if k.startswith("dosing.")] == ["dosing.observe"]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, LATE)
    surgeon = signed_in("surgeon", "nurse")
    before = _counts(app)
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "ward-phone", "entries": [
        {"id": str(uuid.uuid4()), "kind": "dosing.record", "author_id": surgeon, "device_id": "ward-phone",
         "recorded_at": "2026-11-03T09:00:00+00:00", "base_rev": None, "form_version": 1,
         "payload": {"trial_day_id": str(day_id(app, tid, 2)), "given_time": "09:00", "dose_mcg": "5000"}}]})
    assert response.status_code == 400 and "Unknown entry kind 'dosing.record'" in response.get_json()["message"]
    assert _counts(app) == before
