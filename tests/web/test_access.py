"""Every route says who may use it: anonymous visitors are refused, and each role gets only its routes."""

from __future__ import annotations

import pytest
from flask import Flask

# Routes anyone may reach. A new route is protected unless it is added here on purpose. ("assets" is /static/dist/, the
# built JavaScript and CSS: web/assets.py.)
# parents.progress_page is /p/<token>, the parents' page: it has no sign-in because the token is the key (a
# family has no account). It answers 404 to any token that is not a working link; tests/parents checks it.
PUBLIC_ENDPOINTS = {"static", "assets", "auth.login", "auth.logout", "health.healthz", "pwa.service_worker",
                    "pwa.manifest", "pwa.offline", "sync_api.openapi", "parents.progress_page", "parents.observe",
                    "parents.refuse_post"}


def _rules(app: Flask):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_non_public_route_declares_its_roles(app: Flask) -> None:
    undeclared = [e for e, _, _ in _rules(app) if not hasattr(app.view_functions[e], "required_roles")]
    assert undeclared == []


def test_anonymous_visitor_is_refused_everywhere(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    seen = 0
    for endpoint, method, url in _rules(app):
        response = client.open(url, method=method)
        seen += 1
        if url.startswith("/api/"):
            assert response.status_code == 401, (endpoint, method)
        else:
            assert response.status_code == 303, (endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/login"), endpoint
    assert seen >= 10


@pytest.mark.parametrize("role", ["pt", "nurse", "surgeon", "admin"])
def test_each_role_reaches_only_its_routes(app: Flask, client, signed_in, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    make_trial()  # so /trials/1 exists
    signed_in(role)
    for endpoint, method, url in _rules(app):
        allowed = app.view_functions[endpoint].required_roles
        response = client.open(url, method=method, data={})
        if not allowed or role in allowed:
            assert response.status_code != 403, (role, endpoint, method)
            assert response.status_code < 500, (role, endpoint, method)
        else:
            assert response.status_code == 403, (role, endpoint, method, response.status_code)


def test_disabled_user_is_signed_out_at_once(app: Flask, client, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.admin.services import set_active
    from server.auth.models import User
    from server.extensions import db

    uid = make_user("nurse", username="nina")
    assert client.login("nina").status_code == 303
    assert client.get("/ward").status_code == 200
    with app.app_context():
        set_active(db.session.get(User, uid), False, confirm=True)
        db.session.commit()
    response = client.get("/ward")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
