"""Nursing observations through the outbox: kind "dosing.observe" on POST /api/sync, over a real database.

The same schema and service as the plain form (views.observe): refusals come back per entry with the field
messages and write nothing, a resend of the same entry is a duplicate of the first record, and what is saved
is flagged on the monitoring page exactly as if it had been typed into the form.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select

from server.dosing.models import Observation
from server.extensions import db
from server.sync_api.models import SyncLedger
from tests.dosing.conftest import day_id, give

PAST = date(2026, 11, 2)  # GMT


def _entry(author: int, payload: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": "dosing.observe", "payload": payload, "author_id": author,
            "device_id": "ward-phone", "recorded_at": "2026-11-02T09:31:00+00:00", "base_rev": None,
            "form_version": 1, **over}


def _push(client, *entries: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "ward-phone",
                                              "entries": list(entries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def _count(app, model=Observation) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_an_observation_sent_offline_is_saved_flagged_and_a_resend_is_a_duplicate(  # type: ignore[no-untyped-def]
        app, client, signed_in, staff, trial_on) -> None:
    did = day_id(app, trial_on(PAST), 1)
    give(app, did, staff)  # 09:00
    nurse = signed_in("nurse")
    # What the outbox stores from the form: one string per field, a list for the repeated effects checkboxes.
    entry = _entry(nurse, {"trial_day_id": str(did), "entry_id": "the form's copy", "taken_at": "2026-11-02T09:29",
                           "heart_rate": "88", "resp_rate": "9", "spo2": "96", "sedation_score": "2",
                           "effects": ["drowsiness", "headache"], "notes": ""})
    [first] = _push(client, entry)
    assert first["status"] == "applied" and first["record"]["type"] == "observation"
    [again] = _push(client, entry)  # the phone did not hear the answer and sends it again
    assert again["status"] == "duplicate" and again["record"] == first["record"]
    assert _count(app) == 1 and _count(app, SyncLedger) == 1
    with app.app_context():
        obs = db.session.get(Observation, first["record"]["id"])
        assert (obs.entry_id, obs.author_id, obs.device_id) == (entry["id"], nurse, "ward-phone")
        assert (obs.resp_rate, obs.sedation_score, obs.effects) == (9, 2, ["drowsiness", "headache"])
        assert obs.taken_at.strftime("%H:%M") == "09:29" and obs.notes is None
    page = client.get(f"/days/{did}/monitoring").get_data(as_text=True)
    assert "Possible baclofen overdose: escalate now" in page
    assert "Respiratory rate 9/min is below 18/min" in page and "rapid-response escalation" in page
    assert "Done 09:29" in page  # counts for the 09:30 check


def test_a_rejected_observation_comes_back_with_field_errors_and_writes_nothing(  # type: ignore[no-untyped-def]
        app, client, signed_in, trial_on) -> None:
    did = day_id(app, trial_on(PAST), 1)
    nurse = signed_in("nurse")
    good = _entry(nurse, {"trial_day_id": str(did), "heart_rate": "90"})
    bad = [
        _entry(nurse, {"trial_day_id": str(did), "resp_rate": "500", "bp_systolic": "abc"}),
        _entry(nurse, {"trial_day_id": str(did)}),
        _entry(nurse, {"trial_day_id": "9" * 25, "heart_rate": "90"}),
        _entry(nurse, {"trial_day_id": "999999", "heart_rate": "90"}),
        _entry(nurse, {"trial_day_id": str(did), "heart_rate": {"nested": 1}, "effects": ["teleportation"]}),
        _entry(nurse, {"trial_day_id": str(did), "taken_at": "2099-01-01T09:00", "heart_rate": "90"}),
        _entry(nurse, {"trial_day_id": str(did), "taken_at": "2026-03-29T01:30", "heart_rate": "90"}),
    ]
    results = _push(client, *bad, good)
    assert [r["status"] for r in results] == ["rejected"] * len(bad) + ["applied"]  # one bad entry blocks nothing
    assert all(r["reason"] for r in results[:-1])
    assert results[0]["errors"] == {"resp_rate": ["Respiratory rate is a whole number from 0 to 120/min."],
                                    "bp_systolic": ["Systolic pressure is a whole number from 30 to 250 mmHg."]}
    assert results[1]["errors"] == {"_form": ["Enter at least one observation."]}
    assert results[2]["errors"] == {"trial_day_id": ["No such trial day. Reload the page."]}
    assert results[3]["reason"] == "No such trial day. Reload the page."
    assert set(results[4]["errors"]) == {"heart_rate", "effects"}
    assert results[5]["errors"] == {"taken_at": ["The time taken cannot be in the future."]}
    assert results[6]["errors"]["taken_at"][0].startswith("01:30 does not exist on Sun 29 Mar")
    assert _count(app) == 1 and _count(app, SyncLedger) == 1  # only the good one; rejections leave no trace


def test_only_nurses_may_send_observations(app, client, signed_in, trial_on) -> None:  # type: ignore[no-untyped-def]
    did = day_id(app, trial_on(PAST), 1)
    pt = signed_in("pt")
    [result] = _push(client, _entry(pt, {"trial_day_id": str(did), "heart_rate": "90"}))
    assert result["status"] == "rejected" and "role" in result["reason"]
    assert _count(app) == 0
