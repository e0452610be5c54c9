"""Issue 11, finding 3: an open redirect after sign-in. `next` (sign-in, the assessment plan) must stay a path on
this site after every normalisation a browser makes, and never break the answer's headers."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.auth.models import User
from server.extensions import db
from server.web.redirects import safe_next

ORIGIN = "https://itb.hospital.example/"

HOSTILE = [
    "https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/%5Cevil.example", "/%5cevil.example", "/%255Cevil.example", "/%2F/evil.example", "/%2f%2fevil.example",
    "/\t/evil.example", "/\n/evil.example", "/%09/evil.example", "/%0d%0a/evil.example", "/\x00/evil.example",
    "javascript:alert(1)", "/javascript:alert(1)//", "http:/evil.example", "evil.example", " /x", "",
    "/\u2028/evil.example", "%2F%2Fevil.example",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target: str) -> None:
    result = safe_next(target)
    if result is not None:  # e.g. "/javascript:alert(1)//" is a path on this site: harmless
        assert _lands_on_this_site(result)


@pytest.mark.parametrize(("target", "expected"), [
    ("/trials/1", "/trials/1"), ("/trials/1/assessments?day=2#d2", "/trials/1/assessments?day=2#d2"),
    ("/p/caf\u00e9", "/p/caf%C3%A9"), ("/\u20ac", "/%E2%82%AC"), ("/a%20b", "/a%20b"),
])
def test_paths_on_this_site_pass_and_come_out_as_ascii(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def _lands_on_this_site(url: str) -> bool:
    """What a browser does with a Location: backslashes read as slashes, tabs and newlines dropped."""
    browser = url.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    resolved = urlsplit(urljoin(ORIGIN, browser))
    return resolved.scheme == "https" and resolved.netloc == "itb.hospital.example"


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from([*"/\\%:.@?#\t\n 5cCfF2e0aAvil", "\u00e9", "\u20ac", "\x00"]),
               max_size=24))
def test_whatever_comes_in_only_a_same_site_ascii_path_comes_out(target: str) -> None:
    result = safe_next(target)
    if result is not None:
        assert result.isascii() and result.isprintable() and result.startswith("/")
        assert _lands_on_this_site(result)
        assert _lands_on_this_site(unquote(unquote(result)))


def _user(app, make_user) -> str:  # type: ignore[no-untyped-def]
    uid = make_user("pt")
    with app.app_context():
        return db.session.get(User, uid).username


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("target", ["/%5Cevil.example", "//evil.example", "/\\evil.example", "https://evil.example"])
def test_sign_in_never_sends_the_browser_away(app, client, make_user, htmx, target) -> None:  # type: ignore[no-untyped-def]
    name = _user(app, make_user)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post("/login", query_string={"next": target},
                           data={"username": name, "password": "correct-horse"}, headers=headers)
    assert response.status_code == (204 if htmx else 303)
    where = response.headers["HX-Redirect" if htmx else "Location"]
    assert where == "/today"


def test_a_next_outside_latin1_still_gives_a_header_fit_answer(app, client, make_user) -> None:  # type: ignore[no-untyped-def]
    name = _user(app, make_user)
    response = client.post("/login", query_string={"next": "/trials?\u20ac=\u4e2d"},
                           data={"username": name, "password": "correct-horse"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/trials?%E2%82%AC=%E4%B8%AD"
    again = client.get("/login", query_string={"next": "/\u20ac"})  # signed in: straight on
    assert again.status_code == 303 and again.headers["Location"] == "/%E2%82%AC"


@pytest.mark.parametrize("htmx", [False, True])
def test_the_assessment_plan_next_is_checked_too(app, client, signed_in, make_trial, htmx) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    trial_id = make_trial()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"/trials/{trial_id}/assessment-plan", query_string={"next": "/%5Cevil.example"},
                           data={"items": ["mas.hip_adductors"]}, headers=headers)
    assert response.status_code == (204 if htmx else 303)
    assert response.headers["HX-Redirect" if htmx else "Location"] == f"/trials/{trial_id}"
    back = f"/trials/{trial_id}/days/1/baseline"
    good = client.post(f"/trials/{trial_id}/assessment-plan", query_string={"next": back},
                       data={"items": ["mas.hip_adductors"]})
    assert good.headers["Location"] == f"/trials/{trial_id}/days/1/baseline"
