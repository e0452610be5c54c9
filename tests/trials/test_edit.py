"""Issue 16: editing a child (weight with the date it was measured) and a trial (first day, bed, catheter), with
revision checks, bounds on every number and date, and the audit trail; dose checks use the latest weight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.extensions import db
from server.trials.models import Patient, Trial
from server.web import clock
from tests.conftest import field_error


def _today(app) -> date:  # type: ignore[no-untyped-def]
    with app.app_context():
        return clock.today()


def _patient_form(app, pid: int, **over: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        p = db.session.get(Patient, pid)
        form = {"first_name": p.first_name, "last_name": p.last_name, "date_of_birth": p.date_of_birth.isoformat(),
                "mrn": p.mrn, "weight_kg": str(p.weight_kg), "weight_measured_on": p.weight_measured_on.isoformat(),
                "gmfcs_level": str(p.gmfcs_level), "diagnosis": p.diagnosis, "tone_type": p.tone_type,
                "base_revision": str(p.revision)}
    return {**form, **over}


def _patient(app, pid: int) -> Patient:  # type: ignore[no-untyped-def]
    with app.app_context():
        p = db.session.get(Patient, pid)
        db.session.expunge(p)
        return p


def _audit(app, entity: str, entity_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == entity,
                                                           AuditEvent.entity_id == str(entity_id),
                                                           AuditEvent.action == "update")
                                  .order_by(AuditEvent.id)).all()
        for r in rows:
            db.session.expunge(r)
        return list(rows)


# ---- a child ---------------------------------------------------------------------------------------------------------

def test_surgeon_records_a_new_weight_and_the_audit_keeps_before_and_after(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_patient) -> None:
    pid = make_patient(weight_kg=Decimal("20.5"), weight_measured_on=_today(app) - timedelta(days=30))
    me = signed_in("surgeon")
    page = client.get(f"/patients/{pid}/edit").get_data(as_text=True)
    assert 'name="base_revision" value="1"' in page and 'value="20.5"' in page
    assert "Every dose check uses the latest weight." in page
    today = _today(app).isoformat()
    response = client.post(f"/patients/{pid}/edit", data=_patient_form(app, pid, weight_kg="22.3",
                                                                       weight_measured_on=today, bed="ignored"))
    assert response.status_code == 303 and response.headers["Location"] == "/patients"
    p = _patient(app, pid)
    assert (p.weight_kg, p.weight_measured_on.isoformat(), p.revision) == (Decimal("22.3"), today, 2)
    [event] = _audit(app, "Patient", pid)
    assert event.actor_id == me and event.via == "web"
    assert event.before["weight_kg"] == "20.5" and event.after["weight_kg"] == "22.3"
    assert event.after["revision"] == 2 and set(event.after) == {"weight_kg", "weight_measured_on", "revision"}
    # Saving the same details again changes nothing: no new revision, no audit event.
    assert client.post(f"/patients/{pid}/edit", data=_patient_form(app, pid)).status_code == 303
    assert _patient(app, pid).revision == 2 and len(_audit(app, "Patient", pid)) == 1


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"weight_kg": "400"}, "weight_kg", "Weight must be between 2 and 150 kg."),
    ({"weight_kg": "1.9"}, "weight_kg", "Weight must be between 2 and 150 kg."),
    ({"weight_kg": "NaN"}, "weight_kg", "Enter the weight as a number."),
    ({"weight_measured_on": ""}, "weight_measured_on", "Enter the date the weight was measured."),
    ({"weight_measured_on": "1999-12-31"}, "weight_measured_on", "Check the date: not before 2000."),
    ({"weight_measured_on": "2999-01-01"}, "weight_measured_on", "The weight cannot have been measured in the future."),
    ({"weight_measured_on": "2018-03-13"}, "weight_measured_on",
     "The weight cannot have been measured before the date of birth."),
    ({"weight_kg": "21.0", "weight_measured_on": "2020-01-01"}, "weight_measured_on",
     "The weight on record was measured on"),  # an older measurement cannot replace the latest one
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "Date of birth cannot be in the future."),
    ({"gmfcs_level": "6"}, "gmfcs_level", "GMFCS level is I to V."),
    ({"tone_type": "floppy"}, "tone_type", "Choose a tone type."),
    ({"mrn": "TAKEN-1"}, "mrn", "A child with this hospital number is already registered."),
    ({"first_name": ""}, "first_name", "Enter the child's first name."),
])
def test_patient_edit_refuses_bad_input_beside_the_field(app, client, signed_in, make_patient, over, field,  # type: ignore[no-untyped-def]
                                                         message) -> None:
    make_patient(mrn="TAKEN-1")
    pid = make_patient(date_of_birth=date(2018, 3, 14), weight_measured_on=date(2024, 6, 1))
    signed_in("admin")
    response = client.post(f"/patients/{pid}/edit", data=_patient_form(app, pid, **over))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field).startswith(message)
    assert f'value="{_patient(app, pid).last_name}"' in html  # what was typed stays
    assert _patient(app, pid).revision == 1 and _audit(app, "Patient", pid) == []


def test_a_stale_patient_form_gets_a_conflict_not_an_overwrite(app, client, signed_in, make_patient,  # type: ignore[no-untyped-def]
                                                                make_user) -> None:
    pid = make_patient()
    signed_in("admin")
    mine = _patient_form(app, pid, weight_kg="25.0")  # opened at revision 1
    make_user("surgeon", username="other-surgeon")
    other = app.test_client()
    assert other.login("other-surgeon").status_code == 303
    assert other.post(f"/patients/{pid}/edit", data=_patient_form(app, pid, weight_kg="23.0")).status_code == 303
    stale = client.post(f"/patients/{pid}/edit", data=mine, headers={"HX-Request": "true"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Someone else changed this child while you were editing" in html
    assert "Saved meanwhile (revision 2)" in html and "23.0 kg" in html  # the current version beside
    assert 'value="25.0"' in html and 'name="base_revision" value="2"' in html  # mine kept, now on revision 2
    assert _patient(app, pid).weight_kg == Decimal("23.0")  # not overwritten
    again = client.post(f"/patients/{pid}/edit", data={**mine, "base_revision": "2"})  # saved deliberately
    assert again.status_code == 303 and _patient(app, pid).weight_kg == Decimal("25.0")


def test_dose_checks_use_the_latest_weight(app, make_patient, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import DosingError, set_plan
    from server.trials.schemas import PatientEditSchema
    from server.trials.services import update_patient

    pid = make_patient(weight_kg=Decimal("20.0"))
    trial_id = make_trial(pid)
    surgeon = make_user("surgeon")
    form = {**_patient_form(app, pid), "weight_kg": "25.0"}
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        day = trial.days[1]
        assert trial.patient.weight_kg == Decimal("20.0")  # this session holds the old weight...
        db.session().expire_on_commit = False
        db.session.commit()  # ...past the end of its transaction, as a page view's copy would be
        with app.app_context():  # meanwhile another request records the new weight
            update_patient(pid, PatientEditSchema().load(form))
            db.session.commit()
        with pytest.raises(DosingError) as refused:
            set_plan(day.id, {"dose_mcg": Decimal("125"), "planned_time": time(9, 0), "base_revision": day.revision,
                              "override_reason": "Some effect at 100 mcg, no side effects: the team agreed.",
                              "override_confirm": None}, author_id=surgeon)
        assert "= 5.00 mcg/kg (25.0 kg)" in refused.value.errors["override_confirm"][0]


# ---- a trial ---------------------------------------------------------------------------------------------------------

def _trial_form(app, tid: int, **over: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        t = db.session.get(Trial, tid)
        form = {"start_date": t.start_date.isoformat(), "bed": t.bed or "", "catheter_placed_at": "",
                "base_revision": str(t.revision)}
    return {**form, **over}


def _trial(app, tid: int):  # type: ignore[no-untyped-def]
    with app.app_context():
        t = db.session.get(Trial, tid)
        return (t.start_date, t.bed, t.catheter_placed_at, t.revision, [d.date for d in t.days],
                [d.planned_at for d in t.days], [d.revision for d in t.days])


def test_trial_edit_moves_the_days_and_the_planned_time_and_is_audited(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    today = _today(app)
    tid = make_trial(start_date=today + timedelta(days=2))
    me = signed_in("surgeon")
    page = client.get(f"/trials/{tid}/edit").get_data(as_text=True)
    assert 'name="base_revision" value="1"' in page
    with app.app_context():  # half an hour ago, on the hospital's clock (whatever the hour the test runs)
        catheter = (clock.local_now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, start_date=(
        today + timedelta(days=1)).isoformat(), bed="12", catheter_placed_at=catheter))
    assert response.status_code == 303 and response.headers["Location"] == f"/trials/{tid}"
    start, bed, placed, revision, dates, planned, day_revisions = _trial(app, tid)
    assert start == today + timedelta(days=1) and bed == "12" and revision == 2
    assert dates == [start, start + timedelta(days=1), start + timedelta(days=2)]
    assert planned[0].astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None) == datetime.combine(start, time(9))
    assert day_revisions == [2, 2, 2]  # a dose-plan form opened before the move is stale now
    assert placed is not None
    [event] = _audit(app, "Trial", tid)
    assert event.actor_id == me and {"start_date", "bed", "catheter_placed_at", "revision"} <= set(event.after)


@pytest.mark.parametrize(("start", "asks"), [(-1, "in the past"), (20, "more than 14 days ahead"), (0, None),
                                             (14, None)])
def test_a_first_day_in_the_past_or_far_ahead_asks_for_confirmation(app, client, signed_in, make_trial, start,  # type: ignore[no-untyped-def]
                                                                     asks) -> None:
    tid = make_trial(start_date=_today(app) + timedelta(days=5))
    signed_in("admin")
    new_start = (_today(app) + timedelta(days=start)).isoformat()
    response = client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, start_date=new_start))
    if asks is None:
        assert response.status_code == 303
        return
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert asks in field_error(html, "confirm_start") and "Yes, start on this date" in html
    assert _trial(app, tid)[3] == 1  # nothing written
    confirmed = client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, start_date=new_start,
                                                                   confirm_start="yes"))
    assert confirmed.status_code == 303 and _trial(app, tid)[0].isoformat() == new_start


def test_the_new_trial_form_asks_too(app, client, signed_in, make_patient) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    form = {"patient_id": str(make_patient()), "start_date": "2026-01-05", "day1_dose_mcg": "50", "dose_time": "09:00"}
    if abs((date(2026, 1, 5) - _today(app)).days) > 365:
        pytest.fail("update this test's date: it must be within a year of today")
    response = client.post("/trials/new", data=form)
    assert response.status_code == 422
    assert "is in the past: tick to confirm" in field_error(response.get_data(as_text=True), "confirm_start")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trial)) == 0
    assert client.post("/trials/new", data={**form, "confirm_start": "yes"}).status_code == 303


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"start_date": "2020-03-01", "confirm_start": "yes"}, "start_date", "The first trial day must be within a year"),
    ({"start_date": "soon"}, "start_date", "Enter a date as YYYY-MM-DD."),
    ({"bed": "B" * 17}, "bed", "At most 16 characters."),
    ({"catheter_placed_at": "0001-01-01T00:00"}, "catheter_placed_at", "Check the date:"),
    ({"catheter_placed_at": "+1d"}, "catheter_placed_at", "The catheter placement cannot be in the future."),
    ({"catheter_placed_at": "-10d"}, "catheter_placed_at", "That is more than 7 days before the first trial day"),
    ({"base_revision": ""}, "_form", "Reload the page: the form is out of date."),
])
def test_trial_edit_refuses_bad_input(app, client, signed_in, make_trial, over, field, message) -> None:  # type: ignore[no-untyped-def]
    tid = make_trial()
    signed_in("surgeon")
    for key, value in list(over.items()):
        if key == "catheter_placed_at" and value[0] in "+-":
            when = datetime.now(UTC) + timedelta(days=int(value[:-1]))
            over[key] = when.strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, **over))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    shown = field_error(html, field) if field != "_form" else html
    assert message in shown
    assert _trial(app, tid)[3] == 1


def test_days_with_records_do_not_move(app, client, signed_in, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import record_observation

    tid = make_trial()
    nurse = make_user("nurse")
    with app.app_context():
        day = db.session.get(Trial, tid).days[0]
        record_observation({"trial_day_id": day.id, "heart_rate": 90, "effects": []}, author_id=nurse,
                           entry_id="0b7c7d0e-0000-4000-8000-000000000001", now=datetime.now(UTC))
        db.session.commit()
    signed_in("surgeon")
    moved = (_today(app) + timedelta(days=1)).isoformat()
    response = client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, start_date=moved))
    assert response.status_code == 422
    assert "can no longer move" in field_error(response.get_data(as_text=True), "start_date")
    # The bed can still be corrected.
    assert client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, bed="7")).status_code == 303
    assert _trial(app, tid)[1] == "7"


def test_a_stale_trial_form_gets_a_conflict(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    tid = make_trial()
    signed_in("admin")
    mine = _trial_form(app, tid, bed="5")
    assert client.post(f"/trials/{tid}/edit", data=_trial_form(app, tid, bed="9")).status_code == 303
    stale = client.post(f"/trials/{tid}/edit", data=mine)
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Someone else changed this trial while you were editing" in html and "Saved meanwhile (revision 2)" in html
    assert 'value="5"' in html and 'name="base_revision" value="2"' in html
    assert _trial(app, tid)[1] == "9"
