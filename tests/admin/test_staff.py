from __future__ import annotations

from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from tests.conftest import field_error

PASSWORD = "plenty-long-pass"


def test_admin_creates_rerole_and_disables_staff(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    created = client.post("/admin/staff/new", data={"username": "kim", "display_name": "Kim Lee",
                                                    "password": PASSWORD, "roles": ["pt", "nurse"]})
    assert created.status_code == 303
    with app.app_context():
        kim = db.session.scalars(select(User).where(User.username == "kim")).one()
        assert kim.roles == {"pt", "nurse"}
        assert kim.must_change_password  # the admin chose it: Kim chooses her own at the first sign-in
        kim_id = kim.id
    assert client.post(f"/admin/staff/{kim_id}/roles", data={"roles": "surgeon", "confirm": "yes"}).status_code == 200
    assert client.post(f"/admin/staff/{kim_id}/active", data={"active": "0", "confirm": "yes"}).status_code == 303
    with app.app_context():
        kim = db.session.get(User, kim_id)
        assert kim.roles == {"surgeon"} and kim.active is False


def test_staff_form_errors(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.post("/admin/staff/new", data={"username": "Bad Name", "display_name": "",
                                                     "password": "x" * 257, "roles": ["wizard"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "username") == "Use lower-case letters, digits, dots, dashes."
    assert field_error(html, "display_name") == "Enter the person's name."
    assert field_error(html, "password") == "Use at most 256 characters."
    assert field_error(html, "roles") is not None
    assert 'value="Bad Name"' in html


def test_new_account_password_follows_the_policy_shown_beside_it(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    page = client.get("/admin/staff/new").get_data(as_text=True)
    assert "At least 12 characters; not a common password, not your username." in page
    for password, message in (("short", "Use at least 12 characters (this has 5)."),
                              ("password1234", "This is one of the most common passwords"),
                              ("robin-robin-robin", "Do not use your username in the password.")):
        response = client.post("/admin/staff/new", data={"username": "robin", "display_name": "Robin",
                                                         "password": password, "roles": ["pt"]})
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "password").startswith(message)
    with app.app_context():
        assert db.session.scalars(select(User).where(User.username == "robin")).first() is None


def test_duplicate_username_refused(client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="taken")
    signed_in("admin")
    response = client.post("/admin/staff/new", data={"username": "taken", "display_name": "T",
                                                     "password": PASSWORD, "roles": ["pt"]})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "username") == "That username is taken."


def test_roles_form_needs_a_role(client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    other = make_user("pt")
    assert client.post(f"/admin/staff/{other}/roles", data={}).status_code == 422
    assert client.post("/admin/staff/9999/roles", data={"roles": "pt"}).status_code == 404


def test_removing_a_role_asks_first_then_applies(app, client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    sara = make_user("surgeon", "nurse", username="sara")
    asked = client.post(f"/admin/staff/{sara}/roles", data={"roles": "surgeon"}, headers={"HX-Request": "true"})
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert "Remove Nurse from sara? They are signed out at once." in html
    assert "Yes, change the roles of sara" in html and 'name="confirm" value="yes"' in html
    assert html.lstrip().startswith("<li")  # htmx: the row alone
    with app.app_context():
        assert db.session.get(User, sara).roles == {"surgeon", "nurse"}  # nothing changed yet
    # Adding a role takes nothing away: no question.
    assert client.post(f"/admin/staff/{sara}/roles", data={"roles": ["surgeon", "nurse", "pt"]}).status_code == 200
    done = client.post(f"/admin/staff/{sara}/roles", data={"roles": "surgeon", "confirm": "yes"})
    assert done.status_code == 200 and "Saved" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, sara).roles == {"surgeon"}


def test_disabling_asks_first_then_signs_the_person_out(app, client, signed_in, make_user) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    nell = make_user("nurse", username="nell")
    phone = app.test_client()
    assert phone.login("nell").status_code == 303 and phone.get("/ward").status_code == 200
    asked = client.post(f"/admin/staff/{nell}/active", data={"active": "0"})
    assert asked.status_code == 200
    assert "Disable nell? They are signed out at once" in asked.get_data(as_text=True)
    assert phone.get("/ward").status_code == 200  # not yet
    assert client.post(f"/admin/staff/{nell}/active", data={"active": "0", "confirm": "yes"}).status_code == 303
    gone = phone.get("/ward")
    assert gone.status_code == 303 and gone.headers["Location"].startswith("/login")
    # Enabling gives back, so it asks nothing.
    assert client.post(f"/admin/staff/{nell}/active", data={"active": "1"}).status_code == 303
    with app.app_context():
        assert db.session.get(User, nell).active is True


def test_an_admin_cannot_disable_or_demote_themselves_and_is_told_why(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    me = signed_in("admin")
    staff = client.get("/admin/staff").get_data(as_text=True)
    assert "Disable " not in staff.split(f'id="staff-{me}"')[1].split("</li>")[0]  # no button for oneself
    for data in ({"active": "0"}, {"active": "0", "confirm": "yes"}):
        response = client.post(f"/admin/staff/{me}/active", data=data)
        assert response.status_code == 422  # a page with the message, never a bare "Conflict"
        assert "You cannot disable your own account: another admin can do it." in response.get_data(as_text=True)
    demote = client.post(f"/admin/staff/{me}/roles", data={"roles": "pt", "confirm": "yes"},
                         headers={"HX-Request": "true"})
    assert demote.status_code == 422
    assert field_error(demote.get_data(as_text=True), f"roles-{me}") == ("You cannot remove your own admin role: "
                                                                          "another admin can do it.")
    with app.app_context():
        user = db.session.get(User, me)
        assert user.active and user.roles == {"admin"}
