"""POST /api/sync over a real database: idempotent, per-entry results, nothing half-written."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.sync_api.models import SyncConflict, SyncLedger
from server.trials.models import Patient
from sync import Conflict, Entry, Rejected
from tests.conftest import app_with


def _patient_handler(entry: Entry) -> dict[str, Any]:
    """A toy entry kind for these tests: make a patient from the payload (same service as the form)."""
    from server.trials.services import TrialError, create_patient

    p = entry.payload
    if p.get("explode"):
        raise RuntimeError("handler crashed")
    if p.get("conflict"):
        raise Conflict("Edited from an old revision; both versions kept.", {"type": "patient", "id": 0})
    try:
        patient = create_patient({
            "first_name": p["first_name"], "last_name": "Sync", "date_of_birth": date(2018, 1, 1),
            "mrn": p["mrn"], "weight_kg": Decimal("20"), "gmfcs_level": 3, "diagnosis": "CP",
            "tone_type": "spastic"})
    except TrialError as exc:
        raise Rejected("This hospital number is already registered.", exc.errors) from exc
    return {"type": "patient", "id": patient.id}


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    yield from app_with(database_url, SYNC_EXTRA_KINDS={"test.patient": (_patient_handler, ("pt",))})


def entry(author_id: int, **payload: Any) -> dict[str, Any]:
    return {"id": payload.pop("id", None) or str(uuid.uuid4()), "kind": payload.pop("kind", "test.patient"),
            "payload": payload, "author_id": author_id, "device_id": "phone-1",
            "recorded_at": "2026-11-25T10:07:00+00:00", "base_rev": None, "form_version": 1}


def push(client, *entries: dict[str, Any], **over: Any):  # type: ignore[no-untyped-def]
    body = {"protocol_version": 1, "device_id": "phone-1", "entries": list(entries), **over}
    return client.post("/api/sync", json=body)


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_applied_then_duplicate_on_resend(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    e = entry(pt, first_name="Ann", mrn="S-1")
    first = push(client, e)
    assert first.status_code == 200
    [r1] = first.get_json()["results"]
    assert r1["status"] == "applied" and r1["record"]["type"] == "patient"
    [r2] = push(client, e).get_json()["results"]
    assert r2["status"] == "duplicate" and r2["record"] == r1["record"]
    assert count(app, Patient) == 1 and count(app, SyncLedger) == 1


def test_rejected_entry_does_not_block_the_others_and_writes_nothing(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    results = push(client, entry(pt, first_name="A", mrn="S-2"), entry(pt, first_name="B", mrn="S-2"),
                   entry(pt, first_name="C", mrn="S-3")).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["reason"] == "This hospital number is already registered."
    assert "mrn" in results[1]["errors"]
    assert count(app, Patient) == 2 and count(app, SyncLedger) == 2


def test_same_id_other_content_is_a_conflict_and_both_versions_are_kept(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    e = entry(pt, first_name="Ann", mrn="S-4")
    push(client, e)
    changed = {**e, "payload": {"first_name": "Anne", "mrn": "S-4"}}
    [r] = push(client, changed).get_json()["results"]
    assert r["status"] == "conflict"
    [r_again] = push(client, changed).get_json()["results"]  # retried: still one kept copy
    assert r_again["status"] == "conflict"
    with app.app_context():
        kept = db.session.scalars(select(SyncConflict)).all()
        assert len(kept) == 1 and kept[0].payload["first_name"] == "Anne"
        assert db.session.scalars(select(Patient)).one().first_name == "Ann"


def test_handler_conflict_keeps_the_losing_version(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    [r] = push(client, entry(pt, first_name="X", mrn="S-9", conflict=True)).get_json()["results"]
    assert r["status"] == "conflict"
    assert count(app, SyncConflict) == 1 and count(app, SyncLedger) == 1
    page = client.get("/sync/conflicts")
    assert page.status_code == 200 and "both versions kept" in page.get_data(as_text=True)


def test_a_crash_mid_batch_writes_nothing(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    response = push(client, entry(pt, first_name="A", mrn="S-5"), entry(pt, first_name="B", mrn="S-6", explode=True))
    assert response.status_code == 500
    assert count(app, Patient) == 0 and count(app, SyncLedger) == 0
    # The client retries later (without the crashing entry): applied, exactly once.
    first = entry(pt, first_name="A", mrn="S-5")
    assert push(client, first).get_json()["results"][0]["status"] == "applied"
    assert count(app, Patient) == 1


def test_entry_kind_not_allowed_for_role_is_rejected(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    nurse = signed_in("nurse")
    [r] = push(client, entry(nurse, first_name="A", mrn="S-7")).get_json()["results"]
    assert r["status"] == "rejected" and "role" in r["reason"]
    assert count(app, Patient) == 0


def test_entries_of_another_user_are_refused(app, client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    other = make_user("pt")
    response = push(client, entry(other, first_name="A", mrn="S-8"))
    assert response.status_code == 403
    assert count(app, Patient) == 0


def test_anonymous_gets_401_json(client) -> None:  # type: ignore[no-untyped-def]
    response = push(client, entry(1, first_name="A", mrn="S-1"))
    assert response.status_code == 401
    assert response.get_json()["message"] == "Sign in to continue."


@pytest.mark.parametrize("token", [None, "wrong-token", "caf\u00e9-\u2603"])
def test_push_with_a_missing_or_stale_csrf_token_is_403_and_writes_nothing(app, client, signed_in, token) -> None:  # type: ignore[no-untyped-def]
    """Signed in, but the token is not this session's: 403 (the phone keeps the entries pending and fetches a
    new token), never a 400 that would set them aside, and never a 500 for a token outside ASCII."""
    pt = signed_in("pt")
    body = {"protocol_version": 1, "device_id": "d", "entries": [entry(pt, first_name="A", mrn="S-1")]}
    headers = {"X-CSRFToken": token} if token else {}
    response = client.post("/api/sync", json=body, csrf=False, headers=headers)
    assert response.status_code == 403
    assert "sent again" in response.get_json()["message"]
    assert count(app, Patient) == 0


def test_expired_sign_in_is_401_before_the_csrf_check(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The session cookie is gone (expired or deleted) between GET /api/session and the push: 401, so the phone
    pauses with "Sign in to send N entries" and resumes by itself after sign-in (issue 9, defect 3)."""
    pt = signed_in("pt")
    token = client.get("/api/session").get_json()["csrf_token"]
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    body = {"protocol_version": 1, "device_id": "d", "entries": [entry(pt, first_name="A", mrn="S-1")]}
    response = client.post("/api/sync", json=body, csrf=False, headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.get_json()["message"] == "Sign in to continue."
    assert count(app, Patient) == 0


def test_non_ascii_csrf_token_on_a_form_is_a_400_not_a_500(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    assert client.get("/api/session").status_code == 200  # the session now holds a CSRF token to compare with
    response = client.post("/logout", data={"csrf_token": "\u00e9t\u00e9"}, csrf=False)
    assert response.status_code == 400


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda b: b.update(protocol_version=2), "Unsupported protocol version 2"),
    (lambda b: b["entries"][0].update(author_id="me"), "author_id"),
    (lambda b: b["entries"][0].pop("recorded_at"), "recorded_at"),
    (lambda b: b["entries"][0].update(id="not-a-uuid"), "id"),
    (lambda b: b["entries"][0].update(kind="teleport.patient"), "Unknown entry kind 'teleport.patient'"),
    (lambda b: b.update(entries=[]), "entries"),
    (lambda b: b.update(surprise=True), "surprise"),
])
def test_malformed_requests_get_a_clear_400_and_write_nothing(app, client, signed_in, mutate, needle) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    body = {"protocol_version": 1, "device_id": "phone-1", "entries": [entry(pt, first_name="A", mrn="S-1")]}
    mutate(body)
    response = client.post("/api/sync", json=body)
    assert response.status_code == 400
    assert needle in str(response.get_json())
    assert count(app, Patient) == 0 and count(app, SyncLedger) == 0


def test_not_json_and_oversized_bodies(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    assert client.post("/api/sync", data="hello", content_type="text/plain").status_code == 400
    huge = "x" * (3 * 1024 * 1024)
    response = client.post("/api/sync", data=huge, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "Request Entity Too Large"


def test_session_endpoint_gives_user_and_token(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    uid = signed_in("nurse")
    body = client.get("/api/session").get_json()
    assert body["user_id"] == uid and body["roles"] == ["nurse"] and len(body["csrf_token"]) > 20
    client.post("/logout")
    assert client.get("/api/session").status_code == 401


def test_openapi_document_describes_the_sync_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) >= {"/api/sync", "/api/session"}
    entry_schema = doc["components"]["schemas"]["Entry"]
    assert set(entry_schema["required"]) == {"id", "kind", "payload", "author_id", "device_id", "recorded_at",
                                             "form_version"}
