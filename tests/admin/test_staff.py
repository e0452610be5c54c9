from __future__ import annotations

from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from tests.conftest import field_error


def test_admin_creates_rerole_and_disables_staff(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    created = client.post("/admin/staff/new", data={"username": "kim", "display_name": "Kim Lee",
                                                    "password": "long-enough", "roles": ["pt", "nurse"]})
    assert created.status_code == 303
    with app.app_context():
        kim = db.session.scalars(select(User).where(User.username == "kim")).one()
        assert kim.roles == {"pt", "nurse"}
        kim_id = kim.id
    assert client.post(f"/admin/staff/{kim_id}/roles", data={"roles": "surgeon"}).status_code == 200
    assert client.post(f"/admin/staff/{kim_id}/active", data={"active": "0"}).status_code == 303
    with app.app_context():
        kim = db.session.get(User, kim_id)
        assert kim.roles == {"surgeon"} and kim.active is False


def test_staff_form_errors(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post("/admin/staff/new", data={"username": "Bad Name", "display_name": "",
                                                     "password": "short", "roles": ["wizard"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "username") == "Use lower-case letters, digits, dots, dashes."
    assert field_error(html, "display_name") == "Enter the person's name."
    assert field_error(html, "password") == "Use at least 8 characters."
    assert field_error(html, "roles") is not None
    assert 'value="Bad Name"' in html


def test_duplicate_username_refused(client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="taken")
    signed_in("admin")
    response = client.post("/admin/staff/new", data={"username": "taken", "display_name": "T",
                                                     "password": "long-enough", "roles": ["pt"]})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "username") == "That username is taken."


def test_roles_form_needs_a_role_and_admin_keeps_own_admin(client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    me = signed_in("admin")
    other = make_user("pt")
    assert client.post(f"/admin/staff/{other}/roles", data={}).status_code == 422
    assert client.post(f"/admin/staff/{me}/roles", data={"roles": "pt"}).status_code == 422
    assert client.post(f"/admin/staff/{me}/active", data={"active": "0"}).status_code == 409
    assert client.post("/admin/staff/9999/roles", data={"roles": "pt"}).status_code == 404
