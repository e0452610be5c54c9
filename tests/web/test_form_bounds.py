"""Issue 11, finding 1 on the forms: a NUL character (PostgreSQL cannot store one), a date at the edge of the
calendar, an id beyond the INTEGER columns, a control character in X-Device-Id: each refused or ignored with a
message beside the field, never a 500, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.auth.models import LoginAttempt
from server.dosing.models import Observation
from server.extensions import db
from server.trials.models import Patient, Trial
from tests.conftest import field_error
from tests.trials.test_forms import GOOD_PATIENT, _trial_form


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("field", ["first_name", "diagnosis", "mrn"])
def test_a_nul_in_a_text_field_is_refused_beside_it(app, client, signed_in, field) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post("/patients/new", data={**GOOD_PATIENT, field: "A\x00B"})
    assert response.status_code == 422
    assert "NUL" in field_error(response.get_data(as_text=True), field)
    assert _count(app, Patient) == 0


def test_a_nul_in_the_username_is_refused_and_not_counted(app, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": "nurse\x00", "password": "x"})
    assert response.status_code == 422
    assert _count(app, LoginAttempt) == 0


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59"])
def test_a_catheter_time_outside_the_plausible_span_is_refused(app, client, signed_in, make_patient, value) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post("/trials/new", data=_trial_form(make_patient(), catheter_placed_at=value))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "catheter_placed_at").startswith("Check the date:")
    assert _count(app, Trial) == 0


@pytest.mark.parametrize("patient_id", [str(2**31), str(2**63), "9" * 40])
def test_an_id_beyond_the_integer_columns_is_refused(app, client, signed_in, patient_id) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post("/trials/new", data=_trial_form(1, patient_id=patient_id))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "patient_id") == "Choose the child from the list."


@pytest.mark.parametrize("taken_at", ["9999-12-31T23:59", "2099-01-01T09:00"])
def test_an_observation_dated_far_ahead_is_refused(app, client, signed_in, make_trial, taken_at) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    with app.app_context():
        day_id = db.session.get(Trial, make_trial()).days[0].id
    response = client.post(f"/days/{day_id}/observations", data={"trial_day_id": str(day_id), "taken_at": taken_at,
                                                                 "heart_rate": "90"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "taken_at") == "The time taken cannot be in the future."
    assert _count(app, Observation) == 0


def test_a_device_id_header_with_control_characters_is_ignored(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    with app.app_context():
        day_id = db.session.get(Trial, make_trial()).days[0].id
    response = client.post(f"/days/{day_id}/observations", data={"trial_day_id": str(day_id), "heart_rate": "90"},
                           headers={"X-Device-Id": "phone\x00\x01"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Observation.device_id)).one() is None
