"""Escalation first, everywhere (issue 10, finding 3): overdose signs (brief 5.3) open an escalation that sorts the
child first on the ward with a red banner (what is wrong, since when), flags them on the surgeon's trials list and
the PT's list, sets observations to every 15 min, and stays until a nurse or neurosurgeon records that it was
acted on (who, when, what was done), which is audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from time_machine import TimeMachineFixture

from server.audit.models import AuditEvent
from server.dosing.models import EscalationResponse, Observation
from server.dosing.services import (
    DosingError,
    _may_show_overdose_sign,
    open_escalations,
    record_escalation_response,
    ward_schedule,
)
from server.dosing.vitals import AGE_BANDS, OVERDOSE_EFFECTS
from server.extensions import db
from server.trials.models import Trial
from tests.conftest import field_error
from tests.dosing.conftest import DAY, day_id, give, observe

NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # London is on GMT
ACTION = "Rapid response called; oxygen on; surgeon reviewed at the bedside; 1:1 nursing."



def _overdose(app, did: int, nurse: int, at: datetime = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)) -> int:  # type: ignore[no-untyped-def]
    """The issue's reproduction: RR 10, SpO2 90, sedation 2 (an 8-year-old)."""
    return observe(app, did, nurse, at, resp_rate=10, spo2=90, sedation_score=2, heart_rate=88)


@pytest.fixture
def at_now(time_machine: TimeMachineFixture) -> datetime:
    """The app's clock stopped at NOW."""
    time_machine.move_to(NOW, tick=False)
    return NOW


def _names(html: str) -> list[str]:
    return re.findall(r'class="card-title" href="[^"]+">([^<]+)</a>', html)


def test_overdose_signs_open_an_escalation_that_later_normal_checks_do_not_close(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    first = _overdose(app, did, staff["nurse"])
    observe(app, did, staff["nurse"], datetime(2026, 11, 25, 10, 20, tzinfo=UTC), resp_rate=22, spo2=98)
    with app.app_context():
        e = open_escalations([tid])[tid]
        assert [o.id for o in e.observations] == [first] and e.since == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
        assert e.signs == ["Respiratory rate 10/min is below 18/min, the lower limit for age 6 to 9 years.",
                           "SpO2 90% is below 94%.", "Sedation score 2: drowsy or more deeply sedated."]
        assert e.every_minutes == 15 and e.next_obs_at == datetime(2026, 11, 25, 10, 35, tzinfo=UTC)
        assert e.obs_state(datetime(2026, 11, 25, 10, 41, tzinfo=UTC)) == "overdue"


def test_flags_that_are_not_overdose_signs_open_no_escalation(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    observe(app, did, staff["nurse"], NOW, temperature_c=Decimal("38.5"), heart_rate=170, pain_score=8,
             effects=["headache", "nausea_vomiting"])
    with app.app_context():
        assert open_escalations([tid]) == {} and open_escalations() == {}


@pytest.mark.parametrize("values", [
    {"resp_rate": max(b.resp_rate[0] for b in AGE_BANDS) - 1}, {"spo2": 93}, {"temperature_c": Decimal("35.9")},
    {"sedation_score": 2}, *({"effects": [key]} for key in sorted(OVERDOSE_EFFECTS)),
])
def test_the_sql_prefilter_never_misses_an_overdose_sign(app, staff, trial_on, make_patient, values) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    tid = trial_on(DAY, patient_id=make_patient(date_of_birth=date(2026, 6, 1)))  # an infant: highest RR limit
    did = day_id(app, tid, 1)
    oid = observe(app, did, staff["nurse"], NOW, **values)
    with app.app_context():
        assert db.session.scalar(select(Observation.id).where(_may_show_overdose_sign())) == oid
        assert tid in open_escalations([tid])


def test_acted_on_closes_the_escalation_is_audited_and_a_new_sign_opens_another(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    first = _overdose(app, did, staff["nurse"])
    with app.app_context():
        key = open_escalations([tid])[tid].key
        response = record_escalation_response(tid, {"acted_by_id": staff["surgeon"], "acted_at": datetime(
            2026, 11, 25, 10, 8), "action_taken": ACTION, "escalation_key": key}, author_id=staff["nurse"], now=NOW)
        db.session.commit()
        assert (response.observation_ids, response.acted_by_id, response.recorded_by_id) == (
            [first], staff["surgeon"], staff["nurse"])
        assert response.acted_at == datetime(2026, 11, 25, 10, 8, tzinfo=UTC)
        assert open_escalations([tid]) == {}
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "EscalationResponse")).one()
        assert audit.action == "create"
    second = observe(app, did, staff["nurse"], datetime(2026, 11, 25, 10, 25, tzinfo=UTC),
                      effects=["respiratory_depression"])
    with app.app_context():
        assert [o.id for o in open_escalations([tid])[tid].observations] == [second]


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"action_taken": "ok"}, "action_taken", "Say what was done in at least a sentence (20 characters and 4 words)."),
    ({"action_taken": ""}, "action_taken", "Say what was done."),
    ({"acted_at": datetime(2026, 11, 25, 11, 0)}, "acted_at", "The time acted cannot be in the future."),
    ({"acted_at": datetime(2026, 11, 25, 9, 0)}, "acted_at",
     "The overdose signs were charted at 10:05: enter when they were acted on, from then."),
    ({"acted_by_id": "PT"}, "acted_by_id", "Choose the nurse or neurosurgeon who acted."),
    ({"escalation_key": 999999}, "_form", "A new observation with overdose signs arrived after you opened this "
                                          "page: read it, then record what was done again."),
])
def test_an_acted_on_record_outside_the_rules_is_refused_and_the_flag_stays(app, staff, trial_on, over, field,  # type: ignore[no-untyped-def]
                                                                            message) -> None:
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    _overdose(app, did, staff["nurse"])
    with app.app_context():
        data = {"acted_by_id": staff["nurse"], "acted_at": datetime(2026, 11, 25, 10, 8), "action_taken": ACTION,
                "escalation_key": open_escalations([tid])[tid].key}
        data |= {k: staff["pt"] if v == "PT" else v for k, v in over.items()}
        with pytest.raises(DosingError) as err:
            record_escalation_response(tid, data, author_id=staff["nurse"], now=NOW)
        assert err.value.errors[field] == [message]
        db.session.rollback()
        assert db.session.scalars(select(EscalationResponse)).all() == [] and tid in open_escalations([tid])
        with pytest.raises(DosingError):  # only a nurse or a neurosurgeon records it
            record_escalation_response(tid, data | {"acted_by_id": staff["nurse"]}, author_id=staff["pt"], now=NOW)


def test_finding_3_the_escalated_child_sorts_first_on_the_ward_with_a_banner_and_15_minute_checks(  # type: ignore[no-untyped-def]
        app, client, signed_in, staff, trial_on, make_patient, at_now) -> None:
    routine = trial_on(DAY, patient_id=make_patient(first_name="Olly", last_name="Overdue"), bed="1")
    give(app, day_id(app, routine, 1), staff, time(9, 0))  # routine observations overdue since 09:15
    tid = trial_on(DAY, patient_id=make_patient(first_name="Eve", last_name="Escalated"), bed="9")
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    for minutes in (15, 30, 45, 60):
        observe(app, did, staff["nurse"], datetime(2026, 11, 25, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes),
                 resp_rate=22, spo2=98)
    _overdose(app, did, staff["nurse"])
    signed_in("nurse")
    html = client.get("/ward").get_data(as_text=True)
    assert _names(html) == ["Eve E.", "Olly O."]
    banner = html[html.index('class="escalation-banner"'):]
    assert "Possible baclofen overdose since 10:05: escalate now." in banner
    assert "Respiratory rate 10/min is below 18/min" in banner and "SpO2 90% is below 94%." in banner
    assert "Next obs <strong>10:20</strong>" not in html  # not the routine plan
    assert "Obs overdue since <strong>10:20</strong> (every 15 min: escalation)" in html
    assert "Latest observation flagged" not in html
    with app.app_context():
        rows = ward_schedule(DAY, NOW)
        assert rows[0].trial.id == tid and rows[0].rank == -1


def test_the_flag_shows_on_the_trials_list_and_the_pts_list_until_acted_on(app, client, signed_in, staff, trial_on,  # type: ignore[no-untyped-def]
                                                                            make_patient, at_now) -> None:
    quiet = trial_on(DAY, patient_id=make_patient(first_name="Quinn", last_name="Quiet"), bed="1")
    tid = trial_on(DAY, patient_id=make_patient(first_name="Eve", last_name="Escalated"), bed="9")
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    _overdose(app, did, staff["nurse"])
    signed_in("surgeon", "pt", "nurse")
    trials = client.get("/trials").get_data(as_text=True)
    today = client.get("/today").get_data(as_text=True)
    for html in (trials, today):
        assert "Possible baclofen overdose since 10:05: escalate now." in html
        assert html.index("Eve") < html.index("Quinn")  # the escalated child first
    assert quiet
    monitoring = client.get(f"/days/{did}/monitoring").get_data(as_text=True)
    assert "Observations every 15 min until acted on: overdue since 10:20" in monitoring
    refused = client.post(f"/days/{did}/escalation", data={
        "acted_by_id": str(staff["nurse"]), "acted_at": "2026-11-25T10:08", "action_taken": "done",
        "escalation_key": re.search(r'name="escalation_key" value="(\d+)"', monitoring).group(1)})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert field_error(text, "action_taken") == "Say what was done in at least a sentence (20 characters and 4 words)."
    assert ">done</textarea>" in text
    response = client.post(f"/days/{did}/escalation", data={
        "acted_by_id": str(staff["surgeon"]), "acted_at": "2026-11-25T10:08", "action_taken": ACTION,
        "escalation_key": re.search(r'name="escalation_key" value="(\d+)"', monitoring).group(1)})
    assert response.status_code == 303
    for path in ("/trials", "/today", "/ward"):
        assert "Possible baclofen overdose since" not in client.get(path).get_data(as_text=True), path
    after = client.get(f"/days/{did}/monitoring").get_data(as_text=True)
    assert "Escalations acted on" in after and ACTION in after


def test_an_escalation_keeps_a_closed_trial_on_the_ward_and_the_trials_list(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                            trial_on, at_now) -> None:
    tid = trial_on(DAY - timedelta(days=4))
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    _overdose(app, did, staff["nurse"], at=datetime(2026, 11, 21, 10, 5, tzinfo=UTC))
    with app.app_context():
        db.session.get(Trial, tid).status = "completed"
        db.session.commit()
    signed_in("nurse", "surgeon")
    ward = client.get("/ward").get_data(as_text=True)
    assert "Possible baclofen overdose since 10:05 Sat 21 Nov: escalate now." in ward
    assert "Possible baclofen overdose since 10:05 Sat 21 Nov" in client.get("/trials?status=completed").get_data(
        as_text=True)


@pytest.mark.parametrize("role", ["pt", "admin"])
def test_only_a_nurse_or_surgeon_records_acted_on(app, client, signed_in, staff, trial_on, role) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(DAY)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0))
    _overdose(app, did, staff["nurse"])
    signed_in(role)
    response = client.post(f"/days/{did}/escalation", data={"acted_by_id": "1", "acted_at": "2026-11-25T10:08",
                                                             "action_taken": ACTION, "escalation_key": "1"})
    assert response.status_code == 403
