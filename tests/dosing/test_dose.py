"""Recording the dose given: every protocol rule refuses with a message beside the field and writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.dosing.models import DoseAdministration
from server.dosing.services import DosingError, record_dose
from server.extensions import db
from server.trials.models import Trial
from tests.conftest import field_error
from tests.dosing.conftest import day_id, dose_form, give

PAST = date(2026, 11, 2)  # a Monday on GMT, safely in the past


def _doses(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DoseAdministration))


def _post(client, app, trial_id, staff, number=1, **over):  # type: ignore[no-untyped-def]
    return client.post(f"/days/{day_id(app, trial_id, number)}/dose", data=dose_form(staff, **over))


def test_surgeon_records_a_dose_with_its_volume(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    me = signed_in("surgeon")
    form = client.get(f"/days/{day_id(app, tid, 1)}/dose").get_data(as_text=True)
    assert "1.00 mL" in form and "0.25 mL" in form and "2.00 mL" in form  # the volume beside each dose
    response = _post(client, app, tid, staff, given_time="09:04", dose_mcg="75", route="lumbar_puncture")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/trials/{tid}/dosing#day-1")
    with app.app_context():
        dose = db.session.scalars(select(DoseAdministration)).one()
        assert dose.given_at == datetime(2026, 11, 2, 9, 4, tzinfo=UTC)
        assert (dose.dose_mcg, dose.volume_ml, dose.concentration_mcg_per_ml) == (
            Decimal("75.0"), Decimal("1.50"), Decimal("50.0"))
        assert (dose.route, dose.given_by_id, dose.checked_by_id, dose.recorded_by_id) == (
            "lumbar_puncture", staff["surgeon"], staff["nurse"], me)
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "DoseAdministration")).one()
        assert audit.action == "create" and audit.actor_id == me
    page = client.get(f"/trials/{tid}/dosing").get_data(as_text=True)
    assert "75 mcg = 1.50 mL" in page and "Lumbar puncture" in page


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"dose_mcg": "other", "other_dose_mcg": "30"}, "dose_mcg",
     "30 mcg is not an allowed bolus: choose 12.5, 25, 50, 75 or 100 mcg."),
    ({"dose_mcg": "60"}, "dose_mcg", "60 mcg is not an allowed bolus: choose 12.5, 25, 50, 75 or 100 mcg."),
    ({"dose_mcg": "other", "other_dose_mcg": "150"}, "dose_mcg",
     "150 mcg is above the 100 mcg ceiling: give the reason for the override, or choose a dose up to the ceiling."),
    ({"dose_mcg": "other", "other_dose_mcg": "150"}, "override_reason",
     "Give the reason for going above 100 mcg."),
    ({"dose_mcg": "other"}, "other_dose_mcg", "Enter the dose in mcg."),
    ({"dose_mcg": "other", "other_dose_mcg": "lots"}, "other_dose_mcg", "Enter the dose as a number of mcg."),
    ({"checked_by_id": "GIVER"}, "checked_by_id",
     "The double-check must be done by a second person, not the one who gave the dose."),
    ({"checked_by_id": "PT"}, "checked_by_id", "Choose the nurse or neurosurgeon who checked it."),
    ({"given_time": "25:00"}, "given_time", "Enter a time as HH:MM."),
    ({"route": "oral"}, "route", "Choose the route."),
])
def test_refused_doses_write_nothing(app, client, signed_in, staff, trial_on, over, field, message) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("surgeon")
    over = {k: {"GIVER": str(staff["surgeon"]), "PT": str(staff["pt"])}.get(v, v) for k, v in over.items()}
    response = _post(client, app, tid, staff, **over)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == message
    assert _doses(app) == 0


def test_override_above_the_ceiling_by_a_surgeon_with_a_reason(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("surgeon")
    reason = "Partial response at 100 mcg; team agreed one higher test dose."
    first = _post(client, app, tid, staff, dose_mcg="other", other_dose_mcg="125", override_reason=reason)
    assert first.status_code == 422  # not without the explicit confirmation, which shows mcg, mL and mcg/kg
    html = first.get_data(as_text=True)
    assert field_error(html, "override_confirm") == (
        "Check and confirm the override: 125 mcg = 2.50 mL = 6.10 mcg/kg (20.5 kg).")
    assert 'name="override_confirm" value="125"' in html and 'value="125"' in html and reason in html
    assert _doses(app) == 0
    response = _post(client, app, tid, staff, dose_mcg="other", other_dose_mcg="125", override_reason=reason,
                     override_confirm="125")
    assert response.status_code == 303
    with app.app_context():
        dose = db.session.scalars(select(DoseAdministration)).one()
        assert dose.dose_mcg == Decimal("125") and dose.volume_ml == Decimal("2.50")
        assert dose.override_reason.startswith("Partial response")


def test_only_a_neurosurgeon_may_override_the_ceiling(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    with app.app_context(), pytest.raises(DosingError) as err:
        record_dose(day_id(app, tid, 1), {"given_time": time(9), "dose_mcg": Decimal("150"), "route": "catheter",
                                          "override_reason": "because", "given_by_id": staff["surgeon"],
                                          "checked_by_id": staff["nurse"]}, recorded_by_id=staff["nurse"])
    assert err.value.errors == {"dose_mcg": [
        "150 mcg is above the 100 mcg ceiling: only a neurosurgeon may override the ceiling, with a reason."]}
    assert _doses(app) == 0


def test_a_second_bolus_within_24_hours_is_refused(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, time(9, 0))
    signed_in("surgeon")
    response = _post(client, app, tid, staff, number=2, given_time="08:30")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "given_time") == (
        "Only 23 h 30 min from the day-1 bolus (Mon 2 Nov 09:00): the minimum interval between boluses is 24 h.")
    assert _doses(app) == 1
    assert _post(client, app, tid, staff, number=2, given_time="09:00").status_code == 303  # exactly 24 h: fine
    assert _doses(app) == 2


def test_a_dose_for_a_closed_trial_is_refused(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    with app.app_context():
        db.session.get(Trial, tid).status = "completed"
        db.session.commit()
    signed_in("surgeon")
    response = _post(client, app, tid, staff)
    assert response.status_code == 422
    assert "This trial is completed: no dose can be planned or recorded." in response.get_data(as_text=True)
    assert _doses(app) == 0


def test_a_dose_in_the_future_or_twice_on_one_day_is_refused(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(date(2099, 1, 1))
    signed_in("surgeon")
    response = _post(client, app, tid, staff)
    assert field_error(response.get_data(as_text=True), "given_time") == "The time given cannot be in the future."
    past = trial_on(PAST)
    assert _post(client, app, past, staff).status_code == 303
    again = _post(client, app, past, staff)
    assert again.status_code == 422 and "A dose is already recorded for day 1." in again.get_data(as_text=True)
    assert _doses(app) == 1


def test_dose_form_htmx_returns_the_form_fragment(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("surgeon")
    response = client.post(f"/days/{day_id(app, tid, 1)}/dose", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert field_error(html, "given_by_id") == "Choose who gave the dose."
    assert "HX-Request" in response.headers["Vary"]


def test_nurse_cannot_record_or_plan_a_dose(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("nurse")
    assert _post(client, app, tid, staff).status_code == 403
    assert client.get(f"/days/{day_id(app, tid, 1)}/plan").status_code == 403
    assert _doses(app) == 0


HUGE = "9" * 25  # no such id, and too big for an INTEGER column: must be a 4xx, never a driver error (500)


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"dose_mcg": "NaN"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "sNaN"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "Infinity", "override_reason": "x"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "1e999", "override_reason": "x"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "5000000", "override_reason": "x"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "x" * 50_000}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "-50"}, "dose_mcg", "Choose one of the listed doses."),
    ({"dose_mcg": "other", "other_dose_mcg": "NaN"}, "other_dose_mcg", "Enter the dose as a number of mcg."),
    ({"dose_mcg": "other", "other_dose_mcg": "1e999"}, "other_dose_mcg", "Enter the dose as a number of mcg."),
    ({"given_by_id": HUGE}, "given_by_id", "Choose who gave the dose."),
    ({"checked_by_id": HUGE}, "checked_by_id", "Choose who double-checked the dose."),
    ({"checked_by_id": "-1"}, "checked_by_id", "Choose who double-checked the dose."),
    ({"checked_by_id": "999999"}, "checked_by_id", "Choose the nurse or neurosurgeon who checked it."),
    ({"given_time": "x" * 50_000}, "given_time", "Enter a time as HH:MM."),
    ({"dose_mcg": "other", "other_dose_mcg": "150", "override_reason": "x" * 1001}, "override_reason",
     "Keep it to 1000 characters."),
])
def test_malformed_dose_input_is_a_422_beside_the_field(app, client, signed_in, staff, trial_on, over, field,  # type: ignore[no-untyped-def]
                                                        message) -> None:
    tid = trial_on(PAST)
    signed_in("surgeon")
    response = _post(client, app, tid, staff, **over)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert _doses(app) == 0


def test_an_empty_form_and_unknown_ids_are_4xx(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    signed_in("surgeon", "nurse")
    empty = client.post(f"/days/{did}/dose", data={})
    assert empty.status_code == 422
    assert field_error(empty.get_data(as_text=True), "dose_mcg") == "Choose the dose given."
    for path in ("/days/999999/dose", f"/days/{HUGE}/dose", f"/days/{HUGE}/plan", f"/days/{HUGE}/monitoring",
                 f"/days/{HUGE}/observations", f"/trials/{HUGE}/dosing", "/trials/999999/dosing"):
        assert client.get(path).status_code == 404, path
    for path in (f"/days/{HUGE}/dose", f"/days/{HUGE}/plan", f"/days/{HUGE}/hold", f"/days/{HUGE}/observations"):
        assert client.post(path, data={}).status_code == 404, path
    for form in ({"dose_mcg": "50", "planned_time": "09:00", "base_revision": HUGE},
                 {"dose_mcg": "NaN", "planned_time": "09:00", "base_revision": "1"}):
        assert client.post(f"/days/{day_id(app, tid, 2)}/plan", data=form).status_code == 422
    assert client.post(f"/days/{did}/hold", data={"action": "hold", "reason": "x", "base_revision": HUGE}
                       ).status_code == 422
    assert _doses(app) == 0


def test_the_24_hours_are_elapsed_time_across_the_clock_changes(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    # Clocks go forward on Sunday 29 March 2026: 09:00 GMT Saturday to 09:00 BST Sunday is only 23 h.
    spring = trial_on(date(2026, 3, 28))
    give(app, day_id(app, spring, 1), staff, time(9, 0))
    signed_in("surgeon")
    form = client.get(f"/days/{day_id(app, spring, 2)}/dose").get_data(as_text=True)
    assert "Not before 10:00 (24 h after the previous bolus)." in form
    response = _post(client, app, spring, staff, number=2, given_time="09:00")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "given_time") == (
        "Only 23 h from the day-1 bolus (Sat 28 Mar 09:00): the minimum interval between boluses is 24 h.")
    assert _post(client, app, spring, staff, number=2, given_time="10:00").status_code == 303
    # Clocks go back on Sunday 25 October 2026: 09:00 BST Saturday to 09:00 GMT Sunday is 25 h.
    autumn = trial_on(date(2026, 10, 24))
    give(app, day_id(app, autumn, 1), staff, time(9, 0))
    assert _post(client, app, autumn, staff, number=2, given_time="09:00").status_code == 303
    with app.app_context():
        given = sorted(d.given_at for d in db.session.scalars(select(DoseAdministration)))
    assert [given[1] - given[0], given[3] - given[2]] == [timedelta(hours=24), timedelta(hours=25)]


def test_a_time_the_clocks_skipped_is_refused(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(date(2026, 3, 29))  # 01:00-01:59 never shows on a London clock that night
    signed_in("surgeon")
    response = _post(client, app, tid, staff, given_time="01:30")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "given_time") == (
        "01:30 does not exist on Sun 29 Mar: the clocks went forward that night. Enter the time shown on the clock.")
    plan = client.post(f"/days/{day_id(app, tid, 2)}/plan", data={"dose_mcg": "50", "planned_time": "09:00",
                                                                  "base_revision": "1"})
    assert plan.status_code == 303  # an ordinary time on the next day is fine
    assert _doses(app) == 0
    assert _post(client, app, tid, staff, given_time="00:30").status_code == 303
    with app.app_context():
        assert db.session.scalars(select(DoseAdministration)).one().given_at == datetime(2026, 3, 29, 0, 30,
                                                                                         tzinfo=UTC)
