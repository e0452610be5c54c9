# ruff: noqa: RUF001  (the app shows a real minus sign and en dashes; the tests check that text)
"""The one write path: records, append-only corrections, the plan, refusals, and timing after the dose."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.assessments.instruments import default_plan
from server.assessments.models import Assessment, AssessmentPlan
from server.assessments.services import (
    AlreadyCorrected,
    AlreadySaved,
    AssessmentError,
    PlanConflict,
    all_versions,
    assessed_at,
    chain,
    correct_assessment,
    current_assessments,
    get_plan,
    record_assessment,
    same_day_baseline,
    set_plan,
    timing,
)
from server.audit.models import AuditEvent
from server.dosing.services import current_dose
from server.extensions import db
from server.trials.models import Trial
from tests.assessments.conftest import form, give_dose, loaded


@pytest.fixture
def make_trial(make_trial):  # type: ignore[no-untyped-def]
    """Trials here begin on the day of this module's fixed phone times (25 Nov 2026): a phone time before a
    trial's admission is refused as a wrong clock, which these tests are not about."""
    return functools.partial(make_trial, start_date=date(2026, 11, 25))

T0 = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def _record(trial_id: int, author: int, **kw):  # type: ignore[no-untyped-def]
    phase = kw.pop("phase", "baseline")
    at = kw.pop("at", T0)
    return record_assessment(loaded(form(trial_id, phase=phase, **kw)), author_id=author, recorded_at=at,
                             entry_id=str(uuid.uuid4()), device_id="phone-1")


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Assessment))


def test_a_baseline_is_stored_with_its_ids_times_and_the_default_plan(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    entry = str(uuid.uuid4())
    a = record_assessment(loaded(form(trial_id, grade="1+")), author_id=pt, recorded_at=T0, entry_id=entry,
                          device_id="phone-1")
    got = db.session.get(Assessment, a.id)
    assert (got.phase, got.author_id, got.entry_id, got.device_id, got.version) == ("baseline", pt, entry, "phone-1", 1)
    assert got.recorded_at == T0 and got.received_at >= T0
    assert got.values["mas.hip_adductors.left"] == "1+" and got.values["rom.popliteal_angle.left"] == 50
    assert got.trial_day.day_number == 1 and got.saved_before_dose_record is False
    plan = get_plan(trial_id)
    assert plan is not None and plan.items == default_plan(3) and plan.revision == 1
    assert timing(got, None) is None  # a baseline has no time after the dose


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"trial_id": "999"}, "trial_id", "Unknown trial (999): nothing was saved."),
    ({"day_number": "7"}, "day_number", "This trial has no day 7 (days 1–3)."),
])
def test_unknown_trial_or_day_is_refused_and_nothing_written(ctx, make_trial, make_user, change, field,  # type: ignore[no-untyped-def]
                                                             message) -> None:
    pt = make_user("pt")
    trial_id = make_trial()
    with pytest.raises(AssessmentError) as exc:
        record_assessment(loaded({**form(trial_id), **change}), author_id=pt, recorded_at=T0,
                          entry_id=str(uuid.uuid4()))
    assert exc.value.errors == {field: [message]}
    assert exc.value.reason == message
    db.session.rollback()
    assert _count() == 0


def test_a_closed_trial_takes_no_assessment(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    db.session.get(Trial, trial_id).status = "completed"
    db.session.commit()
    with pytest.raises(AssessmentError, match="completed: assessments can no longer be recorded"):
        _record(trial_id, pt)
    with pytest.raises(AssessmentError, match="closed"):
        set_plan(trial_id, ["mas.soleus"], author_id=pt)
    db.session.rollback()
    assert _count() == 0


def test_the_same_entry_saved_twice_is_one_assessment(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    entry = str(uuid.uuid4())
    first = record_assessment(loaded(form(trial_id)), author_id=pt, recorded_at=T0, entry_id=entry)
    with pytest.raises(AlreadySaved) as exc:
        record_assessment(loaded(form(trial_id)), author_id=pt, recorded_at=T0, entry_id=entry)
    assert exc.value.existing_id == first.id
    assert _count() == 1


def test_post_dose_before_the_dose_record_is_kept_flagged_and_timed_once_the_dose_arrives(ctx, make_trial,  # type: ignore[no-untyped-def]
                                                                                          make_user) -> None:
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id = make_trial()
    day = db.session.get(Trial, trial_id).days[0]
    post = _record(trial_id, pt, phase="post_dose", at=T0 + timedelta(hours=4, minutes=5))
    assert post.saved_before_dose_record is True
    before = timing(post, current_dose(day.id))
    assert before is not None and before.minutes is None and before.flagged
    assert before.message.startswith("No dose recorded yet for this day: kept and flagged")
    # The nurse's phone sends the dose later: 09:00 UTC, so the assessment was 3 h 35 after it.
    give_dose(trial_id, 1, T0 + timedelta(minutes=30), nurse)
    after = timing(db.session.get(Assessment, post.id), current_dose(day.id))
    assert after is not None and after.minutes == 215 and after.in_window is True
    assert after.message == ("3 h 35 after the dose (window 3 h 00–5 h 00 ✓) · saved before the dose record reached "
                             "the server")
    assert after.flagged  # still flagged: it was saved before the dose record arrived
    # A post-dose assessment saved after the dose is on record is not flagged, unless outside the window.
    late = _record(trial_id, pt, phase="post_dose", at=T0 + timedelta(hours=7), repeat="1")
    t = timing(late, current_dose(day.id))
    assert t is not None and late.saved_before_dose_record is False and t.in_window is False and t.flagged
    assert "outside" in t.message
    early = _record(trial_id, pt, phase="post_dose", at=T0, repeat="1")
    t = timing(early, current_dose(day.id))
    assert t is not None and t.minutes == -30 and "BEFORE the recorded dose" in t.message


def test_a_correction_is_a_new_version_and_keeps_the_earlier_one_and_the_reason(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    original = _record(trial_id, pt, grade="3")
    fix = correct_assessment(original.id, loaded(form(trial_id, grade="2")), reason="Scored the wrong child first",
                             author_id=pt, recorded_at=T0 + timedelta(minutes=20), entry_id=str(uuid.uuid4()))
    assert (fix.version, fix.supersedes_id, fix.first_version_id) == (2, original.id, original.id)
    assert fix.correction_reason == "Scored the wrong child first"
    kept = db.session.get(Assessment, original.id)
    assert kept.values["mas.hip_flexors.left"] == "3"  # the earlier version is untouched
    assert fix.values["mas.hip_flexors.left"] == "2"
    assert [a.id for a in chain(original)] == [original.id, fix.id] == [a.id for a in chain(fix)]
    assert [a.id for a in current_assessments(trial_id)] == [fix.id]
    assert [[a.id for a in vs] for vs in all_versions(trial_id).values()] == [[original.id, fix.id]]
    assert assessed_at(fix) == T0  # a correction fixes values, not when the child was assessed
    assert same_day_baseline(trial_id, fix.trial_day_id, None).id == fix.id
    # A second correction goes on the latest version; correcting the old one again is refused.
    with pytest.raises(AlreadyCorrected) as exc:
        correct_assessment(original.id, loaded(form(trial_id)), reason="again", author_id=pt, recorded_at=T0,
                           entry_id=str(uuid.uuid4()))
    assert exc.value.latest_id == fix.id
    third = correct_assessment(fix.id, loaded(form(trial_id, grade="1")), reason="Re-checked", author_id=pt,
                               recorded_at=T0, entry_id=str(uuid.uuid4()))
    assert (third.version, third.first_version_id) == (3, original.id)
    assert _count() == 3


def test_a_correction_needs_a_reason_and_a_known_version(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    original = _record(trial_id, pt)
    db.session.commit()
    with pytest.raises(AssessmentError) as exc:
        correct_assessment(original.id, loaded(form(trial_id)), reason="  ", author_id=pt, recorded_at=T0,
                           entry_id=str(uuid.uuid4()))
    assert exc.value.errors == {"correction_reason": ["Give the reason for the correction."]}
    with pytest.raises(AssessmentError, match="Unknown assessment"):
        correct_assessment(12345, loaded(form(trial_id)), reason="x", author_id=pt, recorded_at=T0,
                           entry_id=str(uuid.uuid4()))
    with pytest.raises(AssessmentError, match="correct_assessment"):
        record_assessment(loaded(form(trial_id, supersedes_id=str(original.id), correction_reason="x")),
                          author_id=pt, recorded_at=T0, entry_id=str(uuid.uuid4()))
    db.session.rollback()
    assert _count() == 1


def test_the_plan_is_a_revisioned_record(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    plan = set_plan(trial_id, ["rom.popliteal_angle", "mas.soleus"], author_id=pt)
    assert plan.items == ["mas.soleus", "rom.popliteal_angle"] and plan.revision == 1
    plan = set_plan(trial_id, ["mas.soleus", "mas.hip_adductors"], author_id=pt, base_rev=1)
    assert plan.items == ["mas.hip_adductors", "mas.soleus"] and plan.revision == 2
    assert set_plan(trial_id, ["mas.soleus", "mas.hip_adductors"], author_id=pt).revision == 2  # no change
    db.session.commit()
    with pytest.raises(PlanConflict):
        set_plan(trial_id, ["mas.soleus"], author_id=pt, base_rev=1)
    with pytest.raises(AssessmentError, match="Unknown item"):
        set_plan(trial_id, ["mas.nose"], author_id=pt)
    with pytest.raises(AssessmentError, match="at least one"):
        set_plan(trial_id, [], author_id=pt)
    with pytest.raises(AssessmentError, match="Unknown trial"):
        set_plan(999, ["mas.soleus"], author_id=pt)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AssessmentPlan)) == 1
    # A later assessment reuses the plan: recording does not replace it.
    _record(trial_id, pt)
    assert get_plan(trial_id).items == ["mas.hip_adductors", "mas.soleus"]


def test_every_write_is_audited_without_copying_the_clinical_values(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    a = _record(trial_id, pt)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Assessment")).one()
    assert event.action == "create" and event.entity_id == str(a.id)
    assert event.after["values"] == "[redacted]" and event.after["entry_id"] == a.entry_id
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "AssessmentPlan")).one()
