"""Nursing observations: one form that works as a plain POST and as an outbox entry (same schema, same service)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.dosing.models import Observation
from server.dosing.offline import handle_observe
from server.extensions import db
from sync import Entry, Rejected
from tests.conftest import field_error
from tests.dosing.conftest import day_id, give

PAST = date(2026, 11, 2)


def _count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Observation))


def _form_values(html: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'<input type="hidden" name="(trial_day_id|entry_id)" value="([^"]+)"', html))


def test_form_is_outbox_ready_and_works_as_a_plain_post(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    give(app, did, staff)
    me = signed_in("nurse")
    html = client.get(f"/days/{did}/observations").get_data(as_text=True)
    hidden = _form_values(html)
    assert 'data-outbox="dosing.observe"' in html and 'data-form-version="1"' in html
    assert f'data-entry-id="{hidden["entry_id"]}"' in html and hidden["trial_day_id"] == str(did)
    assert 'method="post"' in html and "hx-post" not in html.split('id="observation-form"')[1].split(">")[0]
    data = {**hidden, "taken_at": "2026-11-02T09:16", "heart_rate": "92", "resp_rate": "8", "spo2": "97",
            "bp_systolic": "101", "bp_diastolic": "60", "temperature_c": "36.7", "sedation_score": "1",
            "pain_score": "2", "effects": ["nausea_vomiting", "headache"], "notes": "Site dry"}
    response = client.post(f"/days/{did}/observations", data=data)
    assert response.status_code == 303
    assert client.post(f"/days/{did}/observations", data=data).status_code == 303  # saved twice: still one entry
    with app.app_context():
        obs = db.session.scalars(select(Observation)).one()
        assert obs.entry_id == hidden["entry_id"] and obs.author_id == me
        assert obs.taken_at == datetime(2026, 11, 2, 9, 16, tzinfo=UTC)
        assert obs.effects == ["nausea_vomiting", "headache"] and obs.resp_rate == 8
        assert obs.recorded_at is not None and obs.received_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Possible baclofen overdose: escalate now" in page
    assert "Respiratory rate 8/min is below" in page and "rapid-response escalation" in page
    assert "Done 09:16" in page  # the 09:15 check of the timeline


@pytest.mark.parametrize(("over", "field", "message"), [
    ({}, None, "Enter at least one observation."),
    ({"resp_rate": "500"}, "resp_rate", "Respiratory rate is a whole number from 0 to 120/min."),
    ({"spo2": "lots"}, "spo2", "SpO2 is a whole number from 50 to 100%."),
    ({"bp_systolic": "100"}, "bp_diastolic", "Enter both blood pressure numbers."),
    ({"bp_systolic": "60", "bp_diastolic": "80"}, "bp_diastolic", "Diastolic must be lower than systolic."),
    ({"sedation_score": "7"}, "sedation_score", "Choose a sedation score from 0 to 4."),
    ({"taken_at": "2099-01-01T10:00", "heart_rate": "90"}, "taken_at", "The time taken cannot be in the future."),
    ({"taken_at": "2016-11-02T09:16", "heart_rate": "90"}, "taken_at",
     "The time taken is before this trial day (Mon 2 Nov): check the date."),
    ({"taken_at": "0001-01-01T00:00", "heart_rate": "90"}, "taken_at",
     "The time taken is before this trial day (Mon 2 Nov): check the date."),
    ({"notes": "x" * 2001}, "notes", "Keep it to 2000 characters."),
    ({"heart_rate": "9" * 30}, "heart_rate", "Heart rate is a whole number from 20 to 300/min."),
    ({"temperature_c": "NaN"}, "temperature_c", "Enter the temperature as a number, e.g. 36.8."),
    ({"effects": ["hypotonia", "x"], "heart_rate": "90"}, "effects",
     "An adverse effect on this form is no longer listed: reload the page."),
])
def test_bad_observations_are_refused_beside_the_field(app, client, signed_in, trial_on, over, field,  # type: ignore[no-untyped-def]
                                                       message) -> None:
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    signed_in("nurse")
    response = client.post(f"/days/{did}/observations", data={"trial_day_id": str(did), **over})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    if field:
        assert field_error(html, field) == message
    else:
        assert message in html
    assert _count(app) == 0


def test_only_nurses_record_observations(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    signed_in("surgeon")
    did = day_id(app, tid, 1)
    assert client.post(f"/days/{did}/observations", data={"trial_day_id": str(did), "heart_rate": "90"}
                       ).status_code == 403


def _entry(author: int, payload: dict, **over) -> Entry:  # type: ignore[type-arg,no-untyped-def]
    values = {"id": str(uuid.uuid4()), "kind": "dosing.observe", "payload": payload, "author_id": author,
              "device_id": "phone-1", "recorded_at": datetime(2026, 11, 2, 9, 31, tzinfo=UTC), "base_rev": None,
              "form_version": 1, **over}
    return Entry(**values)


def test_offline_replay_uses_the_same_schema_and_service(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    entry = _entry(staff["nurse"], {"trial_day_id": str(did), "entry_id": "ignored", "resp_rate": "20",
                                    "effects": "headache", "taken_at": ""})
    with app.app_context():
        result = handle_observe(entry)
        db.session.commit()
        obs = db.session.get(Observation, result["id"])
        assert result == {"type": "observation", "id": obs.id}
        assert obs.entry_id == entry.id and obs.device_id == "phone-1"
        assert obs.recorded_at == entry.recorded_at and obs.taken_at == entry.recorded_at  # empty: when saved
        assert obs.received_at > obs.recorded_at and obs.effects == ["headache"]
        assert handle_observe(entry) == result  # the same entry again: the same record


def test_offline_replay_rejects_with_field_errors(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    with app.app_context():
        with pytest.raises(Rejected) as err:
            handle_observe(_entry(staff["nurse"], {"trial_day_id": str(did), "resp_rate": "500"}))
        assert err.value.errors == {"resp_rate": ["Respiratory rate is a whole number from 0 to 120/min."]}
        with pytest.raises(Rejected) as err:
            handle_observe(_entry(staff["nurse"], {"trial_day_id": "99999", "resp_rate": "20"}))
        assert err.value.reason == "No such trial day. Reload the page."
        future = datetime.now(UTC) + timedelta(days=2)
        with pytest.raises(Rejected) as err:
            handle_observe(_entry(staff["nurse"], {"trial_day_id": str(did), "resp_rate": "20",
                                                   "taken_at": future.strftime("%Y-%m-%dT%H:%M")}))
        assert err.value.errors == {"taken_at": ["The time taken cannot be in the future."]}
    assert _count(app) == 0


def test_monitoring_timeline_from_the_dose_time(app, client, signed_in, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    signed_in("nurse")
    before = client.get(f"/days/{did}/monitoring").get_data(as_text=True)
    assert "Not given yet: 50 mcg planned at 09:00" in before and "No observations yet." in before
    give(app, did, staff)
    page = client.get(f"/days/{did}/monitoring").get_data(as_text=True)
    assert "PT reassessment due <strong>13:00</strong> (window 12:00\u201314:00)" in page
    for t in ("09:15", "09:30", "09:45", "10:00", "10:30", "11:00", "12:00", "17:00", "21:00"):
        assert f'<span class="slot-time">{t}</span>' in page
    for t in ("01:00", "05:00", "09:00"):  # after midnight: the date is shown, so 09:00 is not read as today's
        assert f'<span class="slot-time">{t} <span class="slot-day">Tue 3 Nov</span></span>' in page
    assert page.count('class="slot slot-') == 16
