from __future__ import annotations

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db


def _events(app, entity_type: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == entity_type)))


def test_creating_a_patient_and_trial_is_audited_with_actor_and_device(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin_id = signed_in("admin")
    headers = {"X-Device-Id": "phone-42"}
    client.post("/patients/new", headers=headers, data={
        "first_name": "Eve", "last_name": "Stone", "date_of_birth": "2017-01-02", "mrn": "A-1",
        "weight_kg": "20", "gmfcs_level": "3", "diagnosis": "CP", "tone_type": "spastic"})
    [patient_event] = _events(app, "Patient")
    assert patient_event.action == "create" and patient_event.actor_id == admin_id
    assert patient_event.device_id == "phone-42" and patient_event.after["mrn"] == "A-1"
    created = client.post("/trials/new", headers=headers, data={"patient_id": patient_event.entity_id,
                                                      "start_date": "2026-11-25", "confirm_start": "yes",
                                                      "day1_dose_mcg": "50",
                                                      "dose_time": "09:00"})
    assert created.status_code == 303, created.get_data(as_text=True)
    [trial_event] = _events(app, "Trial")
    assert trial_event.action == "create" and trial_event.actor_id == admin_id
    assert len(_events(app, "TrialDay")) == 3


def test_updates_record_before_and_after_and_never_the_password_hash(app, client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    uid = make_user("pt")
    client.post(f"/admin/staff/{uid}/roles", data={"roles": ["nurse"], "confirm": "yes"})
    updates = [e for e in _events(app, "User") if e.action == "update" and e.entity_id == str(uid)]
    assert updates[-1].before["roles_csv"] == "pt" and updates[-1].after["roles_csv"] == "nurse"
    creates = [e for e in _events(app, "User") if e.action == "create"]
    assert all(e.after["password_hash"] == "[redacted]" for e in creates)


def test_failed_write_leaves_no_audit_entry(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    client.post("/patients/new", data={"first_name": "Eve"})
    assert _events(app, "Patient") == []


def test_observation_values_stay_in_the_record_not_the_audit_log(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    """Measurements are redacted in the audit (the row is the record); who, when, device and which stay."""
    import uuid
    from datetime import UTC, datetime

    from server.audit.context import Actor, acting_as
    from server.dosing.models import Observation
    from server.dosing.services import record_observation
    from server.trials.models import Trial

    nurse = make_user("nurse")
    trial_id = make_trial()
    with app.app_context():
        day = db.session.get(Trial, trial_id).days[0]
        with acting_as(Actor(user_id=nurse, device_id="ward-phone", via="sync")):
            obs = record_observation({"trial_day_id": day.id, "taken_at": None, "heart_rate": 131, "resp_rate": 9,
                                      "spo2": 91, "effects": ["drowsiness"], "notes": "Hard to rouse"},
                                     author_id=nurse, entry_id=str(uuid.uuid4()),
                                     now=datetime(2100, 1, 1, tzinfo=UTC))
        db.session.commit()
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Observation")).one()
        assert (event.actor_id, event.device_id, event.via, event.entity_id) == (nurse, "ward-phone", "sync",
                                                                                 str(obs.id))
        assert {k: event.after[k] for k in ("heart_rate", "resp_rate", "spo2", "effects", "notes")} == dict.fromkeys(
            ("heart_rate", "resp_rate", "spo2", "effects", "notes"), "[redacted]")
        assert event.after["trial_day_id"] == day.id
        assert db.session.get(Observation, obs.id).heart_rate == 131  # the record keeps the value
