from __future__ import annotations

from tests.conftest import field_error


def test_each_role_lands_on_its_home(client, make_user) -> None:  # type: ignore[no-untyped-def]
    homes = {"pt": "/today", "nurse": "/ward", "surgeon": "/trials", "admin": "/admin/"}
    for role, home in homes.items():
        make_user(role, username=f"u-{role}")
        response = client.login(f"u-{role}")
        assert response.status_code == 303
        assert response.headers["Location"] == home
        page = client.get(home)
        assert page.status_code == 200
        client.post("/logout")


def test_pt_home_lists_todays_patients(client, make_user, make_trial, make_patient) -> None:  # type: ignore[no-untyped-def]
    make_trial(make_patient(first_name="Amira"))
    make_user("pt", username="pt1")
    client.login("pt1")
    html = client.get("/today").get_data(as_text=True)
    assert "My patients today" in html and "Amira" in html


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="pia")
    wrong = client.post("/login", data={"username": "pia", "password": "nope-nope"})
    unknown = client.post("/login", data={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Username or password is not right." in wrong.get_data(as_text=True)
    assert "Username or password is not right." in unknown.get_data(as_text=True)
    # What was typed is kept (the username, never the password).
    assert 'value="pia"' in wrong.get_data(as_text=True)
    assert "nope-nope" not in wrong.get_data(as_text=True)


def test_empty_login_gets_messages_beside_fields(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "username") == "Enter your username."
    assert field_error(html, "password") == "Enter your password."


def test_disabled_account_cannot_sign_in(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="gone", active=False)
    assert client.login("gone").status_code == 401


def test_login_is_throttled_after_repeated_failures(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="target")
    for _ in range(5):
        assert client.post("/login", data={"username": "target", "password": "guess-guess"}).status_code == 401
    # Even the right password is refused while throttled.
    response = client.login("target")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_next_parameter_only_allows_local_paths(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="nn")
    response = client.post("/login?next=https://evil.example/", data={"username": "nn",
                                                                      "password": "correct-horse"})
    assert response.headers["Location"] == "/ward"
    client.post("/logout")
    response = client.post("/login?next=/trials/1", data={"username": "nn", "password": "correct-horse"})
    assert response.headers["Location"] == "/trials/1"


def test_sign_out_ends_the_session(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="nora")
    client.login("nora")
    assert client.get("/ward").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/ward").status_code == 303


def test_htmx_login_redirects_with_hx_redirect(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("pt", username="hx")
    response = client.post("/login", data={"username": "hx", "password": "correct-horse"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/today"


def test_login_fragment_for_htmx_and_vary_header(client) -> None:  # type: ignore[no-untyped-def]
    full = client.get("/login")
    frag = client.post("/login", data={"username": ""}, headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in frag.get_data(as_text=True) and 'id="login-form"' in frag.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in frag.headers["Vary"]


def test_passwords_are_stored_as_argon2_hashes(app, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.auth.models import User
    from server.extensions import db

    uid = make_user("pt", password="s3cret-passphrase")
    with app.app_context():
        stored = db.session.get(User, uid).password_hash
    assert stored.startswith("$argon2id$") and "s3cret-passphrase" not in stored
