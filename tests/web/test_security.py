"""CSRF, security headers, cookies, and no asset from another host."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[2]


def test_state_change_without_csrf_token_is_refused(app: Flask, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    form = {"first_name": "Eve", "last_name": "Stone", "date_of_birth": "2017-01-02", "mrn": "X1",
            "weight_kg": "20", "gmfcs_level": "3", "diagnosis": "CP", "tone_type": "spastic"}
    refused = client.post("/patients/new", data=form, csrf=False)
    assert refused.status_code == 400
    wrong = client.post("/patients/new", data=form, csrf=False, headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400
    from server.extensions import db
    from server.trials.models import Patient

    with app.app_context():
        assert db.session.query(Patient).count() == 0
    accepted = client.post("/patients/new", data=form)
    assert accepted.status_code == 303


def test_login_itself_needs_the_csrf_token(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="paula")
    response = client.post("/login", data={"username": "paula", "password": "correct-horse"}, csrf=False)
    assert response.status_code == 400


def test_security_headers_on_pages(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_flags(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="pat")
    response = client.login("pat")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from server.config import load_config

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    cfg = load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 32})
    assert cfg["SESSION_COOKIE_SECURE"] is True


def test_no_inline_script_and_no_other_host_in_templates_or_assets() -> None:
    offenders = []
    for path in list((ROOT / "server/templates").rglob("*.html")) + list((ROOT / "server/static").rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".css", ".js", ".json", ".webmanifest", ".svg"}:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text) or re.search(r"url\(\s*['\"]?(https?:)?//", text):
            offenders.append(f"{path}: external URL")
        if path.suffix == ".html" and re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline script")
        if path.suffix == ".html" and re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []


def test_pages_link_only_local_assets(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    for url in ("/login", "/admin/", "/trials", "/ward", "/patients/new", "/trials/new", "/admin/staff"):
        html = client.get(url).get_data(as_text=True)
        for ref in re.findall(r"""(?:src|href|action)=["']([^"']+)""", html):
            assert ref.startswith(("/", "#")), (url, ref)
