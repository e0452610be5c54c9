"""The day's plan: a mutable record with a revision. A stale edit is refused and kept, never applied silently."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from server.dosing.models import DosePlanChange
from server.extensions import db
from server.trials.models import TrialDay
from tests.conftest import field_error
from tests.dosing.conftest import day_id, give

PAST = date(2026, 11, 2)


def _day(app, did):  # type: ignore[no-untyped-def]
    with app.app_context():
        day = db.session.get(TrialDay, did)
        return day.planned_dose_mcg, day.planned_at, day.revision, day.dose_status, day.dose_status_reason


def _changes(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return [(c.action, c.outcome, c.base_revision, c.revision, c.planned_dose_mcg, c.reason)
                for c in db.session.scalars(select(DosePlanChange).order_by(DosePlanChange.id))]


def test_surgeon_plans_day_2_and_the_revision_moves_on(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 2)
    signed_in("surgeon")
    page = client.get(f"/days/{did}/plan").get_data(as_text=True)
    assert 'name="base_revision" value="1"' in page
    response = client.post(f"/days/{did}/plan", data={"dose_mcg": "75", "planned_time": "09:30", "base_revision": "1"})
    assert response.status_code == 303
    assert _day(app, did) == (Decimal("75.0"), datetime(2026, 11, 3, 9, 30, tzinfo=UTC), 2, "planned", None)
    assert _changes(app) == [("plan", "applied", 1, 2, Decimal("75.0"), None)]


def test_a_stale_revision_is_refused_and_both_versions_are_shown(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 2)
    signed_in("surgeon")
    assert client.post(f"/days/{did}/plan", data={"dose_mcg": "75", "planned_time": "09:00",
                                                  "base_revision": "1"}).status_code == 303
    # A colleague who opened the page at revision 1 saves 50 mcg at 10:00.
    stale = client.post(f"/days/{did}/plan", data={"dose_mcg": "50", "planned_time": "10:00", "base_revision": "1"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Not saved: the plan changed while you were editing." in html
    assert "Current plan (revision 2)" in html and "75 mcg at 09:00" in html
    assert "Your version (not applied)" in html and "50 mcg at 10:00" in html
    assert 'name="base_revision" value="2"' in html  # saving again is a deliberate second step
    assert _day(app, did)[:3] == (Decimal("75.0"), datetime(2026, 11, 3, 9, 0, tzinfo=UTC), 2)
    assert _changes(app)[-1] == ("plan", "conflict", 1, None, Decimal("50.0"), None)
    history = client.get(f"/days/{did}/plan").get_data(as_text=True)
    assert "Not applied (conflict, based on revision 1)" in history
    assert "A plan edit was not applied (conflict)" in client.get(f"/trials/{tid}/dosing").get_data(as_text=True)


def test_plan_refuses_a_dose_outside_the_protocol(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 2)
    signed_in("surgeon")
    response = client.post(f"/days/{did}/plan", data={"dose_mcg": "other", "other_dose_mcg": "125",
                                                      "planned_time": "09:00", "base_revision": "1"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "override_reason") == "Give the reason for going above 100 mcg."
    assert _changes(app) == [] and _day(app, did)[2] == 1
    above = client.post(f"/days/{did}/plan", data={
        "dose_mcg": "other", "other_dose_mcg": "200", "planned_time": "09:00", "base_revision": "1",
        "override_reason": "Team agreed after a long discussion.", "override_confirm": "200"})
    assert above.status_code == 422
    assert field_error(above.get_data(as_text=True), "other_dose_mcg") == (
        "200 mcg is above the absolute maximum of 150 mcg per bolus: no override allows it. "
        "Enter a dose up to 150 mcg.")
    assert 'value="200"' in above.get_data(as_text=True)  # what the surgeon typed is kept
    assert _changes(app) == [] and _day(app, did)[2] == 1


def test_plan_within_24_hours_of_the_previous_bolus_is_refused(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff)
    did = day_id(app, tid, 2)
    signed_in("surgeon")
    response = client.post(f"/days/{did}/plan", data={"dose_mcg": "75", "planned_time": "08:00", "base_revision": "1"})
    assert response.status_code == 422
    assert "minimum interval between boluses is 24 h" in field_error(response.get_data(as_text=True), "planned_time")
    assert _changes(app) == []


def test_hold_then_cancel_then_resume(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    signed_in("surgeon")
    missing = client.post(f"/days/{did}/hold", data={"action": "hold", "base_revision": "1"})
    assert missing.status_code == 422
    assert field_error(missing.get_data(as_text=True), "reason") == "Give the reason."
    assert client.post(f"/days/{did}/hold", data={"action": "hold", "reason": "Fever 38.4 °C",
                                                  "base_revision": "1"}).status_code == 303
    assert _day(app, did)[2:] == (2, "held", "Fever 38.4 °C")
    # A held dose cannot be recorded.
    refused = client.post(f"/days/{did}/dose", data={"given_time": "09:00", "dose_mcg": "50", "route": "catheter",
                                                     "given_by_id": str(staff["surgeon"]),
                                                     "checked_by_id": str(staff["nurse"])})
    assert refused.status_code == 422 and "Set the plan again before recording a dose." in refused.get_data(
        as_text=True)
    stale = client.post(f"/days/{did}/hold", data={"action": "cancel", "reason": "x", "base_revision": "1"})
    assert stale.status_code == 409
    assert client.post(f"/days/{did}/plan", data={"dose_mcg": "25", "planned_time": "11:00",
                                                  "base_revision": "2"}).status_code == 303
    assert _day(app, did)[2:] == (3, "planned", None)
    assert [c[:2] for c in _changes(app)] == [("hold", "applied"), ("cancel", "conflict"), ("plan", "applied")]


def test_plan_cannot_change_after_the_dose(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    give(app, did, staff)
    signed_in("surgeon")
    assert "the plan can no longer change" in client.get(f"/days/{did}/plan").get_data(as_text=True)
    response = client.post(f"/days/{did}/plan", data={"dose_mcg": "75", "planned_time": "09:00", "base_revision": "1"})
    assert response.status_code == 422
    assert _changes(app) == []


def test_plan_page_htmx_fragment(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("surgeon")
    response = client.post(f"/days/{day_id(app, tid, 2)}/plan", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="plan-form"' in html
    assert field_error(html, "planned_time") == "Enter the planned time."
