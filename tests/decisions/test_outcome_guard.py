"""The outcome guard (issue 10, finding 5): recording (or revising) the candidacy outcome shows the evidence that is
missing (days without a dose given, without a post-dose assessment, without a decision) and, when any is missing,
needs an explicit confirmation and a reason of at least a sentence (20 characters and 4 words)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.decisions.services import DecisionConflict, DecisionError, outcome_evidence, record_decision, record_outcome
from server.extensions import db
from server.trials.models import Trial
from tests.conftest import field_error
from tests.decisions.conftest import day_id, decision, give

START = date(2026, 11, 2)
SENTENCE = "Tone fell clearly at 50 mcg; the family want to go ahead."


def _assess(trial_id: int, number: int, pt: int) -> None:
    from server.assessments.services import record_assessment
    from tests.assessments.conftest import form, loaded

    for phase, grade, hour in (("baseline", "2", 8), ("post_dose", "1", 13)):
        record_assessment(loaded(form(trial_id, day_number=number, phase=phase, grade=grade)), author_id=pt,
                          recorded_at=datetime.combine(START, time(hour), tzinfo=UTC).replace(day=1 + number),
                          entry_id=str(uuid.uuid4()))
    db.session.commit()


def _state(trial_id: int) -> tuple[str, str | None, int, list[str]]:
    t = db.session.get(Trial, trial_id)
    return t.status, t.outcome, t.revision, [d.dose_status for d in t.days]


@pytest.fixture
def one_dose(ctx: Flask, make_trial, team) -> int:  # type: ignore[no-untyped-def]
    """Finding 5's trial: one dose given (day 1), no PT assessment, no decision."""
    trial_id = make_trial(start_date=START)
    give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    return int(trial_id)


def test_the_missing_evidence_is_listed_by_kind(one_dose) -> None:  # type: ignore[no-untyped-def]
    evidence = outcome_evidence(db.session.get(Trial, one_dose))
    assert evidence.missing
    assert evidence.lines() == ["No test dose given: days 2, 3.", "No post-dose PT assessment: day 1.",
                                "No team decision: days 1, 2, 3."]


def test_finding_5_candidate_with_one_dose_and_reason_x_is_refused_and_nothing_changes(one_dose, team) -> None:  # type: ignore[no-untyped-def]
    before = _state(one_dose)
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(DecisionError) as err:
        record_outcome(one_dose, {"outcome": "candidate", "outcome_reason": "x", "confirm_missing": False,
                                  "base_revision": 1}, author_id=team["surgeon"])
    assert err.value.errors == {
        "confirm_missing": ["Evidence is missing (listed above): tick to confirm the team records the outcome "
                            "without it."],
        "outcome_reason": ["With evidence missing, give the team's reasons in at least a sentence (20 characters "
                           "and 4 words)."]}
    db.session.rollback()
    assert _state(one_dose) == before == ("active", None, 1, ["planned", "planned", "planned"])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audits


@pytest.mark.parametrize(("reason", "confirm", "field"), [
    (SENTENCE, False, "confirm_missing"),  # a sentence is not a confirmation
    ("Good response overall", True, "outcome_reason"),  # 22 characters but 3 words
    ("Yes yes yes yes", True, "outcome_reason"),  # 4 words but 15 characters
])
def test_both_the_confirmation_and_a_sentence_are_needed(one_dose, team, reason, confirm, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecisionError) as err:
        record_outcome(one_dose, {"outcome": "candidate", "outcome_reason": reason, "confirm_missing": confirm,
                                  "base_revision": 1}, author_id=team["surgeon"])
    assert list(err.value.errors) == [field]


def test_confirmed_with_a_sentence_it_is_recorded(one_dose, team) -> None:  # type: ignore[no-untyped-def]
    record_outcome(one_dose, {"outcome": "candidate", "outcome_reason": SENTENCE, "confirm_missing": True,
                              "base_revision": 1}, author_id=team["surgeon"])
    db.session.commit()
    assert _state(one_dose)[:3] == ("completed", "candidate", 2)


def test_with_every_piece_of_evidence_no_confirmation_is_asked(ctx, make_trial, team) -> None:  # type: ignore[no-untyped-def]
    """Day 1 50 mcg, escalated; day 2 75 mcg, judged good (the effect lasted 6 h), no more test doses: every
    counted day has its dose, post-dose assessment and decision (day 3, cancelled by the decision to end, is not
    counted)."""
    trial_id = make_trial(start_date=START)
    give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    _assess(trial_id, 1, team["pt"])
    record_decision(day_id(trial_id, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    give(trial_id, 2, nurse=team["nurse"], surgeon=team["surgeon"], mcg="75")
    _assess(trial_id, 2, team["pt"])
    record_decision(day_id(trial_id, 2), decision(effect="good", next_step="end", dose_mcg=None,
                                                  effect_duration_hours=Decimal("6")), author_id=team["surgeon"])
    db.session.commit()
    assert not outcome_evidence(db.session.get(Trial, trial_id)).missing
    record_outcome(trial_id, {"outcome": "candidate", "outcome_reason": "Good.", "base_revision": 1},
                   author_id=team["surgeon"])
    db.session.commit()
    assert _state(trial_id)[:2] == ("completed", "candidate")


def test_a_revision_needs_the_current_revision_and_the_same_guard(one_dose, team) -> None:  # type: ignore[no-untyped-def]
    record_outcome(one_dose, {"outcome": "candidate", "outcome_reason": SENTENCE, "confirm_missing": True,
                              "base_revision": 1}, author_id=team["surgeon"])
    db.session.commit()
    with pytest.raises(DecisionConflict):
        record_outcome(one_dose, {"outcome": "inconclusive", "outcome_reason": SENTENCE, "confirm_missing": True,
                                  "base_revision": 1}, author_id=team["surgeon"])
    db.session.rollback()
    with pytest.raises(DecisionError):
        record_outcome(one_dose, {"outcome": "inconclusive", "outcome_reason": "Unsure.", "confirm_missing": True,
                                  "base_revision": 2}, author_id=team["surgeon"])
    db.session.rollback()
    record_outcome(one_dose, {"outcome": "inconclusive", "outcome_reason": "On reflection the change in tone was "
                              "too small to judge.", "confirm_missing": True, "base_revision": 2},
                   author_id=team["surgeon"])
    db.session.commit()
    assert _state(one_dose)[:3] == ("completed", "inconclusive", 3)


def test_the_outcome_page_lists_the_evidence_and_refuses_beside_the_fields(app, client, signed_in, make_trial,  # type: ignore[no-untyped-def]
                                                                           team) -> None:
    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    signed_in("surgeon")
    page = client.get(f"/trials/{trial_id}/outcome").get_data(as_text=True)
    assert "Evidence missing" in page and "No post-dose PT assessment: day 1." in page
    assert "The team records this outcome with the evidence listed above missing" in page
    response = client.post(f"/trials/{trial_id}/outcome", data={"outcome": "candidate", "outcome_reason": "x",
                                                                "base_revision": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "outcome_reason") == (
        "With evidence missing, give the team's reasons in at least a sentence (20 characters and 4 words).")
    assert field_error(html, "confirm_missing").startswith("Evidence is missing")
    assert ">x</textarea>" in html and 'value="candidate" checked' in html
    ok = client.post(f"/trials/{trial_id}/outcome", data={"outcome": "candidate", "outcome_reason": SENTENCE,
                                                          "confirm_missing": "yes", "base_revision": "1"})
    assert ok.status_code == 303
