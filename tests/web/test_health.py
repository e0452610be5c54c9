from __future__ import annotations

from sqlalchemy.exc import OperationalError


def test_healthz_ok(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_down(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from server.extensions import db

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_busy_sqlite_writer_is_a_503_with_retry_after_not_a_500(client, signed_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    import server.sync_api.views as views

    signed_in("pt")

    def locked(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(views, "apply_push", locked)
    body = {"protocol_version": 1, "device_id": "d", "entries": [{
        "id": "8f14e45f-ceea-467f-a0e6-0d3b2b5f6c1a", "kind": "assessments.record", "payload": {},
        "author_id": 1, "device_id": "d", "recorded_at": "2026-11-25T10:00:00+00:00", "base_rev": None,
        "form_version": 1}]}
    uid = client.get("/api/session").get_json()["user_id"]
    body["entries"][0]["author_id"] = uid
    response = client.post("/api/sync", json=body)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "Nothing was saved" in response.get_json()["message"]


def test_static_assets_do_not_touch_the_session(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "Cookie" not in response.headers.get("Vary", "")
