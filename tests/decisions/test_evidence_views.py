# ruff: noqa: RUF001  (the app shows a real minus sign, a times sign and the GAS formula; the tests check them)
"""Candidacy evidence through the pages (issue 13, findings 5 and 6): the decision form's effect fields (errors
beside them, nothing written), the decision shown with its effect, and the outcome page's evidence by day with the
suggested starting pump dose, its rule, its source and its sign-off status, and the GAS formula."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.decisions.models import DayDecision
from server.extensions import db
from tests.conftest import field_error
from tests.decisions.conftest import START, day_id, give, three_days


@pytest.fixture
def trial(app: Flask, make_trial, team, clock) -> int:  # type: ignore[no-untyped-def]
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    return int(trial_id)


def _d1(app: Flask, trial_id: int) -> int:
    with app.app_context():
        return day_id(trial_id, 1)


def _form(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"effect": "good", "next_step": "repeat", "dose_mcg": "50", "planned_time": "09:30",
                            "rationale": "Tone clearly lower; sitting easier.", "team_present": ["surgeon", "pt"],
                            "base_revision": "0", "effect_onset_hours": "1", "effect_duration_hours": "5,5"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", html)))


def _rows(app: Flask) -> list[tuple[Any, Any]]:
    with app.app_context():
        return [(d.effect_onset_hours, d.effect_duration_hours) for d in db.session.scalars(select(DayDecision))]


def test_the_decision_form_has_labelled_effect_fields(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    page = client.get(f"/days/{_d1(app, trial)}/decision").get_data(as_text=True)
    assert '<legend>The effect of the 50 mcg dose</legend>' in page
    assert '<label for="effect_onset_hours">Effect began (hours after the dose)</label>' in page
    assert '<label for="effect_duration_hours">Effect lasted (hours)</label>' in page
    assert re.search(r'<input id="effect_duration_hours" name="effect_duration_hours" type="text" value=""'
                     r' aria-describedby="effect_duration_hours-hint" [^>]*inputmode="decimal"', page)
    assert "From 0.5 to 48 h, e.g. 6 or 5.5." in page


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(("field", "value"), [("effect_duration_hours", "60"), ("effect_duration_hours", "six"),
                                              ("effect_onset_hours", "13"), ("effect_onset_hours", "0.25")])
def test_hours_out_of_bounds_are_refused_beside_the_field_and_nothing_is_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, trial, field, value, htmx) -> None:
    signed_in("surgeon")
    response = client.post(f"/days/{_d1(app, trial)}/decision", data=_form(**{field: value}),
                           headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = field_error(page, field)
    assert message is not None and "decimal place" in message, page
    assert f'name="{field}" type="text" value="{value}"' in page  # what was typed is kept
    assert _rows(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DayDecision)) == 0


def test_a_saved_effect_shows_with_the_decision_and_in_the_form_again(app, client, signed_in, trial) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    signed_in("surgeon")
    d1 = _d1(app, trial)
    assert client.post(f"/days/{d1}/decision", data=_form()).status_code == 303
    assert _rows(app) == [(Decimal("1.0"), Decimal("5.5"))]
    decisions = _text(client.get(f"/trials/{trial}/decisions").get_data(as_text=True))
    assert "Effect: began 1 h after the dose, lasted 5.5 h" in decisions
    again = client.get(f"/days/{d1}/decision").get_data(as_text=True)
    assert 'name="effect_onset_hours" type="text" value="1"' in again
    assert 'name="effect_duration_hours" type="text" value="5.5"' in again


def _cells(page: str, header: str) -> list[str]:
    """The evidence table's cells (one per day) in the row named `header`."""
    row = re.search(rf'<tr><th scope="row">{re.escape(header)}</th>(.*?)</tr>', page, re.S)
    assert row is not None, header
    return [_text(c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


@pytest.mark.parametrize("role", ["pt", "nurse", "surgeon", "admin"])
def test_the_outcome_page_shows_the_evidence_by_day_and_the_suggested_pump_dose(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, team, clock, role) -> None:
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
        three_days(trial_id, team)
    signed_in(role)
    page = html_lib.unescape(client.get(f"/trials/{trial_id}/outcome").get_data(as_text=True))
    assert _cells(page, "Dose given") == ["50 mcg at 09:00", "75 mcg at 09:00", "75 mcg at 09:00"]
    assert _cells(page, "Responder") == ["No", "Yes", "Yes"]
    assert _cells(page, "Mean MAS change") == ["0 2 → 2", "−1 2 → 1", "−1 2 → 1"]
    assert _cells(page, "Effect began") == ["—", "1 h after the dose", "0.5 h after the dose"]
    assert _cells(page, "Effect lasted") == ["—", "6 h", "5.5 h"]
    assert _cells(page, "GAS T-score") == ["38.0", "58.0", "62.0"]
    assert _cells(page, "Adverse effects charted") == ["None charted", "Drowsiness 11:30", "Nausea or vomiting 10:00"]
    none, escalation, none_3 = _cells(page, "Escalations")
    assert (none, none_3) == ("None", "None")
    assert re.fullmatch(r"Drowsiness charted\. 11:30; acted on 11:35 by \S.*: Surgeon reviewed; observations every "
                        r"15 minutes\.", escalation), escalation
    text = _text(page)
    assert "150 mcg per 24 h if the team finds" in text
    assert ("From 75 mcg, the lowest bolus that met the tone criterion (days 2, 3). Its effect lasted 6 h at the "
            "longest: not more than 8 h, so 2 × the bolus per 24 h.") in text
    assert ("Rule: Twice the bolus dose per 24 h, or the bolus dose itself per 24 h when its effect lasted more than "
            "8 h; the basis is the lowest bolus that met the tone criterion") in text
    rule = page[page.index('<strong>Rule:</strong>'):]
    rule = rule[:rule.index("</p>")]
    for ref in ('<a href="/protocol#ref-lioresal_pi">Lioresal Intrathecal prescribing information</a>',
                '<a href="/protocol#ref-cheo_itb">CHEO intrathecal baclofen monograph</a>',
                "Hospital sign-off: pending"):
        assert ref in rule, rule
    assert "A suggestion only: the team decides and confirms the starting dose and its titration." in text
    assert "GAS T-score: T = 50 + 10·Σ(wᵢxᵢ) / √((1−ρ)Σwᵢ² + ρ(Σwᵢ)²), ρ = 0.3" in text
    assert '<a href="/protocol#ref-kiresuk1968">Kiresuk & Sherman 1968</a>' in page
    assert '<a href="/protocol#ref-gilmartin2000">Gilmartin et al. 2000</a>' in page
    assert text.count("Hospital sign-off: pending") >= 3  # responder, GAS, pump rule


def test_no_pump_dose_once_the_outcome_is_not_a_candidate(app, client, signed_in, make_trial, team, clock) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
        three_days(trial_id, team)
    signed_in("surgeon")
    assert client.post(f"/trials/{trial_id}/outcome", data={
        "outcome": "not_candidate", "outcome_reason": "The family decided against a pump for now.",
        "base_revision": "1"}).status_code == 303
    text = _text(client.get(f"/trials/{trial_id}/outcome").get_data(as_text=True))
    assert "Not applicable: the team's outcome is “Not a candidate”." in text
    assert "per 24 h if the team finds" not in text


def test_without_an_effective_dose_the_page_says_why_there_is_no_suggestion(  # type: ignore[no-untyped-def]
        app, client, signed_in, trial) -> None:
    signed_in("surgeon")
    text = _text(client.get(f"/trials/{trial}/outcome").get_data(as_text=True))
    assert "No suggestion: no test dose met the tone criterion, so there is no effective bolus to start from." in text
    assert _cells(client.get(f"/trials/{trial}/outcome").get_data(as_text=True), "Responder") == [
        "No assessment", "No assessment", "No assessment"]


def test_an_effect_without_its_duration_is_shown_as_not_recorded_and_missing(  # type: ignore[no-untyped-def]
        app, client, signed_in, trial) -> None:
    signed_in("surgeon")
    assert client.post(f"/days/{_d1(app, trial)}/decision", data=_form(
        next_step="end", dose_mcg=None, planned_time=None, effect_onset_hours=None,
        effect_duration_hours=None)).status_code == 303
    page = client.get(f"/trials/{trial}/outcome").get_data(as_text=True)
    assert _cells(page, "Effect lasted") == ["not recorded", "—", "—"]
    assert "How long the effect lasted is not recorded: day 1." in _text(page)
