"""Issue 16: the password policy, an admin's temporary password that must be changed at the next sign-in, a
user's own change, and every sign-in of the user ending when a password changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.auth.models import LoginThrottle, User, UserSession
from server.auth.policy import common_passwords, password_problems
from server.extensions import db
from server.web import clock
from tests.conftest import field_error

NEW = "violet-harbour-lamp"
TEMPORARY = "temporary-kettle-9"


# ---- the policy ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "username", "problem"), [
    ("short-one", "nia", "Use at least 12 characters (this has 9)."),
    ("x" * 257, "nia", "Use at most 256 characters."),
    ("nia.walker-1999", "nia.walker", "Do not use your username in the password."),
    ("NIA.WALKER.NIA", "nia.walker", "Do not use your username in the password."),
    ("password1234", "nia", "This is one of the most common passwords"),  # a listed one, digits added
    ("!!Sunshine2024!!", "nia", "This is one of the most common passwords"),
    ("monkeymonkeymonkey", "nia", "This is one of the most common passwords"),  # a listed one, repeated
    ("abcdefghijklmn", "nia", "This is a run of keys"),
    ("0987654321098", "nia", "This is a run of keys"),
    ("qwertyuiopasdf", "nia", "This is a run of keys"),
    ("abababababababab", "nia", "This is a run of keys or one character repeated"),
    ("aaaaaaaaaaaaaaa", "nia", "This is a run of keys or one character repeated"),
])
def test_the_policy_refuses(app, password, username, problem) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        [message] = password_problems(password, username)
    assert message.startswith(problem)


@pytest.mark.parametrize("password", ["violet-harbour-lamp", "correct-horse", "Tr0ub4dor&3xyz", "ab" * 3 + "cdefghij"])
def test_the_policy_accepts_long_uncommon_passwords(app, password) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert password_problems(password, "nia") == []


def test_the_shipped_list_is_read_without_its_header(app) -> None:  # type: ignore[no-untyped-def]
    common = common_passwords()
    assert len(common) > 3000 and {"123456", "password", "sunshine", "winniethepooh"} <= common
    assert not any(p.startswith("#!comment") for p in common)


def test_the_minimum_length_is_configurable_but_never_below_8(database_url) -> None:  # type: ignore[no-untyped-def]
    from server import create_app
    from server.config import ConfigError
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "PASSWORD_MIN_LENGTH": 16})
    with app.app_context():
        assert password_problems("violet-harbour", "nia") == ["Use at least 16 characters (this has 14)."]
    with pytest.raises(ConfigError):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "PASSWORD_MIN_LENGTH": 6})


# ---- an admin's temporary password, changed at the next sign-in ----------------------------------------------------

def _sessions_open(app, user_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return len(db.session.scalars(select(UserSession).where(
            UserSession.user_id == user_id, UserSession.ended_at.is_(None))).all())


def test_admin_reset_ends_every_session_and_forces_a_change_at_the_next_sign_in(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_user) -> None:
    nia = make_user("nurse", username="nia")
    phone, tablet = app.test_client(), app.test_client()
    for device in (phone, tablet):
        assert device.login("nia").status_code == 303
    assert _sessions_open(app, nia) == 2
    with app.app_context():  # a few failed attempts: the reset lifts the delay too
        db.session.add(LoginThrottle(username="nia", address="10.1.1.1", failures=9, next_allowed_at=clock.now(),
                                     updated_at=clock.now()))
        db.session.commit()

    signed_in("admin")
    page = client.get(f"/admin/staff/{nia}/password").get_data(as_text=True)
    assert "At least 12 characters; not a common password, not your username." in page  # beside the field
    refused = client.post(f"/admin/staff/{nia}/password", data={"password": "Password1234"})
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "password").startswith("This is one of the most common")
    assert client.post(f"/admin/staff/{nia}/password", data={"password": TEMPORARY}).status_code == 303

    assert _sessions_open(app, nia) == 0
    for device in (phone, tablet):  # both of Nia's sign-ins ended at once
        response = device.get("/ward")
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    with app.app_context():
        user = db.session.get(User, nia)
        assert user.must_change_password and user.password_changed_at is not None
        assert db.session.scalars(select(LoginThrottle).where(LoginThrottle.username == "nia")).all() == []
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "User", AuditEvent.entity_id
                                                            == str(nia)).order_by(AuditEvent.id.desc())).first()
        assert event.after["must_change_password"] is True and event.after["password_hash"] == "[redacted]"
    staff = client.get("/admin/staff").get_data(as_text=True)
    assert "Temporary password: to be changed at the next sign-in" in staff

    assert phone.login("nia", "correct-horse").status_code == 401  # the old password is gone
    assert phone.login("nia", TEMPORARY).status_code == 303
    # Until a new password is chosen, every page leads to the change, and the sync API waits (401, never a refusal).
    ward = phone.get("/ward")
    assert ward.status_code == 303 and ward.headers["Location"].startswith("/account/password?next=/ward")
    assert phone.get("/api/session").status_code == 401
    form = phone.get("/account/password").get_data(as_text=True)
    assert "An admin set a temporary password for you" in form and 'for="current_password">Temporary password' in form

    wrong = phone.post("/account/password", data={"current_password": "not-it-at-all",
                                                   "new_password": NEW, "new_password_again": NEW})
    assert wrong.status_code == 422
    assert field_error(wrong.get_data(as_text=True), "current_password") == "That is not your current password."
    same = phone.post("/account/password", data={"current_password": TEMPORARY, "new_password": TEMPORARY,
                                                  "new_password_again": TEMPORARY})
    assert field_error(same.get_data(as_text=True), "new_password") == ("Choose a new password, not the current one "
                                                                        "again.")
    done = phone.post("/account/password?next=/ward", data={"current_password": TEMPORARY, "new_password": NEW,
                                                            "new_password_again": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/ward"
    assert phone.get("/ward").status_code == 200
    with app.app_context():
        assert db.session.get(User, nia).must_change_password is False


def test_an_admin_sets_no_temporary_password_for_themselves(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    me = signed_in("admin")
    response = client.post(f"/admin/staff/{me}/password", data={"password": TEMPORARY})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "password").startswith("This is your own account")
    with app.app_context():
        assert db.session.get(User, me).must_change_password is False


# ---- one's own change ------------------------------------------------------------------------------------------------

def test_own_change_ends_the_other_sessions_and_keeps_this_browser_signed_in(app, client, make_user) -> None:  # type: ignore[no-untyped-def]
    pia = make_user("pt", username="pia")
    other = app.test_client()
    assert other.login("pia").status_code == 303 and client.login("pia").status_code == 303
    page = client.get("/account/password").get_data(as_text=True)
    assert "At least 12 characters" in page and 'autocomplete="new-password"' in page
    done = client.post("/account/password", data={"current_password": "correct-horse", "new_password": NEW,
                                                   "new_password_again": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/account/password?changed=1"
    assert "Your password was changed. Every other sign-in of yours has ended." in client.get(
        done.headers["Location"]).get_data(as_text=True)
    assert client.get("/today").status_code == 200  # this browser goes on, in a new session
    stale = other.get("/today")
    assert stale.status_code == 303 and stale.headers["Location"].startswith("/login")
    assert _sessions_open(app, pia) == 1
    assert app.test_client().login("pia", "correct-horse").status_code == 401
    assert app.test_client().login("pia", NEW).status_code == 303


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"new_password": NEW, "new_password_again": NEW}, "current_password", "Type your current password."),
    ({"current_password": "correct-horse", "new_password": NEW, "new_password_again": NEW + "x"},
     "new_password_again", "The two new passwords are not the same."),
    ({"current_password": "correct-horse", "new_password": "dragon", "new_password_again": "dragon"},
     "new_password", "Use at least 12 characters (this has 6)."),
    ({"current_password": "correct-horse", "new_password": "Dragon-2024!!", "new_password_again": "Dragon-2024!!"},
     "new_password", "This is one of the most common passwords (perhaps with digits or symbols added): choose "
                     "another."),
])
def test_own_change_refusals_are_shown_beside_the_field(app, client, make_user, form, field, message) -> None:  # type: ignore[no-untyped-def]
    uid = make_user("surgeon", username="sam")
    client.login("sam")
    with app.app_context():
        before = db.session.get(User, uid).password_hash
    response = client.post("/account/password", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and field_error(html, field) == message
    assert 'value="correct-horse"' not in html  # passwords are never written back into the page
    with app.app_context():
        assert db.session.get(User, uid).password_hash == before
    assert client.get("/trials").status_code == 200  # still signed in: nothing changed


# ---- flask create-admin ----------------------------------------------------------------------------------------------

def test_create_admin_goes_through_the_same_schema_and_policy(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import server.cli

    runner = app.test_cli_runner()  # `flask` pushes an app context for every command; the test runner does not

    def create(password: str, username: str = "boss"):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(server.cli.getpass, "getpass", lambda prompt="": password)
        with app.app_context():
            return runner.invoke(args=["create-admin", "--username", username, "--name", "Boss"])

    refused = create("letmein", "Boss Person")
    assert refused.exit_code != 0
    assert "Username: Use lower-case letters" in refused.output
    assert "Password: Use at least 12 characters (this has 7)." in refused.output
    common = create("letmein-letmein")
    assert common.exit_code != 0 and "most common passwords" in common.output
    made = create(NEW)
    assert made.exit_code == 0, made.output
    assert "At least 12 characters" in made.output and "Admin boss created." in made.output
    with app.app_context():
        boss = db.session.scalars(select(User).where(User.username == "boss")).one()
        assert boss.roles == {"admin"} and not boss.must_change_password


def test_demo_data_twice_says_only_that_nothing_changed(app) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    with app.app_context():
        first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0 and first.output.startswith("Demo data loaded")
    with app.app_context():
        second = runner.invoke(args=["demo-data"])
    assert second.output.strip() == "Demo data already present; nothing changed."
