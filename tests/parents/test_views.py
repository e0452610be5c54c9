"""Parent links over HTTP: staff make and revoke links on the trial page; a family opens /p/<token> with no
account and sees only the first name and plain-language progress; a link that does not work says so the same
way whatever the reason."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.parents.models import ParentLink
from server.parents.services import hash_token
from server.web import clock
from tests.conftest import bundles_in, field_error
from tests.parents.conftest import SECRET_RATIONALE, STAFF_NAMES, token_in

NOT_VALID = "<h1>This link is not valid any more</h1>\n<p class=\"parent-lead\">Ask the ward team for a new one.</p>"
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ParentLink))


def _make_link(client, trial_id: int, label: str = "Mum", days: str = "14") -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": label, "expires_in_days": days})
    assert response.status_code == 201, response.get_data(as_text=True)
    return token_in(response.get_data(as_text=True))


def _link(app, token: str) -> ParentLink:  # type: ignore[no-untyped-def]
    with app.app_context():
        link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
        assert link is not None
        db.session.expunge(link)
        return link


# --- staff side ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "surgeon"])
def test_admin_and_surgeon_make_a_link_shown_once_then_listed(app, client, signed_in, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    uid = signed_in(role)
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": "Mum", "expires_in_days": "30"})
    html = response.get_data(as_text=True)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    token = token_in(html)
    assert re.search(rf'<textarea id="new-parent-link"[^>]* readonly[^>]*>http://localhost/p/{token}</textarea>', html)
    link = _link(app, token)
    assert (link.trial_id, link.label, link.created_by_id) == (trial_id, "Mum", uid)
    assert link.expires_at - link.created_at == timedelta(days=30)
    page = client.get(f"/trials/{trial_id}").get_data(as_text=True)
    assert 'id="parent-links"' in page and "Mum" in page and "Active" in page and "Last opened: never" in page
    assert token not in page  # never shown again
    assert "Revoke the link for Mum" in page


def test_the_panel_is_for_admin_and_surgeon_only(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("nurse")
    page = client.get(f"/trials/{trial_id}").get_data(as_text=True)
    assert "Parent links" not in page and "parent-links" not in page


@pytest.mark.parametrize("role", ["pt", "nurse"])
def test_pt_and_nurse_may_not_make_list_or_revoke_links(app, client, signed_in, make_user, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("admin")
    token = _make_link(client, trial_id)
    link_id = _link(app, token).id
    client.post("/logout")
    signed_in(role)
    assert client.get(f"/trials/{trial_id}/parent-links").status_code == 403
    assert client.post(f"/trials/{trial_id}/parent-links", data={"label": "Dad"}).status_code == 403
    assert client.post(f"/trials/{trial_id}/parent-links/{link_id}/revoke").status_code == 403
    assert _count(app) == 1 and _link(app, token).revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_written(app, client, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    for response in (client.get(f"/trials/{trial_id}/parent-links"),
                     client.post(f"/trials/{trial_id}/parent-links", data={"label": "Dad"}),
                     client.post(f"/trials/{trial_id}/parent-links/1/revoke")):
        assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert _count(app) == 0


def test_making_a_link_needs_the_csrf_token(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("admin")
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": "Dad"}, csrf=False)
    assert response.status_code == 400 and _count(app) == 0


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"label": "", "expires_in_days": "14"}, "label", "Say who the link is for, e.g. “Mum”."),
    ({"label": "M" * 61, "expires_in_days": "14"}, "label",
     "Keep it to 60 characters, e.g. “Mum” or “Dad and Grandma”."),
    ({"label": "Grandad Joe", "expires_in_days": "90"}, "expires_in_days",
     "Choose how long the link works: 7, 14 or 30 days."),
])
def test_bad_input_is_shown_beside_the_field_with_what_was_typed_and_nothing_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, form, field, message) -> None:
    trial_id = make_trial()
    signed_in("surgeon")
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/trials/{trial_id}/parent-links", data=form, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert field_error(html, field) == message
        assert f'value="{form["label"]}"' in html  # kept
        assert "HX-Request" in response.headers["Vary"]
        assert ("<html" in html) == (not headers)  # the page, or the section for htmx to swap
    assert _count(app) == 0


def test_an_htmx_post_gets_the_section_back(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("admin")
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": "Dad", "expires_in_days": "7"},
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 201 and html.lstrip().startswith("<section id=\"parent-links\"")
    assert token_in(html)


@pytest.mark.parametrize("role", ["admin", "surgeon"])
def test_revoking_stops_the_link_at_once_and_records_who(app, client, signed_in, make_trial, child, role) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    signed_in("admin")
    token = _make_link(client, c.trial_id)
    assert client.get(f"/p/{token}").status_code == 200
    client.post("/logout")
    uid = signed_in(role)
    link = _link(app, token)
    response = client.post(f"/trials/{c.trial_id}/parent-links/{link.id}/revoke")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/trials/{c.trial_id}#parent-links"
    revoked = _link(app, token)
    assert revoked.revoked_by_id == uid and revoked.revoked_at is not None
    gone = client.get(f"/p/{token}")
    assert gone.status_code == 404 and NOT_VALID in gone.get_data(as_text=True)
    assert "Revoked" in client.get(f"/trials/{c.trial_id}").get_data(as_text=True)


def test_an_htmx_revoke_swaps_the_section_in_place(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("surgeon")
    token = _make_link(client, trial_id, "Dad")
    response = client.post(f"/trials/{trial_id}/parent-links/{_link(app, token).id}/revoke",
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert html.lstrip().startswith('<section id="parent-links"') and "<html" not in html
    assert "The link for Dad is revoked: it no longer works." in html and "Revoked" in html
    assert "Revoke the link for Dad" not in html and _link(app, token).revoked_at is not None


def test_a_link_cannot_be_revoked_through_another_trial(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    a, b = make_trial(), make_trial()
    signed_in("admin")
    token = _make_link(client, a)
    link_id = _link(app, token).id
    assert client.post(f"/trials/{b}/parent-links/{link_id}/revoke").status_code == 404
    assert _link(app, token).revoked_at is None


# --- the parent's page -----------------------------------------------------------------------------------------

def test_the_parents_page_shows_the_first_name_and_progress_and_nothing_identifying(  # type: ignore[no-untyped-def]
        app, client, signed_in, child) -> None:
    c = child("Ada")
    signed_in("admin")
    token = _make_link(client, c.trial_id)
    client.post("/logout")
    response = client.get(f"/p/{token}")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "<h1>Ada's trial</h1>" in html and "Day 1 of 3" in html
    assert "Ada had a test dose of 50 micrograms at 9:05\u202fAM." in html
    assert "Stiffness in the legs, before and after the dose" in html and "(lower is looser)" in html
    assert re.search(r"<dt>Before</dt>.*pbar-10.*>2</span>.*<dt>After</dt>.*pbar-5.*>1</span>", html, re.S)
    assert "The team's plan for tomorrow: a slightly higher dose (75 micrograms)." in html
    # never: last name, MRN, date of birth, bed, staff names, the team's own words
    forbidden = [c.last_name, c.mrn, c.bed, "2018", "14 Mar", "14/03", "Mum said", SECRET_RATIONALE, *STAFF_NAMES]
    assert [word for word in forbidden if word in html] == []
    for name in STAFF_NAMES:
        assert name.split()[0] not in html


def test_the_parents_page_loads_no_staff_script_service_worker_or_cookie(client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    signed_in("surgeon")
    token = _make_link(client, c.trial_id)
    anonymous = client.application.test_client()
    response = anonymous.get(f"/p/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in html and "manifest" not in html and "sw.js" not in html and "csrf" not in html.lower()
    assert bundles_in(html) == ["parents.css"]  # one stylesheet (app.css with the parents' own), built and hashed
    assert " style=" not in html  # the CSP forbids inline styles: the bars use width classes
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Set-Cookie" not in response.headers


def test_every_public_answer_has_the_privacy_headers(app, client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    signed_in("admin")
    token = _make_link(client, c.trial_id)
    for path in (f"/p/{token}", "/p/not-a-token", f"/p/{token}/extra", "/p/"):
        response = client.get(path)
        for header, value in PUBLIC_HEADERS.items():
            assert response.headers.get(header) == value, (path, header)


def test_unknown_expired_and_revoked_links_get_the_same_answer(app, client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    signed_in("admin")
    expired, revoked, working = (_make_link(client, c.trial_id, label) for label in ("Mum", "Dad", "Gran"))
    with app.app_context():
        db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(expired))).expires_at = (
            clock.now() - timedelta(seconds=1))
        db.session.commit()
    client.post(f"/trials/{c.trial_id}/parent-links/{_link(app, revoked).id}/revoke")
    client.post("/logout")
    answers = [client.get(f"/p/{t}") for t in (expired, revoked, "A" * 43, "short", f"{working}/x")]
    bodies = {r.get_data(as_text=True) for r in answers}
    assert [r.status_code for r in answers] == [404] * 5
    assert len(bodies) == 1 and NOT_VALID in bodies.pop()
    assert client.get(f"/p/{working}").status_code == 200
    assert _link(app, expired).last_seen_at is None  # a link that does not work is not marked as seen


def test_opening_the_page_records_when_it_was_last_seen(app, client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    signed_in("admin")
    token = _make_link(client, c.trial_id)
    assert _link(app, token).last_seen_at is None
    client.get(f"/p/{token}")
    seen = _link(app, token).last_seen_at
    assert seen is not None and clock.now() - seen < timedelta(minutes=1)
    assert "Last opened: never" not in client.get(f"/trials/{c.trial_id}").get_data(as_text=True)


def test_a_link_for_one_trial_never_shows_another(client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    a, b = child("Ada"), child("Bea", bare=True)
    signed_in("admin")
    token_a, token_b = _make_link(client, a.trial_id), _make_link(client, b.trial_id)
    page_a = client.get(f"/p/{token_a}").get_data(as_text=True)
    page_b = client.get(f"/p/{token_b}").get_data(as_text=True)
    assert "Ada's trial" in page_a and "Bea" not in page_a
    assert "Bea's trial" in page_b and "Ada" not in page_b
    assert "Nothing to show yet" in page_b and "50 micrograms at" not in page_b


def test_the_outcome_is_shown_when_the_trial_is_closed(app, client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    from server.trials.models import Trial

    c = child("Ada")
    with app.app_context():
        trial = db.session.get(Trial, c.trial_id)
        trial.outcome, trial.status, trial.outcome_reason = "candidate", "completed", SECRET_RATIONALE
        db.session.commit()
    signed_in("surgeon")
    token = _make_link(client, c.trial_id)
    html = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Finished" in html and "a baclofen pump could help Ada" in html and SECRET_RATIONALE not in html


def test_a_server_error_on_a_parent_page_never_logs_the_token(app, client, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    import server.parents.views as views

    def broken(token: str) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "open_link", broken)
    token = "A" * 43
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/p/{token}")
    assert response.status_code == 500
    assert "unhandled error on GET /p/[token]" in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(("method", "path", "code"), [
    ("GET", "/p/", 404),  # a link cut short in a text message
    ("POST", "/p/" + "A" * 43, 404),  # nothing under /p/ takes a post but a day's observation
    ("GET", "/p/" + "A" * 43, 500),  # a server fault (the lookup is made to fail below)
])
def test_errors_under_p_are_the_parents_own_pages(client, monkeypatch, method, path, code) -> None:  # type: ignore[no-untyped-def]
    import server.parents.views as views

    def broken(token: str) -> None:
        raise RuntimeError("database went away")

    if code == 500:
        monkeypatch.setattr(views, "open_link", broken)
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert 'class="parent"' in html and "<script" not in html and "sw.js" not in html
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
