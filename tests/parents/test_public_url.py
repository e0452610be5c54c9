"""Issue 11, finding 8: the parent link shown to staff is built from PUBLIC_BASE_URL, never from the request's
Host header (a client chooses that: `Host: evil.example` gave `http://evil.example/p/<token>`)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from server.config import ConfigError, load_config
from server.extensions import db
from server.parents.models import ParentLink
from tests.conftest import app_with


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    yield from app_with(database_url, PUBLIC_BASE_URL="https://itb.hospital.example/")


@pytest.mark.parametrize("host", ["evil.example", "localhost", "itb.hospital.example:8443"])
def test_the_link_uses_the_configured_address_whatever_the_host_header(client, signed_in, make_trial, host) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("surgeon")
    client.csrf_token()
    # The test client sends cookies by host: give the session to the other host too (a browser pointed there).
    client.set_cookie("itb_session", client.get_cookie("itb_session").value, domain=host.split(":")[0])
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": "Mum", "expires_in_days": "7"},
                           headers={"Host": host, "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert re.search(r">https://itb\.hospital\.example/p/[A-Za-z0-9_-]{43}</textarea>", html)
    assert "evil.example" not in html


def test_without_a_public_address_no_link_is_made(database_url) -> None:  # type: ignore[no-untyped-def]
    for app in app_with(database_url, PUBLIC_BASE_URL=""):
        client = app.test_client()
        from server.admin.services import create_staff
        from server.auth.models import User

        with app.app_context():
            user = create_staff({"username": "sam", "display_name": "Sam", "password": "correct-horse",
                                 "roles": ["surgeon"]})
            db.session.commit()
            assert db.session.get(User, user.id) is not None
        assert client.login("sam").status_code == 303
        from datetime import date, time
        from decimal import Decimal

        from server.trials.services import create_patient, create_trial

        with app.app_context():
            patient = create_patient({"first_name": "A", "last_name": "B", "date_of_birth": date(2018, 1, 1),
                                      "mrn": "PU-1", "weight_kg": Decimal(20), "gmfcs_level": 3, "diagnosis": "CP",
                                      "tone_type": "spastic"})
            trial = create_trial({"patient_id": patient.id, "start_date": date.today(), "bed": "1",
                                  "catheter_placed_at": None, "small_child": False, "day1_dose_mcg": Decimal(50),
                                  "dose_time": time(9, 0)}, created_by_id=None)
            db.session.commit()
            trial_id = trial.id
        response = client.post(f"/trials/{trial_id}/parent-links", data={"label": "Mum", "expires_in_days": "7"})
        assert response.status_code == 422
        assert "PUBLIC_BASE_URL" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ParentLink)) == 0


@pytest.mark.parametrize("value", ["evil.example", "ftp://x.example", "https://x.example/?a=1", "https://"])
def test_a_malformed_public_address_is_refused_at_start(tmp_path, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config(str(tmp_path), {"APP_ENV": "test", "SECRET_KEY": "x", "PUBLIC_BASE_URL": value})
