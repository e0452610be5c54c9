"""The decision pages through the test client: who may use them, a saved decision and what it plans, refusals
beside the fields (nothing written), stale revisions, the candidacy outcome closing the trial, the audit trail,
and malformed input that must never be a server error."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.auth.models import ROLES
from server.decisions.models import DayDecision
from server.dosing.models import DosePlanChange
from server.extensions import db
from server.trials.models import Trial, TrialDay
from tests.conftest import field_error
from tests.decisions.conftest import day_id, give

# London is on GMT from 2 to 4 Nov 2026, so hospital times equal UTC and every interval is exact.
START = date(2026, 11, 2)
RATIONALE = "Little change in tone at 50 mcg; no drowsiness."


# --- arranging and reading -------------------------------------------------------------------------------------------

@pytest.fixture
def trial(app: Flask, make_trial, team) -> int:  # type: ignore[no-untyped-def]
    """A 3-day trial from 2 Nov 2026 whose day-1 dose (50 mcg at 09:00) has been given."""
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    return int(trial_id)


def _day_id(app: Flask, trial_id: int, n: int) -> int:
    with app.app_context():
        return day_id(trial_id, n)


def _form(**over: Any) -> dict[str, Any]:
    """A valid decision form as the browser sends it: escalate to 75 mcg at 09:30 tomorrow."""
    data: dict[str, Any] = {"effect": "inadequate", "next_step": "escalate", "dose_mcg": "75",
                            "planned_time": "09:30", "rationale": RATIONALE, "team_present": ["surgeon", "pt"],
                            "parents_present": "yes", "parents_view": "We saw no difference.", "base_revision": "0"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _outcome_form(**over: Any) -> dict[str, Any]:
    # The test trials lack some evidence (e.g. post-dose assessments): the outcome guard wants the confirmation.
    data: dict[str, Any] = {"outcome": "candidate", "outcome_reason": "Clear fall in tone at 75 mcg; family agree.",
                            "confirm_missing": "yes", "base_revision": "1"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _decisions(app: Flask) -> list[tuple[int, int, str, str, str]]:
    """(day id, revision, effect, next step, rationale) of every decision row."""
    with app.app_context():
        return [(d.trial_day_id, d.revision, d.effect, d.next_step, d.rationale)
                for d in db.session.scalars(select(DayDecision).order_by(DayDecision.id))]


def _plan(app: Flask, trial_id: int, n: int) -> tuple[Any, ...]:
    """A day's plan: (dose, time, revision, status, status reason)."""
    with app.app_context():
        day = db.session.get(TrialDay, day_id(trial_id, n))
        assert day is not None
        return day.planned_dose_mcg, day.planned_at, day.revision, day.dose_status, day.dose_status_reason


def _plan_changes(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(DosePlanChange)) or 0)


def _trial_state(app: Flask, trial_id: int) -> tuple[str, str | None, str | None, int]:
    with app.app_context():
        t = db.session.get(Trial, trial_id)
        assert t is not None
        return t.status, t.outcome, t.outcome_reason, t.revision


def _text(html: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def _textarea(html: str, name: str) -> str | None:
    m = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>([^<]*)</textarea>', html)
    return html_lib.unescape(m.group(1)) if m else None


def _hidden_revision(html: str) -> str | None:
    m = re.search(r'<input type="hidden" name="base_revision" value="([^"]*)">', html)
    return m.group(1) if m else None


def _messages(html: str) -> list[str]:
    """The alerts on a page (errors and warnings), for assertion messages."""
    return [_text(m) for m in re.findall(r'<(?:div|p) class="alert[^"]*"[^>]*>(.*?)</(?:div|p)>', html, re.S)]


def _second_surgeon(app: Flask, make_user):  # type: ignore[no-untyped-def]
    other = app.test_client()
    make_user("surgeon", username="second-surgeon")
    assert other.login("second-surgeon").status_code == 303  # type: ignore[attr-defined]
    return other


# --- who may use the pages -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_reads_and_only_a_surgeon_saves(app, client, signed_in, trial, role) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    signed_in(role)
    for url in (f"/trials/{trial}/decisions", f"/days/{d1}/decision", f"/trials/{trial}/outcome"):
        assert client.get(url).status_code == 200, (role, url)
    decision = client.post(f"/days/{d1}/decision", data=_form(next_step="end"))
    if role == "surgeon":
        assert decision.status_code == 303
        assert client.post(f"/trials/{trial}/outcome", data=_outcome_form()).status_code == 303
        assert _trial_state(app, trial)[:2] == ("completed", "candidate")
    else:
        assert decision.status_code == 403
        assert client.post(f"/trials/{trial}/outcome", data=_outcome_form()).status_code == 403
        assert _decisions(app) == []
        assert _trial_state(app, trial) == ("active", None, None, 1)
        assert _plan(app, trial, 2)[3] == "planned"


@pytest.mark.parametrize("role", ["pt", "nurse", "admin"])
def test_other_roles_see_no_decision_form(app, client, signed_in, trial, role) -> None:  # type: ignore[no-untyped-def]
    signed_in(role)
    day_page = client.get(f"/days/{_day_id(app, trial, 1)}/decision").get_data(as_text=True)
    assert 'id="decision-form"' not in day_page and "Save the decision" not in day_page
    outcome_page = client.get(f"/trials/{trial}/outcome").get_data(as_text=True)
    assert 'id="outcome-form"' not in outcome_page


def test_anonymous_is_sent_to_sign_in(app, client, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    for method, url in (("GET", f"/trials/{trial}/decisions"), ("GET", f"/days/{d1}/decision"),
                        ("POST", f"/days/{d1}/decision"), ("GET", f"/trials/{trial}/outcome"),
                        ("POST", f"/trials/{trial}/outcome")):
        response = client.open(url, method=method, data=_form() if method == "POST" else None)
        assert response.status_code == 303, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)
    assert _decisions(app) == []


# --- a decision that plans tomorrow --------------------------------------------------------------------------------

def test_escalate_sets_the_day_2_plan_and_shows_on_the_decisions_page(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    page = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert 'id="decision-form"' in page and _hidden_revision(page) == "0"
    response = client.post(f"/days/{d1}/decision", data=_form())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/trials/{trial}/decisions#day-1"

    assert _plan(app, trial, 2) == (75, datetime(2026, 11, 3, 9, 30, tzinfo=UTC), 2, "planned", None)
    assert _decisions(app) == [(d1, 1, "inadequate", "escalate", RATIONALE)]
    dosing = _text(client.get(f"/trials/{trial}/dosing").get_data(as_text=True))
    assert "Plan (revision 2): 75 mcg at 09:30" in dosing

    decisions = _text(client.get(f"/trials/{trial}/decisions").get_data(as_text=True))
    assert ("Decision: Inadequate: too little change in tone → Escalate: a higher dose tomorrow (75 mcg)"
            in decisions)
    assert RATIONALE in decisions
    assert "Took part: Neurosurgeon, Physical therapist, parents · revision 1" in decisions
    assert "Parents said: “We saw no difference.”" in decisions
    assert "Revise the decision for day 1" in decisions

    # Opening it again offers the saved decision at revision 1.
    again = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert "Revise the team's decision (revision 1)" in html_lib.unescape(again)
    assert _hidden_revision(again) == "1" and _textarea(again, "rationale") == RATIONALE


def test_an_htmx_save_answers_with_hx_redirect(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    response = client.post(f"/days/{_day_id(app, trial, 1)}/decision", data=_form(), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/trials/{trial}/decisions#day-1"
    assert "HX-Request" in response.headers["Vary"]
    assert _plan(app, trial, 2)[0] == 75


def test_an_htmx_refusal_answers_with_the_form_fragment(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    response = client.post(f"/days/{_day_id(app, trial, 1)}/decision", data=_form(effect=None),
                           headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html and '<form id="decision-form"' in html
    assert field_error(html, "effect") == "Choose how the dose worked."


def test_the_suggested_time_for_tomorrow_is_24_hours_after_a_late_dose(app, client, signed_in, make_trial,  # type: ignore[no-untyped-def]
                                                                        team) -> None:
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"], at=time(14, 5))
    d1 = _day_id(app, trial_id, 1)
    signed_in("surgeon")
    page = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert 'id="planned_time" name="planned_time" type="time" value="14:15"' in page
    response = client.post(f"/days/{d1}/decision", data=_form(planned_time="14:15"))
    assert response.status_code == 303


@pytest.mark.parametrize(("given", "preplanned"), [
    pytest.param(time(14, 0), time(9, 0), id="day-2-already-planned-at-09:00"),
    pytest.param(time(23, 50), None, id="dose-given-just-before-midnight"),
])
def test_the_suggested_time_for_tomorrow_is_accepted_as_it_is(app, client, signed_in, make_trial, team,  # type: ignore[no-untyped-def]
                                                              given, preplanned) -> None:
    """Whatever the form offers for tomorrow's time, saving it unchanged must not be refused for the interval."""
    from decimal import Decimal

    from server.dosing.services import set_plan

    trial_id = make_trial(start_date=START)
    with app.app_context():
        if preplanned is not None:  # the surgeon planned day 2 before day 1's dose went in late
            set_plan(day_id(trial_id, 2), {"dose_mcg": Decimal("50"), "planned_time": preplanned,
                                           "base_revision": 1}, author_id=team["surgeon"])
            db.session.commit()
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"], at=given)
    d1 = _day_id(app, trial_id, 1)
    signed_in("surgeon")
    page = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    suggested = re.search(r'id="planned_time" name="planned_time" type="time" value="([^"]*)"', page)
    assert suggested is not None
    response = client.post(f"/days/{d1}/decision", data=_form(planned_time=suggested.group(1)))
    html = response.get_data(as_text=True)
    assert response.status_code == 303, (suggested.group(1), field_error(html, "planned_time"))


def test_a_held_dose_can_be_judged_and_stopping_cancels_the_later_days(app, client, signed_in, make_trial,  # type: ignore[no-untyped-def]
                                                                        team) -> None:
    from server.dosing.services import hold_dose

    trial_id = make_trial(start_date=START)
    with app.app_context():
        hold_dose(day_id(trial_id, 1), {"action": "cancel", "reason": "Febrile overnight.", "base_revision": 1},
                  author_id=team["surgeon"])
        db.session.commit()
    d1 = _day_id(app, trial_id, 1)
    signed_in("surgeon")
    assert 'id="decision-form"' in client.get(f"/days/{d1}/decision").get_data(as_text=True)
    response = client.post(f"/days/{d1}/decision", data=_form(effect="not_judged", next_step="stop",
                                                               dose_mcg=None, planned_time=None))
    assert response.status_code == 303
    for n in (2, 3):
        assert _plan(app, trial_id, n)[3:] == ("cancelled", "Team decision on day 1: trial stopped early.")


# --- refusals ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("over", "field", "message"), [
    pytest.param({"effect": None}, "effect", "Choose how the dose worked.", id="missing-effect"),
    pytest.param({"next_step": "double"}, "next_step", "Choose the next step.", id="unknown-next-step"),
    pytest.param({"team_present": None}, "team_present", "Tick who took part in the decision.", id="no-team"),
    pytest.param({"team_present": ["surgeon", "chaplain"]}, "team_present", "Choose from the listed roles.",
                 id="unknown-role"),
    pytest.param({"dose_mcg": "25"}, "dose_mcg", "To escalate, choose a dose above today's 50 mcg.",
                 id="escalate-lower"),
    pytest.param({"dose_mcg": "50"}, "dose_mcg", "To escalate, choose a dose above today's 50 mcg.",
                 id="escalate-same"),
    pytest.param({"next_step": "repeat", "dose_mcg": "75"}, "dose_mcg",
                 "To repeat, choose today's dose again (50 mcg).", id="repeat-other-dose"),
    pytest.param({"next_step": "de_escalate", "dose_mcg": "75"}, "dose_mcg",
                 "To de-escalate, choose a dose below today's 50 mcg.", id="de-escalate-higher"),
    pytest.param({"dose_mcg": None}, "dose_mcg", "Choose tomorrow's dose.", id="escalate-without-dose"),
    pytest.param({"planned_time": None}, "planned_time", "Enter the time of tomorrow's dose.", id="no-time"),
    pytest.param({"planned_time": "08:00"}, "planned_time",
                 "Only 23 h from the day-1 bolus (Mon 2 Nov 09:00): the minimum interval between boluses is 24 h.",
                 id="under-24-hours"),
    pytest.param({"dose_mcg": "other", "other_dose_mcg": "150"}, "override_reason",
                 "Give the reason for going above 100 mcg.", id="above-ceiling-without-reason"),
    pytest.param({"rationale": "x" * 2001}, "rationale", "Keep it to 2000 characters.", id="rationale-too-long"),
    pytest.param({"rationale": "   "}, "rationale", "Say why: the team's reasons, in a sentence or two.",
                 id="rationale-blank"),
])
def test_a_refused_decision_is_shown_beside_the_field_and_writes_nothing(app, client, signed_in, trial,  # type: ignore[no-untyped-def]
                                                                         over, field, message) -> None:
    d1 = _day_id(app, trial, 1)
    plan_before, changes_before = _plan(app, trial, 2), _plan_changes(app)
    signed_in("surgeon")
    typed = _form(**over)
    response = client.post(f"/days/{d1}/decision", data=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, field) == message
    assert "Please correct the fields marked below." in html
    # What the surgeon typed is still there.
    assert _textarea(html, "rationale") == typed["rationale"]
    assert _textarea(html, "parents_view") == "We saw no difference."
    if "effect" in typed:
        assert f'name="effect" value="{typed["effect"]}" checked' in html
    assert 'name="parents_present" value="yes" checked' in html
    # Nothing was written: no decision, tomorrow's plan untouched, no plan history.
    assert _decisions(app) == []
    assert _plan(app, trial, 2) == plan_before
    assert _plan_changes(app) == changes_before


def test_escalating_on_the_last_day_is_refused(app, client, signed_in, trial, team) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        give(trial, 2, nurse=team["nurse"], surgeon=team["surgeon"], mcg="75")
        give(trial, 3, nurse=team["nurse"], surgeon=team["surgeon"], mcg="75")
    d3 = _day_id(app, trial, 3)
    plans = [_plan(app, trial, n) for n in (1, 2, 3)]
    signed_in("surgeon")
    page = client.get(f"/days/{d3}/decision").get_data(as_text=True)
    assert "Day 3 is the last trial day" in page
    assert 'value="escalate"' not in page and 'name="dose_mcg"' not in page
    response = client.post(f"/days/{d3}/decision", data=_form(dose_mcg="100", rationale="Try a higher dose."))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "next_step") == ("Day 3 is the last trial day: choose “No more test doses” or “Stop "
                                              "the trial early”, then record the candidacy outcome.")
    assert _textarea(html, "rationale") == "Try a higher dose."
    assert _decisions(app) == []
    assert [_plan(app, trial, n) for n in (1, 2, 3)] == plans
    # Ending the test doses is what the last day allows.
    assert client.post(f"/days/{d3}/decision", data=_form(next_step="end", dose_mcg=None,
                                                          planned_time=None)).status_code == 303


def test_no_decision_before_the_dose_is_recorded(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial(start_date=START)
    d1 = _day_id(app, trial_id, 1)
    signed_in("surgeon")
    page = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert "Record the day-1 dose (or hold or cancel it) first: the decision judges the dose." in page
    assert 'id="decision-form"' not in page
    response = client.post(f"/days/{d1}/decision", data=_form(next_step="end", dose_mcg=None, planned_time=None))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("No dose is recorded for day 1 yet: record it (or hold or cancel it) before the team's decision."
            in html_lib.unescape(html)), _messages(html)
    assert _decisions(app) == []
    assert [_plan(app, trial_id, n)[3] for n in (2, 3)] == ["planned", "planned"]


def test_a_stale_revision_is_refused_and_keeps_what_the_second_surgeon_typed(app, client, signed_in, make_user,  # type: ignore[no-untyped-def]
                                                                            trial) -> None:
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    assert client.post(f"/days/{d1}/decision", data=_form()).status_code == 303
    other = _second_surgeon(app, make_user)
    # Both surgeons open the decision at revision 1.
    assert _hidden_revision(client.get(f"/days/{d1}/decision").get_data(as_text=True)) == "1"
    assert _hidden_revision(other.get(f"/days/{d1}/decision").get_data(as_text=True)) == "1"

    first = client.post(f"/days/{d1}/decision", data=_form(rationale="First: tone barely changed.",
                                                           base_revision="1"))
    assert first.status_code == 303
    stale = other.post(f"/days/{d1}/decision", data=_form(rationale="Second: no change at all.",
                                                          base_revision="1"))
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert ("Someone else saved this decision (now revision 2) after you opened it (revision 1). Nothing was "
            "changed" in _text(html))
    assert _textarea(html, "rationale") == "Second: no change at all."
    assert _hidden_revision(html) == "2"  # saving again is a deliberate second step
    assert _decisions(app) == [(d1, 2, "inadequate", "escalate", "First: tone barely changed.")]


def test_a_new_decision_over_an_existing_one_is_a_conflict(app, client, signed_in, make_user, trial) -> None:  # type: ignore[no-untyped-def]
    """Two surgeons both open the empty form (revision 0): the second save must not overwrite the first."""
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    other = _second_surgeon(app, make_user)
    assert client.post(f"/days/{d1}/decision", data=_form()).status_code == 303
    stale = other.post(f"/days/{d1}/decision", data=_form(next_step="end", dose_mcg=None, planned_time=None,
                                                          rationale="End here."))
    assert stale.status_code == 409
    assert _textarea(stale.get_data(as_text=True), "rationale") == "End here."
    assert _decisions(app) == [(d1, 1, "inadequate", "escalate", RATIONALE)]
    assert _plan(app, trial, 3)[3] == "planned"


def test_a_decision_can_be_revised_after_the_next_dose_was_given(app, client, signed_in, trial, team) -> None:  # type: ignore[no-untyped-def]
    """Day 1 escalated to 75 mcg and day 2's 75 mcg went in at 09:30; the surgeon then corrects the day-1
    rationale (same step, same dose, same time). The trial page offers "Revise the decision" for day 1, so the
    correction must be saved, not refused because day 2's plan can no longer change."""
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    assert client.post(f"/days/{d1}/decision", data=_form()).status_code == 303
    with app.app_context():
        give(trial, 2, nurse=team["nurse"], surgeon=team["surgeon"], mcg="75", at=time(9, 30))
    assert "Revise the decision for day 1" in _text(client.get(f"/trials/{trial}/decisions").get_data(as_text=True))
    page = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert _hidden_revision(page) == "1"
    response = client.post(f"/days/{d1}/decision", data=_form(rationale="Little change at 50 mcg (corrected).",
                                                               base_revision="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 303, _messages(html)
    assert _decisions(app) == [(d1, 2, "inadequate", "escalate", "Little change at 50 mcg (corrected).")]


# --- the candidacy outcome ------------------------------------------------------------------------------------------

def test_outcome_closes_the_trial_and_is_shown(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    assert client.post(f"/days/{d1}/decision", data=_form(effect="good", next_step="end", dose_mcg=None,
                                                          planned_time=None)).status_code == 303
    for n in (2, 3):
        assert _plan(app, trial, n)[3:] == ("cancelled", "Team decision on day 1: no more test doses.")

    # Without reasons: refused beside the field, the trial stays open.
    page = client.get(f"/trials/{trial}/outcome").get_data(as_text=True)
    assert _hidden_revision(page) == "1" and "Save the outcome and close the trial" in page
    refused = client.post(f"/trials/{trial}/outcome", data=_outcome_form(outcome_reason=None))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert field_error(html, "outcome_reason") == "Give the team's reasons."
    assert 'name="outcome" value="candidate" checked' in html
    assert _trial_state(app, trial) == ("active", None, None, 1)

    response = client.post(f"/trials/{trial}/outcome", data=_outcome_form())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/trials/{trial}/decisions#outcome"
    assert _trial_state(app, trial) == ("completed", "candidate", "Clear fall in tone at 75 mcg; family agree.", 2)
    for n in (2, 3):
        assert _plan(app, trial, n)[3] == "cancelled"

    detail = _text(client.get(f"/trials/{trial}").get_data(as_text=True))
    assert "Status Completed" in detail and "Outcome Candidate for a pump" in detail
    decisions = _text(client.get(f"/trials/{trial}/decisions").get_data(as_text=True))
    assert "Completed ·" in decisions
    assert "Candidacy outcome Candidate for a pump Clear fall in tone at 75 mcg; family agree." in decisions
    assert "Record the decision" not in decisions and "Revise the decision" not in decisions

    # A colleague's save from the page opened before: refused, nothing changes.
    stale = client.post(f"/trials/{trial}/outcome", data=_outcome_form(outcome="inconclusive",
                                                                       outcome_reason="Unsure."))
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Someone else saved this outcome (now revision 2) after you opened it (revision 1)" in _text(html)
    assert _textarea(html, "outcome_reason") == "Unsure." and _hidden_revision(html) == "2"
    assert _trial_state(app, trial) == ("completed", "candidate", "Clear fall in tone at 75 mcg; family agree.", 2)


def test_outcome_without_a_day_decision_cancels_the_doses_still_planned(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    page = _text(client.get(f"/trials/{trial}/outcome").get_data(as_text=True))
    assert "Saving closes the trial and cancels the later trial days: day 2" in page
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form(outcome="not_candidate")).status_code == 303
    assert _trial_state(app, trial)[:2] == ("completed", "not_candidate")
    for n in (2, 3):
        assert _plan(app, trial, n)[3:] == ("cancelled", "Trial closed: the candidacy outcome was recorded.")


def test_no_day_decision_once_the_trial_is_closed(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form()).status_code == 303
    response = client.post(f"/days/{d1}/decision", data=_form(next_step="end", dose_mcg=None, planned_time=None))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This trial is completed: its day decisions can no longer change." in html, _messages(html)
    assert _decisions(app) == []


def test_a_stop_decision_then_the_outcome_closes_the_trial_as_stopped(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    signed_in("surgeon")
    stop = _form(effect="over_response", next_step="stop", dose_mcg=None, planned_time=None, rationale="Lost standing.")
    assert client.post(f"/days/{d1}/decision", data=stop).status_code == 303
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form(
        outcome="not_candidate", outcome_reason="Over-response at the lowest dose tried.")).status_code == 303
    assert _trial_state(app, trial)[:2] == ("stopped", "not_candidate")
    assert "Stopped early" in _text(client.get(f"/trials/{trial}/decisions").get_data(as_text=True))


def test_the_outcome_can_be_revised_after_the_trial_closed(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form(outcome="inconclusive")).status_code == 303
    page = client.get(f"/trials/{trial}/outcome").get_data(as_text=True)
    assert _hidden_revision(page) == "2" and "Save the outcome</button>" in page
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form(base_revision="2")).status_code == 303
    assert _trial_state(app, trial) == ("completed", "candidate", "Clear fall in tone at 75 mcg; family agree.", 3)


# --- the audit trail -----------------------------------------------------------------------------------------------

def test_decision_and_outcome_are_audited_with_the_surgeon_as_actor(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    d1 = _day_id(app, trial, 1)
    surgeon = signed_in("surgeon")
    assert client.post(f"/days/{d1}/decision", data=_form()).status_code == 303
    assert client.post(f"/trials/{trial}/outcome", data=_outcome_form()).status_code == 303
    with app.app_context():
        decision_id = db.session.scalar(select(DayDecision.id))
        created = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "DayDecision", AuditEvent.entity_id == str(decision_id))).all()
        assert [(e.action, e.actor_id, e.via) for e in created] == [("create", surgeon, "web")]
        assert created[0].after["rationale"] == RATIONALE and created[0].after["next_dose_mcg"] == "75"
        closed = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "Trial", AuditEvent.entity_id == str(trial),
            AuditEvent.action == "update")).all()
        assert [(e.actor_id, e.via) for e in closed] == [(surgeon, "web")]
        assert closed[0].after["outcome"] == "candidate" and closed[0].after["status"] == "completed"
        assert closed[0].before["status"] == "active"
        replanned = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "TrialDay", AuditEvent.entity_id == str(day_id(trial, 2)),
            AuditEvent.action == "update")).all()
        assert replanned and all(e.actor_id == surgeon for e in replanned)


# --- malformed input -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("over", "field", "message"), [
    pytest.param({"dose_mcg": "NaN"}, "dose_mcg", "Choose one of the listed doses.", id="nan-dose"),
    pytest.param({"dose_mcg": "1e999"}, "dose_mcg", "Choose one of the listed doses.", id="huge-dose"),
    pytest.param({"dose_mcg": "other", "other_dose_mcg": "Infinity"}, "other_dose_mcg",
                 "Enter the dose as a number of mcg.", id="infinite-other-dose"),
    pytest.param({"planned_time": "25:99"}, "planned_time", "Enter a time as HH:MM.", id="impossible-time"),
    pytest.param({"parents_present": "maybe"}, "parents_present", "Tick the box if the parents took part.",
                 id="odd-checkbox"),
    pytest.param({"parents_view": "y" * 2001}, "parents_view", "Keep it to 2000 characters.", id="long-view"),
])
def test_malformed_decision_input_is_refused_beside_the_field(app, client, signed_in, trial,  # type: ignore[no-untyped-def]
                                                              over, field, message) -> None:
    signed_in("surgeon")
    response = client.post(f"/days/{_day_id(app, trial, 1)}/decision", data=_form(**over))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert _decisions(app) == [] and _plan(app, trial, 2)[2] == 1


BAD_REVISIONS = [pytest.param({"base_revision": "abc"}, id="non-numeric"),
                 pytest.param({"base_revision": str(2**40)}, id="enormous"),
                 pytest.param({"base_revision": "-1"}, id="negative"),
                 pytest.param({"base_revision": None}, id="missing")]


@pytest.mark.parametrize("over", BAD_REVISIONS)
def test_a_malformed_revision_is_refused_not_a_server_error(app, client, signed_in, trial, over) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    response = client.post(f"/days/{_day_id(app, trial, 1)}/decision", data=_form(**over))
    assert response.status_code == 422
    assert _decisions(app) == [] and _plan(app, trial, 2)[2] == 1


@pytest.mark.parametrize("over", BAD_REVISIONS)
def test_a_malformed_revision_tells_the_surgeon_to_reload(app, client, signed_in, trial, over) -> None:  # type: ignore[no-untyped-def]
    """The schema's message for a bad hidden revision ("Reload the page...") must reach the page: a field-less
    "Please correct the fields marked below." leaves the surgeon nothing to correct."""
    signed_in("surgeon")
    html = client.post(f"/days/{_day_id(app, trial, 1)}/decision", data=_form(**over)).get_data(as_text=True)
    assert "Reload the page" in html


@pytest.mark.parametrize("over", [{"base_revision": "abc"}, {"base_revision": str(2**40)}, {"outcome": "maybe"},
                                  {"outcome_reason": "z" * 2001}])
def test_malformed_outcome_input_is_refused_not_a_server_error(app, client, signed_in, trial, over) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    response = client.post(f"/trials/{trial}/outcome", data=_outcome_form(**over))
    assert response.status_code == 422
    assert _trial_state(app, trial) == ("active", None, None, 1)


def test_unknown_days_and_trials_are_not_found(client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    for unknown in (999_999, 2**40):
        assert client.get(f"/days/{unknown}/decision").status_code == 404
        assert client.post(f"/days/{unknown}/decision", data=_form()).status_code == 404
        assert client.get(f"/trials/{unknown}/decisions").status_code == 404
        assert client.get(f"/trials/{unknown}/outcome").status_code == 404
        assert client.post(f"/trials/{unknown}/outcome", data=_outcome_form()).status_code == 404
