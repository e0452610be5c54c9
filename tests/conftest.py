"""Fixtures for server tests: a fresh database per session, emptied after every test."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from time_machine import TimeMachineFixture

from server import create_app
from server.extensions import db
from tests.dbutil import create_database, using_postgres

TEST_CONFIG: dict[str, Any] = {
    "APP_ENV": "test",
    "SECRET_KEY": "test-secret-key",
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    "HOSPITAL_TIMEZONE": "Europe/London",
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = create_database(tmp_path_factory.mktemp("db"))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if using_postgres():
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def app_with(database_url: str, **extra: Any) -> Iterator[Flask]:
    """A test app on the session's database (with any extra config), emptied afterwards."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **extra})
    app.test_client_class = CsrfClient
    yield app
    with app.app_context():
        db.session.rollback()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from app_with(database_url)


class CsrfClient(FlaskClient):
    """A test client that sends the session's CSRF token on unsafe requests, as the app's pages do.

    Pass `csrf=False` to send none (to prove the app refuses it).
    """

    def open(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            if "_csrf" not in sess:
                sess["_csrf"] = "test-csrf-token-" + str(id(self))
            return str(sess["_csrf"])

    def login(self, username: str, password: str = "correct-horse") -> Any:
        return self.post("/login", data={"username": username, "password": password})


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context for calling services directly; whatever the test left uncommitted is rolled back."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def stopped_clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """The app's clock (server/web/clock.py), stopped at the real time and moved on by hand with
    `stopped_clock.shift(timedelta(...))` (or set with `.move_to(...)`); time-machine moves `datetime.now` itself."""
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


@pytest.fixture
def client(app: Flask) -> CsrfClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Factory: make_user("nurse") or make_user(roles=["pt", "nurse"], username="x")."""
    from server.admin.services import create_staff

    counter = iter(range(1, 10_000))

    def _make(*roles: str, username: str | None = None, password: str = "correct-horse", active: bool = True):
        roles = roles or ("pt",)
        name = username or f"{'-'.join(roles)}{next(counter)}"
        with app.app_context():
            user = create_staff({"username": name, "display_name": name.title(), "password": password,
                                 "roles": list(roles)})
            if not active:
                from server.admin.services import set_active

                set_active(user, False, confirm=True)
            db.session.commit()
            return user.id

    return _make


@pytest.fixture
def signed_in(client: CsrfClient, make_user):  # type: ignore[no-untyped-def]
    """Factory: sign the client in as a new user with the given roles; returns the user id."""

    def _sign_in(*roles: str) -> int:
        uid = make_user(*roles)
        from server.auth.models import User

        with client.application.app_context():
            username = db.session.get(User, uid).username
        response = client.login(username)
        assert response.status_code == 303, response.get_data(as_text=True)
        return uid

    return _sign_in


@pytest.fixture
def make_patient(app: Flask):  # type: ignore[no-untyped-def]
    from datetime import date
    from decimal import Decimal

    from server.trials.services import create_patient

    counter = iter(range(1, 10_000))

    def _make(**overrides: Any) -> int:
        n = next(counter)
        data = {"first_name": "Child", "last_name": f"Test{n}", "date_of_birth": date(2018, 3, 14),
                "mrn": f"T{n:05d}", "weight_kg": Decimal("20.5"), "gmfcs_level": 3,
                "diagnosis": "Bilateral spastic CP", "tone_type": "spastic", **overrides}
        with app.app_context():
            patient_id = create_patient(data).id
            db.session.commit()
            return patient_id

    return _make


@pytest.fixture
def make_trial(app: Flask, make_patient):  # type: ignore[no-untyped-def]
    from datetime import time
    from decimal import Decimal

    from server.trials.services import create_trial
    from server.web import clock

    def _make(patient_id: int | None = None, **overrides: Any) -> int:
        with app.app_context():
            data = {"patient_id": patient_id or make_patient(), "start_date": clock.today(), "bed": "3",
                    "catheter_placed_at": None, "small_child": False, "day1_dose_mcg": Decimal("50"),
                    "dose_time": time(9, 0), **overrides}
            trial_id = create_trial(data, created_by_id=None).id
            db.session.commit()
            return trial_id

    return _make


def field_error(html: str, field: str) -> str | None:
    """The error message shown beside a field, or None."""
    m = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    return html_lib.unescape(m.group(1)) if m else None


def bundles_in(html: str) -> list[str]:
    """The built bundles a page loads, by logical name and in order (`common.js`, `app.css`: build-assets.mjs),
    from its <script src> and <link rel="stylesheet"> tags. Any other script or stylesheet fails the test."""
    from server.web.assets import DIST

    manifest = json.loads((Path(__file__).resolve().parents[1] / "server/static" / DIST / "manifest.json").read_text())
    by_file = {f"/static/{DIST}/{file}": name for name, file in manifest.items()}
    refs = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    urls = [src or href for src, href in refs]
    assert all(u in by_file for u in urls), f"not a built bundle: {[u for u in urls if u not in by_file]}"
    return [by_file[u] for u in urls]
