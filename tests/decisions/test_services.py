"""The decision and outcome services: what each step writes through dosing, and what every refusal leaves."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from server.audit.models import AuditEvent
from server.decisions.models import DayDecision
from server.decisions.services import (
    DecisionConflict,
    DecisionError,
    record_decision,
    record_outcome,
    suggested_time,
)
from server.dosing.models import DosePlanChange
from server.extensions import db
from server.trials.models import Trial, TrialDay
from tests.dbutil import using_postgres
from tests.decisions.conftest import day_id, decision, give


def _day(trial_id: int, n: int) -> TrialDay:
    day = db.session.get(TrialDay, day_id(trial_id, n))
    assert day is not None
    return day


def _decisions() -> int:
    return int(db.session.scalar(select(func.count()).select_from(DayDecision)) or 0)


@pytest.fixture
def trial(ctx, make_trial, team):  # type: ignore[no-untyped-def]
    """A 3-day trial whose day-1 dose (50 mcg at 09:00) has been given."""
    trial_id = make_trial()
    give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
    return trial_id


def test_escalate_plans_tomorrow_through_the_dosing_service(trial, team) -> None:  # type: ignore[no-untyped-def]
    before = _day(trial, 2).revision
    saved = record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    day2 = _day(trial, 2)
    assert (day2.planned_dose_mcg, day2.dose_status, day2.revision) == (Decimal("75"), "planned", before + 1)
    assert day2.planned_at is not None
    change = db.session.scalars(select(DosePlanChange).where(DosePlanChange.trial_day_id == day2.id)).one()
    assert (change.action, change.outcome, change.author_id) == ("plan", "applied", team["surgeon"])
    assert (saved.revision, saved.next_step, saved.next_dose_mcg, saved.team_present, saved.parents_present) == (
        1, "escalate", Decimal("75"), ["surgeon", "pt"], True)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "DayDecision")).one()
    assert audit.action == "create" and audit.after["rationale"] == "Little change in tone at 50 mcg."


@pytest.mark.parametrize(("step", "mcg", "message"), [
    ("escalate", "50", "To escalate, choose a dose above today's 50 mcg."),
    ("escalate", "25", "To escalate, choose a dose above today's 50 mcg."),
    ("repeat", "75", "To repeat, choose today's dose again (50 mcg)."),
    ("de_escalate", "75", "To de-escalate, choose a dose below today's 50 mcg."),
    ("escalate", None, "Choose tomorrow's dose."),
])
def test_the_dose_must_match_the_step_and_nothing_is_written(trial, team, step, mcg, message) -> None:  # type: ignore[no-untyped-def]
    plan_before = (_day(trial, 2).planned_dose_mcg, _day(trial, 2).revision)
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 1), decision(next_step=step, dose_mcg=Decimal(mcg) if mcg else None),
                        author_id=team["surgeon"])
    db.session.rollback()
    assert exc.value.errors == {"dose_mcg": [message]}
    assert _decisions() == 0
    assert (_day(trial, 2).planned_dose_mcg, _day(trial, 2).revision) == plan_before


def test_repeat_and_de_escalate_set_the_chosen_dose(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(next_step="repeat", dose_mcg=Decimal("50")), author_id=team["surgeon"])
    db.session.commit()
    assert _day(trial, 2).planned_dose_mcg == Decimal("50")
    give(trial, 2, nurse=team["nurse"], surgeon=team["surgeon"])
    record_decision(day_id(trial, 2), decision(effect="over_response", next_step="de_escalate",
                                                dose_mcg=Decimal("25")), author_id=team["surgeon"])
    db.session.commit()
    assert _day(trial, 3).planned_dose_mcg == Decimal("25")


def test_the_protocol_still_applies_to_tomorrows_dose(trial, team) -> None:  # type: ignore[no-untyped-def]
    """The plan goes through dosing.set_plan: not an allowed value, above the ceiling without a reason, and
    under 24 h after today's dose are refused there, and the message lands on the decision form's field."""
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 1), decision(dose_mcg=Decimal("60")), author_id=team["surgeon"])
    db.session.rollback()
    assert "dose_mcg" in exc.value.errors
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 1), decision(planned_time=time(8, 0)), author_id=team["surgeon"])
    db.session.rollback()
    assert "planned_time" in exc.value.errors and "24" in exc.value.errors["planned_time"][0]
    assert _decisions() == 0 and _day(trial, 2).planned_dose_mcg is None


def test_no_decision_before_the_dose_is_recorded_or_held(ctx, make_trial, team) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial_id, 1), decision(), author_id=team["surgeon"])
    assert exc.value.errors["_form"][0].startswith("No dose is recorded for day 1 yet")
    from server.dosing.services import hold_dose

    day1 = _day(trial_id, 1)
    hold_dose(day1.id, {"action": "cancel", "reason": "Fever", "base_revision": day1.revision},
              author_id=team["surgeon"])
    db.session.commit()
    # A cancelled dose can be decided on: e.g. try the same dose tomorrow.
    saved = record_decision(day_id(trial_id, 1), decision(effect="not_judged", next_step="repeat",
                                                          dose_mcg=Decimal("50")), author_id=team["surgeon"])
    assert saved.next_step == "repeat"


def test_the_last_day_cannot_plan_a_next_dose(trial, team) -> None:  # type: ignore[no-untyped-def]
    for n in (2, 3):
        record_decision(day_id(trial, n - 1), decision(next_step="repeat", dose_mcg=Decimal("50")),
                        author_id=team["surgeon"])
        db.session.commit()
        give(trial, n, nurse=team["nurse"], surgeon=team["surgeon"])
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 3), decision(), author_id=team["surgeon"])
    assert "last trial day" in exc.value.errors["next_step"][0]
    db.session.rollback()
    saved = record_decision(day_id(trial, 3), decision(effect="good", next_step="end", dose_mcg=None),
                            author_id=team["surgeon"])
    assert (saved.next_step, saved.next_dose_mcg) == ("end", None)


def test_ending_cancels_the_doses_still_planned_and_escalating_again_replans(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(effect="good", next_step="end", dose_mcg=None),
                    author_id=team["surgeon"])
    db.session.commit()
    assert [(_day(trial, n).dose_status, _day(trial, n).dose_status_reason) for n in (2, 3)] == [
        ("cancelled", "Team decision on day 1: no more test doses.")] * 2
    revised = record_decision(day_id(trial, 1), decision(base_revision=1), author_id=team["surgeon"])
    db.session.commit()
    assert revised.revision == 2
    assert (_day(trial, 2).dose_status, _day(trial, 2).planned_dose_mcg) == ("planned", Decimal("75"))


def test_a_stale_revision_is_a_conflict_and_changes_nothing(trial, team, make_user) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    other = make_user("surgeon")
    with pytest.raises(DecisionConflict, match="now revision 1"):  # a second "new" decision for the same day
        record_decision(day_id(trial, 1), decision(rationale="Mine"), author_id=other)
    db.session.rollback()
    record_decision(day_id(trial, 1), decision(rationale="Revised", base_revision=1), author_id=other)
    db.session.commit()
    with pytest.raises(DecisionConflict, match=r"now revision 2\) after you opened it \(revision 1\)"):
        record_decision(day_id(trial, 1), decision(rationale="Late", base_revision=1), author_id=team["surgeon"])
    db.session.rollback()
    row = db.session.scalars(select(DayDecision)).one()
    assert (row.rationale, row.revision, row.decided_by_id) == ("Revised", 2, other)


def test_saving_the_same_decision_again_changes_nothing(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    again = record_decision(day_id(trial, 1), decision(base_revision=1), author_id=team["surgeon"])
    db.session.commit()
    assert again.revision == 1
    updates = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "DayDecision", AuditEvent.action == "update"))
    assert updates == 0


def test_the_outcome_closes_the_trial_and_cancels_what_is_still_planned(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    t = db.session.get(Trial, trial)
    record_outcome(trial, {"outcome": "candidate", "outcome_reason": "Clear response; goals met.",
                           "confirm_missing": True, "base_revision": t.revision}, author_id=team["surgeon"])
    db.session.commit()
    t = db.session.get(Trial, trial)
    assert (t.status, t.outcome, t.outcome_reason) == ("completed", "candidate", "Clear response; goals met.")
    assert _day(trial, 2).dose_status == "cancelled" and _day(trial, 3).dose_status == "cancelled"
    # The closed trial takes no more day decisions, but the outcome can still be revised (with its revision).
    with pytest.raises(DecisionError, match="completed"):
        record_decision(day_id(trial, 1), decision(base_revision=1), author_id=team["surgeon"])
    db.session.rollback()
    with pytest.raises(DecisionConflict):
        record_outcome(trial, {"outcome": "inconclusive", "outcome_reason": "x", "base_revision": t.revision - 1},
                       author_id=team["surgeon"])
    db.session.rollback()
    record_outcome(trial, {"outcome": "inconclusive", "outcome_reason": "On reflection the change was too small.",
                           "confirm_missing": True, "base_revision": t.revision}, author_id=team["surgeon"])
    db.session.commit()
    t = db.session.get(Trial, trial)
    assert (t.status, t.outcome) == ("completed", "inconclusive")


def test_a_stopped_trial_is_closed_as_stopped(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(effect="over_response", next_step="stop", dose_mcg=None,
                                               rationale="Lost head control for 6 h."), author_id=team["surgeon"])
    db.session.commit()
    t = db.session.get(Trial, trial)
    record_outcome(trial, {"outcome": "not_candidate", "outcome_reason": "Over-response at 50 mcg.",
                           "confirm_missing": True, "base_revision": t.revision}, author_id=team["surgeon"])
    db.session.commit()
    assert db.session.get(Trial, trial).status == "stopped"


def test_no_outcome_before_any_dose(ctx, make_trial, team) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    t = db.session.get(Trial, trial_id)
    with pytest.raises(DecisionError, match="No test dose has been given"):
        record_outcome(trial_id, {"outcome": "candidate", "outcome_reason": "x", "base_revision": t.revision},
                       author_id=team["surgeon"])
    db.session.rollback()
    assert db.session.get(Trial, trial_id).outcome is None


def test_the_suggested_time_keeps_the_minimum_interval(trial, team, make_trial) -> None:  # type: ignore[no-untyped-def]
    assert suggested_time(_day(trial, 1), None) == "09:00"  # the protocol's default dose time
    db.session.rollback()  # end this session's read, so it sees the trial made next (in another session)
    late = make_trial()
    give(late, 1, nurse=team["nurse"], surgeon=team["surgeon"], at=time(10, 7))
    from server.dosing.services import current_dose

    day1 = _day(late, 1)
    assert suggested_time(day1, current_dose(day1.id)) == "10:15"  # 24 h after 10:07, up to the quarter hour


def _elsewhere(app, work) -> None:  # type: ignore[no-untyped-def]
    """Another request's write, in its own session, committed while this test's session holds stale copies.

    After it, this session's write must not go through. PostgreSQL: the row lock and a fresh read make the
    revision check see the other write (a conflict). SQLite: this session's read snapshot predates the other
    write, so SQLite refuses the write itself ("database is locked", which the app answers 503 and the user
    retries into the conflict)."""
    with app.app_context():
        work()
        db.session.commit()


def test_a_decision_edited_meanwhile_elsewhere_is_a_conflict_even_if_this_session_holds_the_old_copy(  # type: ignore[no-untyped-def]
        app, trial, team) -> None:
    record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    held = db.session.scalars(select(DayDecision)).one()  # this session now holds revision 1
    assert held.revision == 1
    _elsewhere(app, lambda: record_decision(day_id(trial, 1), decision(rationale="B's reasons", base_revision=1),
                                            author_id=team["surgeon"]))
    def save_late() -> None:
        record_decision(day_id(trial, 1), decision(rationale="A's reasons", base_revision=1),
                        author_id=team["surgeon"])
        db.session.commit()

    with pytest.raises(DecisionConflict if using_postgres() else OperationalError):
        save_late()
    db.session.rollback()
    assert db.session.scalars(select(DayDecision)).one().rationale == "B's reasons"


def test_a_plan_changed_elsewhere_is_a_conflict_for_the_dosing_service_too(app, trial, team) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import PlanConflict, set_plan

    day2 = _day(trial, 2)  # this session holds day 2 at its current revision
    base = day2.revision

    def replan() -> None:
        set_plan(day_id(trial, 2), {"dose_mcg": Decimal("100"), "planned_time": time(10, 0),
                                    "override_reason": None, "base_revision": base}, author_id=team["surgeon"])

    _elsewhere(app, replan)
    def plan_late() -> None:
        set_plan(day2.id, {"dose_mcg": Decimal("75"), "planned_time": time(9, 0), "override_reason": None,
                           "base_revision": base}, author_id=team["surgeon"])
        db.session.commit()

    with pytest.raises(PlanConflict if using_postgres() else OperationalError):
        plan_late()
    if using_postgres():
        db.session.commit()  # the refused version is kept, as the dosing views do
    db.session.rollback()
    assert (_day(trial, 2).planned_dose_mcg, _day(trial, 2).revision) == (Decimal("100"), base + 1)


def test_editing_the_reasons_never_lifts_a_hold_on_tomorrow(trial, team) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import hold_dose

    record_decision(day_id(trial, 1), decision(), author_id=team["surgeon"])
    db.session.commit()
    day2 = _day(trial, 2)
    hold_dose(day2.id, {"action": "hold", "reason": "Fever 38.9", "base_revision": day2.revision},
              author_id=team["surgeon"])
    db.session.commit()
    record_decision(day_id(trial, 1), decision(rationale="Typo fixed", base_revision=1), author_id=team["surgeon"])
    db.session.commit()
    assert (_day(trial, 2).dose_status, _day(trial, 2).dose_status_reason) == ("held", "Fever 38.9")
    # Another dose for a held day is refused, with the hold named: resuming is the plan page's job.
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 1), decision(dose_mcg=Decimal("100"), base_revision=2),
                        author_id=team["surgeon"])
    assert "held (Fever 38.9)" in exc.value.errors["next_step"][0]
    db.session.rollback()


def test_ending_also_cancels_a_held_day(trial, team) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import hold_dose

    day2 = _day(trial, 2)
    hold_dose(day2.id, {"action": "hold", "reason": "Review", "base_revision": day2.revision},
              author_id=team["surgeon"])
    db.session.commit()
    record_decision(day_id(trial, 1), decision(effect="good", next_step="end", dose_mcg=None),
                    author_id=team["surgeon"])
    db.session.commit()
    assert [_day(trial, n).dose_status for n in (2, 3)] == ["cancelled", "cancelled"]


def test_changing_an_end_back_to_a_dose_resumes_every_day_that_end_cancelled(trial, team) -> None:  # type: ignore[no-untyped-def]
    record_decision(day_id(trial, 1), decision(effect="good", next_step="end", dose_mcg=None),
                    author_id=team["surgeon"])
    db.session.commit()
    record_decision(day_id(trial, 1), decision(base_revision=1), author_id=team["surgeon"])
    db.session.commit()
    assert [(_day(trial, n).dose_status, _day(trial, n).dose_status_reason) for n in (2, 3)] == [
        ("planned", None), ("planned", None)]
    assert _day(trial, 2).planned_dose_mcg == Decimal("75")
    actions = [c.action for c in db.session.scalars(select(DosePlanChange).where(
        DosePlanChange.trial_day_id == day_id(trial, 3)).order_by(DosePlanChange.id))]
    assert actions == ["cancel", "resume"]  # the history says what happened


def test_changing_the_mind_never_undoes_someone_elses_cancellation(trial, team) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import hold_dose

    day2 = _day(trial, 2)
    hold_dose(day2.id, {"action": "cancel", "reason": "Theatre list", "base_revision": day2.revision},
              author_id=team["surgeon"])
    db.session.commit()
    record_decision(day_id(trial, 1), decision(effect="good", next_step="end", dose_mcg=None),
                    author_id=team["surgeon"])
    db.session.commit()
    with pytest.raises(DecisionError) as exc:
        record_decision(day_id(trial, 1), decision(base_revision=1), author_id=team["surgeon"])
    assert "cancelled (Theatre list)" in exc.value.errors["next_step"][0]
    db.session.rollback()
    assert (_day(trial, 2).dose_status, _day(trial, 2).dose_status_reason) == ("cancelled", "Theatre list")
    assert _day(trial, 3).dose_status == "cancelled"  # nothing of the refused change was kept


def test_waiting_for_counts_each_trials_own_doses_and_only_cancelled_days_that_have_come(  # type: ignore[no-untyped-def]
        trial, team, make_trial) -> None:
    from datetime import timedelta

    from server.decisions.services import waiting_for
    from server.dosing.services import hold_dose
    from server.web import clock

    db.session.rollback()
    other = make_trial()  # no dose at all: day 1 held, then "end"
    day1 = _day(other, 1)
    hold_dose(day1.id, {"action": "hold", "reason": "Unwell", "base_revision": day1.revision},
              author_id=team["surgeon"])
    db.session.commit()
    record_decision(day1.id, decision(effect="not_judged", next_step="end", dose_mcg=None),
                    author_id=team["surgeon"])
    day3 = _day(trial, 3)  # the dosed trial's day 3 cancelled ahead of time
    hold_dose(day3.id, {"action": "cancel", "reason": "Theatre slot", "base_revision": day3.revision},
              author_id=team["surgeon"])
    db.session.commit()
    trials = [db.session.get(Trial, trial), db.session.get(Trial, other)]
    from server.web.clock import local_to_utc

    # Day 1's dose was given at 09:00: the team judges it once the reassessment window opens (3 h later).
    assert trial not in waiting_for(trials, local_to_utc(clock.today(), time(11, 59)))
    waiting = waiting_for(trials, local_to_utc(clock.today(), time(12, 0)))
    assert [d.day_number for d in waiting[trial].decision_days] == [1]  # day 3 is not due before its date
    assert other not in waiting  # no dose in that trial: no outcome to record, whatever the other trial had
    later = waiting_for(trials, local_to_utc(clock.today() + timedelta(days=2), time(12, 0)))
    assert [d.day_number for d in later[trial].decision_days] == [1, 3]
