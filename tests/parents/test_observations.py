"""A parent's daily observation on /p/<token>: saved and changed until the team decides the day, then kept;
every bound refused with a message beside the field and nothing written; CSRF without a session (a token tied
to the link); refused like an unknown link when expired, revoked, or aimed at another trial's day; 20 posts an
hour per link; audited with the link's id, never the token; shown to the team beside the day's decision."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.extensions import db
from server.parents.models import ParentLink, ParentObservation
from server.parents.services import hash_token
from server.trials.models import Trial
from server.web import clock
from server.web.ratelimit import RateLimitCounter
from tests.parents.conftest import decide, token_in

GOOD = {"comfort": "4", "sleep": "2", "care": "5", "movement": "1", "note": "Slept badly, but dressing was easy."}
NOT_VALID = "<h1>This link is not valid any more</h1>"


def _link_for(client, trial_id: int, label: str = "Mum") -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"/trials/{trial_id}/parent-links", data={"label": label, "expires_in_days": "14"})
    assert response.status_code == 201
    return token_in(response.get_data(as_text=True))


@pytest.fixture
def family(app, client, signed_in, child):  # type: ignore[no-untyped-def]
    """A child on day 1 today with nothing decided yet, a link for Mum (made by a surgeon, who then signs out:
    the parent's phone has no session), and day 1's id."""
    c = child("Ada", bare=True)
    signed_in("surgeon")
    token = _link_for(client, c.trial_id)
    client.post("/logout")
    with app.app_context():
        day_ids = {d.day_number: d.id for d in db.session.get(Trial, c.trial_id).days}
    return c, token, day_ids


def _form_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert m, "no form token on the page"
    return m.group(1)


def _post(client, token: str, day_id: int, data: dict[str, str], *, form_token: str | None = "from-page",  # type: ignore[no-untyped-def]
          query: str = "", headers: dict[str, str] | None = None):
    if form_token == "from-page":
        form_token = _form_token(client.get(f"/p/{token}").get_data(as_text=True))
    body = dict(data)
    if form_token is not None:
        body["csrf_token"] = form_token
    return client.post(f"/p/{token}/days/{day_id}/observation{query}", data=body, headers=headers or {},
                       csrf=False)


def _rows(app) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(observations, audit rows about observations)."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(ParentObservation)),
                db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.entity_type == "ParentObservation")))


def _observations(app) -> list[ParentObservation]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = list(db.session.scalars(select(ParentObservation).order_by(ParentObservation.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _day_error(html: str, day: int, field: str) -> str | None:
    m = re.search(rf'<p class="field-error" id="d{day}-{field}-error">([^<]*)</p>', html)
    return unescape(m.group(1)) if m else None


def _form_alert(html: str) -> str:
    m = re.search(r'<div class="alert alert-error" role="alert"><p>([^<]*)</p>', html)
    assert m, "no message for the whole form"
    return unescape(m.group(1))


# --- saved, changed, then kept --------------------------------------------------------------------------------

def test_a_parent_records_an_observation_and_changes_it_until_the_day_is_decided(app, client, family) -> None:  # type: ignore[no-untyped-def]
    c, token, days = family
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Tell the team how Ada was today" in page and 'name="comfort" value="5"' in page
    response = _post(client, token, days[1], GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/{token}?saved=1#day-1"
    [obs] = _observations(app)
    assert (obs.comfort, obs.sleep, obs.care, obs.movement, obs.note, obs.revision, obs.language) == (
        4, 2, 5, 1, GOOD["note"], 1, "en")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you. Your answers for day 1 are saved, and the team can read them." in page
    assert 'name="comfort" value="4" checked' in page and GOOD["note"] in page  # the form shows what was sent
    assert "Save my changes" in page

    assert _post(client, token, days[1], {"comfort": "5", "note": "Much better tonight."}).status_code == 303
    [obs] = _observations(app)
    assert (obs.comfort, obs.sleep, obs.note, obs.revision) == (5, None, "Much better tonight.", 2)

    with app.app_context():
        decide(c.trial_id, 1, c.surgeon, "escalate", "75")
    refused = _post(client, token, days[1], {"comfort": "1"}, form_token=_form_token(page))  # a page left open
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert _form_alert(html).startswith("The team has already made the decision for this day")
    assert [(o.comfort, o.revision) for o in _observations(app)] == [(5, 2)]  # kept as it was
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert "What you told the team" in page and "Much better tonight." in page and "Very comfortable" in page
    assert 'name="comfort"' not in page  # no form any more


def test_a_second_link_writes_its_own_observation_of_the_same_day(app, client, signed_in, family) -> None:  # type: ignore[no-untyped-def]
    c, mum, days = family
    signed_in("surgeon")
    dad = _link_for(client, c.trial_id, "Dad")
    client.post("/logout")
    assert _post(client, mum, days[1], {"sleep": "4"}).status_code == 303
    assert _post(client, dad, days[1], {"sleep": "2"}).status_code == 303
    assert sorted(o.sleep for o in _observations(app)) == [2, 4]
    assert "Tell the team how Ada was today" in client.get(f"/p/{dad}").get_data(as_text=True)


# --- bounds ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field", "message"), [
    ({"comfort": "0"}, "comfort", "Choose one of the five answers."),
    ({"sleep": "6"}, "sleep", "Choose one of the five answers."),
    ({"care": "-1"}, "care", "Choose one of the five answers."),
    ({"movement": "2147483648"}, "movement", "Choose one of the five answers."),
    ({"movement": "9" * 40}, "movement", "Choose one of the five answers."),
    ({"comfort": "abc"}, "comfort", "Choose one of the five answers."),
    ({"comfort": "NaN"}, "comfort", "Choose one of the five answers."),
    ({"comfort": "2.5"}, "comfort", "Choose one of the five answers."),
    ({"note": "x" * 1001}, "note", "Please keep your note to 1000 characters."),
    ({"note": "a\x00b"}, "note", None),  # refused as text the database cannot store (the shared form rule)
])
def test_every_bound_is_refused_beside_the_field_and_nothing_written(app, client, family, data, field, message) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    response = _post(client, token, days[1], {"sleep": "3", **data} if field != "sleep" else data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = _day_error(html, 1, field)
    assert shown is not None and (message is None or shown == message)
    assert 'aria-invalid="true"' in html or f'aria-describedby="d1-{field}-error"' in html
    assert _rows(app) == (0, 0)


def test_an_empty_form_asks_for_one_answer_and_writes_nothing(app, client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    response = _post(client, token, days[1], {"note": "   "})
    assert response.status_code == 422
    assert _form_alert(response.get_data(as_text=True)) == "Choose at least one answer, or write a note."
    assert _rows(app) == (0, 0)


def test_the_edges_are_accepted(app, client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    note = "é" * 1000
    assert _post(client, token, days[1], {"comfort": "1", "sleep": "5", "note": note}).status_code == 303
    [obs] = _observations(app)
    assert (obs.comfort, obs.sleep, obs.note) == (1, 5, note)


def test_what_was_typed_is_kept_when_the_form_is_refused(client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    html = _post(client, token, days[1], {"comfort": "3", "sleep": "9", "note": "Tired <b>today</b>"}
                 ).get_data(as_text=True)
    assert 'name="comfort" value="3" checked' in html
    assert "Tired &lt;b&gt;today&lt;/b&gt;</textarea>" in html  # kept, and escaped


@pytest.mark.parametrize("data", [
    {"comfort": 0}, {"comfort": 6}, {"sleep": True}, {"care": "3"}, {"movement": 2.0}, {"note": "x" * 1001},
    {"note": 5}, {"note": "\ud800"}, {},
])
def test_the_service_refuses_the_same_bounds_on_any_path(app, family, data) -> None:  # type: ignore[no-untyped-def]
    from server.parents.observations import ObservationError, record_observation
    from server.web import clock

    _, token, days = family
    with app.test_request_context("/p/x"):
        link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
        with pytest.raises(ObservationError):
            record_observation(link, days[1], data, language="en", today=clock.today())
        db.session.rollback()
    assert _rows(app) == (0, 0)


# --- which days, which links -----------------------------------------------------------------------------------

def test_a_parent_cannot_post_to_another_trials_day(app, client, signed_in, child, family) -> None:  # type: ignore[no-untyped-def]
    _, token, _ = family
    other = child("Bea", bare=True)
    with app.app_context():
        other_day = db.session.get(Trial, other.trial_id).days[0].id
    for day_id in (other_day, 2**31 - 1):
        response = _post(client, token, day_id, GOOD)
        assert response.status_code == 404 and NOT_VALID in response.get_data(as_text=True)
    assert _rows(app) == (0, 0)


def test_a_day_not_begun_is_refused(app, client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    page = client.get(f"/p/{token}").get_data(as_text=True)
    assert f"/days/{days[2]}/observation" not in page  # no form for tomorrow
    response = _post(client, token, days[2], GOOD)
    assert response.status_code == 422
    assert _form_alert(response.get_data(as_text=True)).startswith("This day has not started yet.")
    assert _rows(app) == (0, 0)


def test_a_closed_trial_takes_no_more_observations(app, client, family) -> None:  # type: ignore[no-untyped-def]
    c, token, days = family
    form_token = _form_token(client.get(f"/p/{token}").get_data(as_text=True))
    with app.app_context():
        trial = db.session.get(Trial, c.trial_id)
        trial.outcome, trial.status = "inconclusive", "completed"
        db.session.commit()
    assert _post(client, token, days[1], GOOD, form_token=form_token).status_code == 409
    assert _rows(app) == (0, 0)


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_expired_or_revoked_link_is_refused_like_an_unknown_one(app, client, family, how) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    form_token = _form_token(client.get(f"/p/{token}").get_data(as_text=True))  # the page was open on the phone
    with app.app_context():
        link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
        if how == "expired":
            link.expires_at = clock.now() - timedelta(seconds=1)
        else:
            link.revoked_at = clock.now()
        db.session.commit()
    refused = _post(client, token, days[1], GOOD, form_token=form_token)
    unknown = _post(client, "B" * 43, days[1], GOOD, form_token=form_token)
    assert refused.status_code == unknown.status_code == 404
    assert refused.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert NOT_VALID in refused.get_data(as_text=True)
    assert _rows(app) == (0, 0)


# --- CSRF without a session ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["none", "wrong", "another link's", "staff session's"])
def test_a_post_without_the_links_form_token_is_refused(app, client, signed_in, family, case) -> None:  # type: ignore[no-untyped-def]
    c, token, days = family
    if case == "another link's":
        signed_in("surgeon")
        other = _link_for(client, c.trial_id, "Dad")
        sent: str | None = _form_token(client.get(f"/p/{other}").get_data(as_text=True))
    elif case == "staff session's":
        signed_in("surgeon")
        sent = client.csrf_token()
    else:
        sent = {"none": None, "wrong": "0" * 64}[case]
    response = _post(client, token, days[1], GOOD, form_token=sent)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your answers were not sent" in html and "Nothing was saved." in html
    assert f'href="/p/{token}"' in html  # back to the page, to send them from there
    assert _rows(app) == (0, 0)


def test_the_parents_page_and_its_post_set_no_cookie(client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    for response in (client.get(f"/p/{token}"), _post(client, token, days[1], GOOD)):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"


# --- rate limit ------------------------------------------------------------------------------------------------

def test_twenty_posts_an_hour_per_link_then_refused_with_a_message_and_nothing_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, family) -> None:
    c, token, days = family
    form_token = _form_token(client.get(f"/p/{token}").get_data(as_text=True))
    statuses = [_post(client, token, days[1], {"comfort": str(1 + i % 5)} if i % 2 else {"comfort": "9"},
                      form_token=form_token).status_code for i in range(20)]
    assert statuses == [422, 303] * 10  # refused posts count too
    before = _observations(app)
    response = _post(client, token, days[1], {"comfort": "3", "note": "One too many."}, form_token=form_token)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "This link has sent many answers in the last hour. Nothing was saved this time." in html
    assert [(o.comfort, o.note, o.revision) for o in _observations(app)] == [
        (o.comfort, o.note, o.revision) for o in before]
    signed_in("surgeon")
    other = _link_for(client, c.trial_id, "Dad")  # another link has its own count
    client.post("/logout")
    assert _post(client, other, days[1], {"comfort": "3"}).status_code == 303
    with app.app_context():
        keys = list(db.session.scalars(select(RateLimitCounter.key)))
    assert keys and all(token not in k and other not in k for k in keys)  # counted by the token's hash
    assert any(hash_token(token) in k for k in keys)


def test_the_limit_is_read_from_the_settings(database_url) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, time
    from decimal import Decimal

    from server.admin.services import create_staff
    from server.parents.services import create_link
    from server.trials.services import create_patient, create_trial
    from server.web import clock
    from tests.conftest import app_with

    made = app_with(database_url, PARENT_POSTS_PER_HOUR=2)
    app = next(made)
    try:
        with app.app_context():
            patient = create_patient({"first_name": "Lim", "last_name": "It", "date_of_birth": date(2018, 1, 1),
                                      "mrn": "RL-1", "weight_kg": Decimal("20"), "gmfcs_level": 3,
                                      "diagnosis": "CP", "tone_type": "spastic"})
            trial = create_trial({"patient_id": patient.id, "start_date": clock.today(), "bed": "1",
                                  "catheter_placed_at": None, "small_child": False,
                                  "day1_dose_mcg": Decimal("50"), "dose_time": time(9, 0)}, created_by_id=None)
            surgeon = create_staff({"username": "limit.surgeon", "display_name": "S", "password": "long-enough-1",
                                    "roles": ["surgeon"]})
            new = create_link(trial.id, {"label": "Mum", "expires_in_days": 7}, author_id=surgeon.id)
            db.session.commit()
            token, day_id = new.token, trial.days[0].id
        client = app.test_client()
        assert [_post(client, token, day_id, {"comfort": "3"}).status_code for _ in range(3)] == [303, 303, 429]
    finally:
        next(made, None)


# --- audit -----------------------------------------------------------------------------------------------------

def test_each_change_is_audited_with_the_link_id_never_the_token(app, client, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    assert _post(client, token, days[1], GOOD).status_code == 303
    assert _post(client, token, days[1], {**GOOD, "comfort": "2"}).status_code == 303
    with app.app_context():
        link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "ParentObservation")
                                         .order_by(AuditEvent.id)))
        assert [e.action for e in events] == ["create", "update"]
        for event in events:
            assert (event.via, event.device_id, event.actor_id) == ("parent", f"parent-link:{link.id}", None)
        assert events[0].after["link_id"] == link.id and events[0].after["comfort"] == 4
        assert events[1].before == {"comfort": 4, "revision": 1, "updated_at": events[1].before["updated_at"]}
        everything = json.dumps([(e.device_id, e.before, e.after) for e in db.session.scalars(select(AuditEvent))])
        assert token not in everything and hash_token(token) not in everything


# --- the team's side -------------------------------------------------------------------------------------------

def test_the_team_sees_the_parents_words_beside_the_days_decision(app, client, signed_in, family) -> None:  # type: ignore[no-untyped-def]
    _, token, days = family
    assert _post(client, token, days[1], {**GOOD, "note": "She <i>smiled</i> at bath time."}).status_code == 303
    signed_in("surgeon")
    html = client.get(f"/days/{days[1]}/decision").get_data(as_text=True)
    block = html[html.index('id="parents-observations"'):]
    assert "The parents' observations (their words)" in block
    assert "From the parents' link “Mum”" in block
    for words in ("Comfortable", "Badly", "Much easier than usual", "Much harder than usual", "(4 of 5)"):
        assert words in block
    assert "She &lt;i&gt;smiled&lt;/i&gt; at bath time." in block  # their words, escaped
    other_day = client.get(f"/days/{days[2]}/decision").get_data(as_text=True)
    assert "No observation from the parents for this day yet." in other_day


def test_a_trial_summary_can_read_every_observation_by_day(app, client, family) -> None:  # type: ignore[no-untyped-def]
    from server.parents.observations import observations_for_trial

    c, token, days = family
    assert _post(client, token, days[1], {"sleep": "5"}).status_code == 303
    with app.test_request_context("/"):
        by_day = observations_for_trial(db.session.get(Trial, c.trial_id))
        assert list(by_day) == [days[1]]
        [view] = by_day[days[1]]
        assert (view.label, [(a.title, a.words) for a in view.answers]) == ("Mum", [("Sleep", "Very well")])
