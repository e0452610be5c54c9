"""Issue 11, findings 1 and 2: hostile times and numbers at the sync boundary.

A phone with a broken clock, a number too big for an INTEGER column, a NUL character or a lone surrogate: each is
answered "rejected" for that entry alone, with a reason, and the rest of the batch applies. A body nested a
thousand deep or holding NaN is a 400. Nothing of it can reach a page, a hash or the database.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment
from server.dosing.models import Observation
from server.extensions import db
from server.sync_api.models import SyncConflict, SyncLedger
from server.trials.models import Trial
from tests.assessments.conftest import form


def _day(app, trial_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Trial, trial_id).days[0].id


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def observe(author: int, day_id: int, recorded_at: str | None = None, **over: Any) -> dict[str, Any]:
    when = recorded_at or datetime.now(UTC).isoformat()
    return {"id": str(uuid.uuid4()), "kind": "dosing.observe", "payload": {"trial_day_id": str(day_id),
            "heart_rate": "90"}, "author_id": author, "device_id": "ward-phone", "recorded_at": when,
            "base_rev": None, "form_version": 1, **over}


def push(client, *entries: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post("/api/sync", json={"protocol_version": 1, "device_id": "ward-phone", "entries": list(entries)})


@pytest.fixture
def nurse_and_day(app, signed_in, make_trial):  # type: ignore[no-untyped-def]
    nurse = signed_in("nurse")
    return nurse, _day(app, make_trial())


EDGES = [
    "9999-12-30T00:00:00.000Z",  # the finding: applied, then /ward answered 500 for everyone
    "9999-12-31T23:59:59.999999-23:59",  # overflowed in payload_hash
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2099-01-01T09:00:00+00:00",
]


@pytest.mark.parametrize("recorded_at", EDGES)
def test_a_phone_clock_out_of_bounds_is_one_rejected_entry_and_the_rest_applies(  # type: ignore[no-untyped-def]
        app, client, nurse_and_day, recorded_at) -> None:
    nurse, day_id = nurse_and_day
    response = push(client, observe(nurse, day_id, recorded_at), observe(nurse, day_id))
    assert response.status_code == 200, response.get_data(as_text=True)
    bad, good = response.get_json()["results"]
    assert bad["status"] == "rejected" and good["status"] == "applied"
    assert "clock is wrong" in bad["reason"] and "date and time" in bad["reason"]
    assert set(bad["errors"]) == {"recorded_at"}
    assert _count(app, Observation) == 1 and _count(app, SyncLedger) == 1
    for page in ("/ward", f"/days/{day_id}/monitoring"):
        assert client.get(page).status_code == 200


def test_the_clock_may_run_ahead_by_the_configured_minutes(app, client, nurse_and_day) -> None:  # type: ignore[no-untyped-def]
    nurse, day_id = nurse_and_day
    assert app.config["DEVICE_CLOCK_AHEAD_MINUTES"] == 10
    now = datetime.now(UTC)
    results = push(client, observe(nurse, day_id, (now + timedelta(minutes=8)).isoformat()),
                   observe(nurse, day_id, (now + timedelta(minutes=12)).isoformat())).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert "more than 10 minutes after the server's time" in results[1]["reason"]


def test_a_phone_clock_before_the_trial_began_is_rejected(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    nurse = signed_in("nurse", "pt")
    trial_id = make_trial()  # day 1 is today
    day_id = _day(app, trial_id)
    long_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    assessment = {"id": str(uuid.uuid4()), "kind": "assessments.record", "payload": form(trial_id),
                  "author_id": nurse, "device_id": "p", "recorded_at": long_ago, "base_rev": None, "form_version": 1}
    results = push(client, observe(nurse, day_id, long_ago), assessment).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all("before this child's trial began" in r["reason"] for r in results)
    assert _count(app, Observation) == 0 and _count(app, Assessment) == 0


@pytest.mark.parametrize(("over", "field"), [
    ({"base_rev": 2**31}, "base_rev"),
    ({"base_rev": 10**30}, "base_rev"),
    ({"form_version": 2**31}, "form_version"),
])
def test_integers_beyond_the_columns_are_one_rejected_entry(app, client, nurse_and_day, over, field) -> None:  # type: ignore[no-untyped-def]
    nurse, day_id = nurse_and_day
    results = push(client, observe(nurse, day_id, **over), observe(nurse, day_id)).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert set(results[0]["errors"]) == {field} and "cannot store" in results[0]["reason"]


def test_a_reused_id_with_a_huge_base_rev_is_rejected_not_a_500(app, client, nurse_and_day) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the reused id went to sync_conflicts, whose base_rev is an INTEGER: UniqueViolation's cousin,
    NumericValueOutOfRange, and a 500 on every retry."""
    nurse, day_id = nurse_and_day
    first = observe(nurse, day_id)
    assert push(client, first).get_json()["results"][0]["status"] == "applied"
    again = {**first, "payload": {**first["payload"], "heart_rate": "91"}, "base_rev": 2**31}
    response = push(client, again)
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"
    assert _count(app, SyncConflict) == 0


@pytest.mark.parametrize("payload_change", [
    {"notes": "before\x00after"},
    {"notes\x00": "x"},
    {"notes": "\ud800"},
    {"notes": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": "deep"}}}}}}}}},
])
def test_nul_surrogates_and_deep_payloads_are_one_rejected_entry(app, client, nurse_and_day, payload_change) -> None:  # type: ignore[no-untyped-def]
    nurse, day_id = nurse_and_day
    bad = observe(nurse, day_id)
    bad["payload"].update(payload_change)
    response = client.post("/api/sync", data=json.dumps(
        {"protocol_version": 1, "device_id": "p", "entries": [bad, observe(nurse, day_id)]}),
        content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert results[0]["errors"].keys() == {"payload"}


def test_a_nul_in_the_entry_device_id_is_rejected(app, client, nurse_and_day) -> None:  # type: ignore[no-untyped-def]
    nurse, day_id = nurse_and_day
    results = push(client, observe(nurse, day_id, device_id="ward\x00phone")).get_json()["results"]
    assert results[0]["status"] == "rejected" and "NUL" in results[0]["errors"]["device_id"][0]


@pytest.mark.parametrize("depth", [40, 1_000, 100_000])
def test_a_body_nested_too_deep_is_a_400_not_a_500(client, signed_in, depth) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    body = '{"protocol_version": 1, "device_id": "p", "entries": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/api/sync", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested at most 32 levels" in response.get_json()["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client, signed_in, constant) -> None:  # type: ignore[no-untyped-def]
    uid = signed_in("nurse")
    entry = json.dumps(observe(uid, 1)).replace('"heart_rate": "90"', f'"heart_rate": {constant}')
    body = '{"protocol_version": 1, "device_id": "p", "entries": [' + entry + "]}"
    assert client.post("/api/sync", data=body, content_type="application/json").status_code == 400
