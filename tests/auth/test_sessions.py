"""Issue 11, finding 4: a sign-out that ends the session, and a sign-in that cannot live forever.

Sessions live on the server (`user_sessions`): a cookie copied before sign-out opens nothing afterwards, a
session unused for SESSION_HOURS ends (idle), and one older than SESSION_MAX_HOURS ends however busy (absolute).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.auth.models import User, UserSession
from server.extensions import db

COOKIE = "itb_session"


def _push(author: int) -> dict:  # type: ignore[type-arg]
    return {"protocol_version": 1, "device_id": "p", "entries": [{
        "id": str(uuid.uuid4()), "kind": "dosing.observe", "payload": {"trial_day_id": "1", "heart_rate": "90"},
        "author_id": author, "device_id": "p", "recorded_at": datetime.now(UTC).isoformat(), "base_rev": None,
        "form_version": 1}]}


def test_a_cookie_captured_before_sign_out_opens_nothing_after_it(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    nurse = signed_in("nurse")
    token = client.get("/api/session").get_json()["csrf_token"]
    captured = client.get_cookie(COOKIE).value
    assert client.post("/logout").status_code == 303
    client.set_cookie(COOKIE, captured)  # the attacker's copy, or a stale tab
    assert client.get("/api/session").status_code == 401
    response = client.post("/api/sync", json=_push(nurse), headers={"X-CSRFToken": token}, csrf=False)
    assert response.status_code == 401
    assert client.get("/ward").status_code == 303  # pages: back to sign-in


def test_signing_in_again_ends_the_previous_session_of_that_browser(app, client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="nia")
    client.login("nia")
    first = client.get_cookie(COOKIE).value
    client.login("nia")
    client.set_cookie(COOKIE, first)
    assert client.get("/api/session").status_code == 401


def test_the_database_holds_only_a_hash_of_the_session_token(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    with client.session_transaction() as sess:
        token = sess["sid"]
    with app.app_context():
        [row] = db.session.scalars(select(UserSession)).all()
        assert row.id == hashlib.sha256(token.encode()).hexdigest() and token not in row.id
        assert row.ended_at is None


def test_an_idle_session_ends_after_session_hours(app, client, signed_in, stopped_clock) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    assert app.permanent_session_lifetime == timedelta(hours=12)
    stopped_clock.shift(timedelta(hours=11, minutes=59))
    assert client.get("/api/session").status_code == 200  # used: the idle clock starts again
    stopped_clock.shift(timedelta(hours=11, minutes=59))
    assert client.get("/api/session").status_code == 200
    stopped_clock.shift(timedelta(hours=12, minutes=1))
    assert client.get("/api/session").status_code == 401


def test_a_busy_session_still_ends_at_its_absolute_lifetime(app, client, signed_in, stopped_clock) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    assert app.config["SESSION_MAX_HOURS"] == 24
    for _ in range(47):  # used every 30 minutes for 23 h 30
        stopped_clock.shift(timedelta(minutes=30))
        assert client.get("/api/session").status_code == 200
    stopped_clock.shift(timedelta(minutes=31))
    assert client.get("/api/session").status_code == 401


def test_last_use_is_written_at_most_once_a_minute(app, client, signed_in, stopped_clock) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")

    def last_seen() -> datetime:
        with app.app_context():
            return db.session.scalars(select(UserSession.last_seen_at)).one()

    start = last_seen()
    stopped_clock.shift(timedelta(seconds=30))
    client.get("/api/session")
    assert last_seen() == start
    stopped_clock.shift(timedelta(seconds=31))
    client.get("/api/session")
    assert last_seen() > start


def test_disabling_the_account_still_ends_its_sessions(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    from server.admin.services import set_active

    uid = signed_in("nurse")
    with app.app_context():
        set_active(db.session.get(User, uid), False, confirm=True)
        db.session.commit()
    assert client.get("/api/session").status_code == 401


def test_a_request_in_flight_with_an_ended_session_keeps_the_sign_in_form_valid(  # type: ignore[no-untyped-def]
        app, client, make_user, stopped_clock) -> None:
    """Found by CI: the next morning the nurse's session had ended; /login was served with a CSRF token, then a
    request the old page still had in flight (same old cookie) answered after it and wiped that token, so the
    sign-in was refused with 400. An ended sign-in now drops the sign-in only, never the form's token."""
    make_user("nurse", username="nia")
    client.login("nia")
    for _ in range(47):  # a busy night: the ward page every 30 minutes, for 23 h 30
        stopped_clock.shift(timedelta(minutes=30))
        assert client.get("/ward").status_code == 200
    old_cookie = client.get_cookie(COOKIE).value
    stopped_clock.shift(timedelta(minutes=31))  # past SESSION_MAX_HOURS: the sign-in has ended, the cookie has not
    page = client.get("/login")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token is not None
    client.set_cookie(COOKIE, old_cookie)  # the old page's request, sent before /login answered...
    assert client.get("/api/session").status_code == 401  # ...answers after it, with its own Set-Cookie
    response = client.post("/login", data={"username": "nia", "password": "correct-horse",
                                           "csrf_token": token.group(1)}, csrf=False)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert client.get("/api/session").status_code == 200
