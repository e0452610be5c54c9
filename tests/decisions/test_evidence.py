"""Candidacy evidence (issue 13, finding 5), through the services on SQLite and PostgreSQL.

The day decision records the effect's onset and how long it lasted, bounded by the protocol on every path (the
service is the one write path of the form and the htmx request; decisions do not sync; the demo loader checks
the same bounds). The outcome page's evidence reads, per day, the dose, the responder flag and MAS change, the
effect, the GAS T-score and what the nurses charted, and suggests the starting pump dose from the label's rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.decisions.models import DayDecision
from server.decisions.services import (
    DecisionError,
    candidacy_evidence,
    outcome_evidence,
    record_decision,
)
from server.extensions import db
from server.trials.models import Trial
from tests.decisions.conftest import START, assess, day_id, decide, decision, give, three_days


@pytest.fixture
def trial(ctx, make_trial, team, clock) -> int:  # type: ignore[no-untyped-def]
    """Day 1 given (50 mcg at 09:00 on 2 Nov)."""
    trial_id = make_trial(start_date=START)
    give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    return int(trial_id)


def _count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(DayDecision)) or 0)


# --- the effect's onset and duration ---------------------------------------------------------------------------

def test_the_effect_is_recorded_rounded_to_the_protocols_places_and_audited(trial, team) -> None:  # type: ignore[no-untyped-def]
    saved = decide(trial, 1, team["surgeon"], effect_onset_hours=Decimal("0.5"),
                   effect_duration_hours=Decimal("5.50"))
    assert (saved.effect_onset_hours, saved.effect_duration_hours) == (Decimal("0.5"), Decimal("5.5"))
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "DayDecision")).one()
    assert audit.after["effect_duration_hours"] in ("5.5", 5.5)
    # Revised once the effect has been followed longer: a new revision, the change audited.
    revised = decide(trial, 1, team["surgeon"], effect_onset_hours=Decimal("0.5"),
                     effect_duration_hours=Decimal("6"), base_revision=1)
    assert (revised.revision, revised.effect_duration_hours) == (2, Decimal("6"))
    update = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "DayDecision",
                                                         AuditEvent.action == "update")).one()
    assert "effect_duration_hours" in update.after


@pytest.mark.parametrize(("over", "field"), [
    ({"effect_onset_hours": Decimal("12.5")}, "effect_onset_hours"),
    ({"effect_onset_hours": Decimal("-1")}, "effect_onset_hours"),
    ({"effect_duration_hours": Decimal("0.4")}, "effect_duration_hours"),
    ({"effect_duration_hours": Decimal("48.1")}, "effect_duration_hours"),
    ({"effect_duration_hours": Decimal("5.55")}, "effect_duration_hours"),
    ({"effect_duration_hours": Decimal("NaN")}, "effect_duration_hours"),
])
def test_the_service_refuses_hours_outside_the_protocols_bounds_and_writes_nothing(trial, team, over, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DecisionError) as err:
        record_decision(day_id(trial, 1), decision(**over), author_id=team["surgeon"])
    db.session.rollback()
    assert list(err.value.errors) == [field]
    assert "from " in err.value.errors[field][0] and "decimal place" in err.value.errors[field][0]
    assert _count() == 0
    day2 = db.session.get(Trial, trial).days[1]
    assert day2.planned_dose_mcg is None  # the escalation it came with planned nothing


def test_no_effect_hours_on_a_day_without_a_dose_given(ctx, make_trial, team, clock) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import hold_dose

    trial_id = make_trial(start_date=START)
    d1 = db.session.get(Trial, trial_id).days[0]
    hold_dose(d1.id, {"action": "cancel", "reason": "Child unwell with a fever.", "base_revision": d1.revision},
              author_id=team["surgeon"])
    db.session.commit()
    with pytest.raises(DecisionError) as err:
        record_decision(d1.id, decision(effect="not_judged", effect_duration_hours=Decimal("4")),
                        author_id=team["surgeon"])
    db.session.rollback()
    assert err.value.errors == {"effect_duration_hours": [
        "No dose was given on day 1: leave the effect's onset and duration blank."]}
    assert _count() == 0


def test_an_effect_that_has_not_worn_off_yet_cannot_be_given_a_duration(ctx, make_trial, team, time_machine) -> None:  # type: ignore[no-untyped-def]
    """Dose at 09:00; at 13:05 an effect that began at 1 h cannot have lasted 6 h (until 16:00) yet."""
    trial_id = make_trial(start_date=START)
    time_machine.move_to(datetime(2026, 11, 2, 13, 5, tzinfo=UTC), tick=False)
    give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    with pytest.raises(DecisionError) as err:
        record_decision(day_id(trial_id, 1), decision(effect_onset_hours=Decimal(1),
                                                      effect_duration_hours=Decimal(6)),
                        author_id=team["surgeon"])
    db.session.rollback()
    assert err.value.errors == {"effect_duration_hours": [
        "The effect would wear off at Mon 16:00, which has not come yet: record how long it lasted once it has "
        "worn off (revise the decision then)."]}
    with pytest.raises(DecisionError) as err:
        record_decision(day_id(trial_id, 1), decision(effect_onset_hours=Decimal(5)), author_id=team["surgeon"])
    db.session.rollback()
    assert list(err.value.errors) == ["effect_onset_hours"]
    assert _count() == 0
    # What has happened by now is accepted: began at 1 h, lasted 3 h (until 13:00).
    saved = decide(trial_id, 1, team["surgeon"], effect_onset_hours=Decimal(1), effect_duration_hours=Decimal(3))
    assert saved.effect_duration_hours == Decimal(3)


def test_a_dose_judged_effective_without_its_duration_is_missing_evidence(trial, team) -> None:  # type: ignore[no-untyped-def]
    decide(trial, 1, team["surgeon"], effect="good", next_step="end", dose_mcg=None)
    evidence = outcome_evidence(db.session.get(Trial, trial))
    assert "How long the effect lasted is not recorded: day 1." in evidence.lines()
    decide(trial, 1, team["surgeon"], effect="good", next_step="end", dose_mcg=None,
           effect_duration_hours=Decimal("7"), base_revision=1)
    assert not outcome_evidence(db.session.get(Trial, trial)).no_duration


def test_an_inadequate_dose_needs_no_duration(trial, team) -> None:  # type: ignore[no-untyped-def]
    decide(trial, 1, team["surgeon"])  # inadequate, escalate
    assert outcome_evidence(db.session.get(Trial, trial)).no_duration == []


# --- the evidence on the outcome page ---------------------------------------------------------------------------

def test_the_evidence_per_day_and_the_suggested_pump_dose(trial, team) -> None:  # type: ignore[no-untyped-def]
    three_days(trial, team)
    evidence = candidacy_evidence(db.session.get(Trial, trial))
    rows = [(e.day.day_number, e.dose.dose_mcg if e.dose else None, e.responder,
             e.tone.change if e.tone else None,
             (e.decision.effect_onset_hours, e.decision.effect_duration_hours) if e.decision else None)
            for e in evidence.days]
    assert rows == [(1, Decimal(50), False, Decimal(0), (None, None)),
                    (2, Decimal(75), True, Decimal(-1), (Decimal(1), Decimal(6))),
                    (3, Decimal(75), True, Decimal(-1), (Decimal("0.5"), Decimal("5.5")))]
    assert [e.gas for e in evidence.days] == [Decimal("38.0"), Decimal("58.0"), Decimal("62.0")]
    day1, day2, day3 = evidence.days
    assert day1.events.effects == [] and day1.events.escalations == []
    assert [c.label for c in day2.events.effects] == ["Drowsiness"]
    (escalation,) = day2.events.escalations
    assert escalation.signs == ["Drowsiness charted."] and escalation.response is not None
    assert [c.label for c in day3.events.effects] == ["Nausea or vomiting"] and day3.events.escalations == []
    # The lowest effective bolus is 75 mcg (days 2 and 3); its longest effect, 6 h, is not more than 8 h.
    pump = evidence.pump
    assert pump is not None
    assert (pump.bolus_mcg, pump.days, pump.effect_hours, pump.per_24h_mcg) == (
        Decimal(75), (2, 3), Decimal(6), Decimal(150))


def test_no_pump_dose_is_suggested_when_no_dose_met_the_tone_criterion(trial, team) -> None:  # type: ignore[no-untyped-def]
    assess(trial, 1, team["pt"], "2", "1+")  # a mean change of -0.5: not a responder
    decide(trial, 1, team["surgeon"], effect="good", next_step="end", dose_mcg=None,
           effect_duration_hours=Decimal(6))
    evidence = candidacy_evidence(db.session.get(Trial, trial))
    assert evidence.days[0].responder is False and evidence.pump is None


def test_an_effective_dose_without_a_duration_gives_no_number(trial, team) -> None:  # type: ignore[no-untyped-def]
    assess(trial, 1, team["pt"], "3", "1")
    decide(trial, 1, team["surgeon"], effect="good", next_step="end", dose_mcg=None)
    pump = candidacy_evidence(db.session.get(Trial, trial)).pump
    assert pump is not None and pump.bolus_mcg == Decimal(50) and pump.per_24h_mcg is None
