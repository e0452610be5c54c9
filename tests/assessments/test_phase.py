
"""Issue 13, findings 1 and 2: the phase follows the clock, and one assessment per day and phase unless the PT
means a repeat. Service rules first (every path), then the pages that show them."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment
from server.assessments.results import trial_results
from server.assessments.services import (
    AssessmentError,
    NewAssessment,
    needs_timing_check,
    out_of_phase,
    record_assessment,
    record_assessments,
    resolve_timing,
)
from server.dosing.services import current_dose
from server.extensions import db
from server.trials.models import Trial
from tests.assessments.conftest import form, give_dose, loaded

T0 = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)  # 08:30 UTC; the demo hospital's clock is UTC in tests


@pytest.fixture
def make_trial(make_trial):  # type: ignore[no-untyped-def]
    return functools.partial(make_trial, start_date=date(2026, 11, 25))


def _record(trial_id: int, author: int, *, phase: str = "baseline", at: datetime = T0, grade: str = "2",
            **extra: str) -> Assessment:
    return record_assessment(loaded(form(trial_id, phase=phase, grade=grade, **extra)), author_id=author,
                             recorded_at=at, entry_id=str(uuid.uuid4()))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Assessment))


# ---- finding 1: phase from the clock ------------------------------------------------------------------------

def test_a_baseline_after_the_dose_is_flagged_with_the_times_and_left_out_of_the_comparison(  # type: ignore[no-untyped-def]
        ctx, make_trial, make_user) -> None:
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id = make_trial()
    give_dose(trial_id, 1, T0 + timedelta(minutes=40), nurse)  # 09:10
    late_baseline = _record(trial_id, pt, grade="3", at=T0 + timedelta(hours=9, minutes=40))  # 18:10, 9 h after
    post = _record(trial_id, pt, phase="post_dose", grade="1", at=T0 + timedelta(hours=4, minutes=40))
    db.session.commit()
    dose = current_dose(late_baseline.trial_day.id)
    why = out_of_phase(late_baseline, dose)
    assert why is not None and "9 h 00 AFTER the dose" in why and "09:10" in why and "18:10" in why
    assert out_of_phase(post, dose) is None
    [day] = trial_results(db.session.get(Trial, trial_id))
    assert day.baseline is None and day.post is not None and day.post.id == post.id
    assert [a.id for a, _ in day.left_out] == [late_baseline.id]
    assert "Left out of the comparison until the PT confirms or corrects it" in day.left_out[0][1]
    assert day.result.tone.meets is None  # nothing to judge: the only baseline is not a baseline


def test_a_baseline_before_the_dose_is_used_and_the_comparison_says_which_it_used(  # type: ignore[no-untyped-def]
        ctx, make_trial, make_user) -> None:
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id = make_trial()
    good = _record(trial_id, pt, grade="3", at=T0)
    late = _record(trial_id, pt, grade="4", at=T0 + timedelta(hours=9), repeat="1")
    post = _record(trial_id, pt, phase="post_dose", grade="1", at=T0 + timedelta(hours=4, minutes=30))
    give_dose(trial_id, 1, T0 + timedelta(minutes=30), nurse)  # recorded after both reached the server
    [day] = trial_results(db.session.get(Trial, trial_id))
    assert day.baseline is not None and day.baseline.id == good.id  # not the later one made after the dose
    assert [a.id for a, _ in day.left_out] == [late.id]
    assert day.used == "Compared: baseline of 08:30 (before the dose) with post-dose of 13:00."
    assert day.result.tone.meets is True and post.id == day.post.id


def test_a_post_dose_made_before_the_dose_is_left_out(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id = make_trial()
    _record(trial_id, pt, grade="3", at=T0)
    early = _record(trial_id, pt, phase="post_dose", grade="1", at=T0 + timedelta(minutes=10))
    give_dose(trial_id, 1, T0 + timedelta(hours=1), nurse)
    why = needs_timing_check(early, current_dose(early.trial_day.id))
    assert why is not None and "50 min" not in why and "0 h 50 BEFORE the dose" in why
    [day] = trial_results(db.session.get(Trial, trial_id))
    assert day.post is None and [a.id for a, _ in day.left_out] == [early.id]


def test_the_phone_time_decides_for_an_entry_that_arrives_late(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    """A baseline made offline at 08:30 reaches the server at 15:00, after the 09:00 dose: not flagged."""
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id = make_trial()
    give_dose(trial_id, 1, T0 + timedelta(minutes=30), nurse)
    [made] = record_assessments([NewAssessment(loaded(form(trial_id)), pt, T0, str(uuid.uuid4()), "phone-1")])
    assert isinstance(made, Assessment)
    assert out_of_phase(made, current_dose(made.trial_day.id)) is None


def test_the_pt_confirms_a_late_baseline_as_it_stands_or_moves_it(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt, nurse = make_user("pt"), make_user("nurse")
    trial_id, other_id = make_trial(), make_trial()
    for t in (trial_id, other_id):
        give_dose(t, 1, T0, nurse)
    late = _record(trial_id, pt, grade="3", at=T0 + timedelta(minutes=20))
    _record(trial_id, pt, phase="post_dose", grade="1", at=T0 + timedelta(hours=4))
    with pytest.raises(AssessmentError) as exc:
        resolve_timing(late.id, "confirm", reason=" ", author_id=pt, recorded_at=T0 + timedelta(hours=5),
                       entry_id=str(uuid.uuid4()))
    assert "correction_reason" in exc.value.errors
    with pytest.raises(AssessmentError):
        resolve_timing(late.id, "delete", reason="x", author_id=pt, recorded_at=T0, entry_id=str(uuid.uuid4()))
    kept = resolve_timing(late.id, "confirm", reason="Dose given late; baseline was before it in practice",
                          author_id=pt, recorded_at=T0 + timedelta(hours=5), entry_id=str(uuid.uuid4()))
    assert (kept.version, kept.supersedes_id, kept.timing_confirmed, kept.phase) == (2, late.id, True, "baseline")
    assert kept.values == late.values and kept.correction_reason.startswith("Confirmed as recorded: Dose given")
    [day] = trial_results(db.session.get(Trial, trial_id))
    assert day.baseline is not None and day.baseline.id == kept.id and day.left_out == []
    assert "made after the dose; confirmed by the PT" in day.used
    # Moving: the other child's late "baseline" was really a reassessment.
    wrong = _record(other_id, pt, grade="1", at=T0 + timedelta(hours=4))
    moved = resolve_timing(wrong.id, "move", reason="Taken at the 4 h reassessment", author_id=pt,
                           recorded_at=T0 + timedelta(hours=5), entry_id=str(uuid.uuid4()))
    assert (moved.phase, moved.timing_confirmed, moved.first_version_id) == ("post_dose", False, wrong.id)
    [day] = trial_results(db.session.get(Trial, other_id))
    assert day.post is not None and day.post.id == moved.id and day.baseline is None and day.left_out == []
    assert _count() == 5  # append-only: every earlier version stays


# ---- finding 2: one assessment per day and phase unless the PT means it ----------------------------------

def test_a_second_assessment_of_a_day_and_phase_needs_the_repeat_mark(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    first = _record(trial_id, pt)
    db.session.commit()
    with pytest.raises(AssessmentError) as exc:
        _record(trial_id, pt, at=T0 + timedelta(minutes=30))
    message = exc.value.errors["repeat"][0]
    assert message.startswith("A baseline assessment for day 1 is already saved (25 Nov 08:30 by ")
    assert "tick “This is a repeat”" in message
    db.session.rollback()
    again = _record(trial_id, pt, at=T0 + timedelta(minutes=30), repeat="1")
    assert (first.is_repeat, again.is_repeat) == (False, True)
    # The other phase and the other days are free.
    assert not _record(trial_id, pt, phase="post_dose").is_repeat
    assert _count() == 3


def test_in_one_sync_batch_the_second_unmarked_assessment_is_refused_and_the_rest_saved(  # type: ignore[no-untyped-def]
        ctx, make_trial, make_user) -> None:
    pt = make_user("pt")
    trial_id = make_trial()

    def item(minutes: int, **extra: str) -> NewAssessment:
        return NewAssessment(loaded(form(trial_id, **extra)), pt, T0 + timedelta(minutes=minutes), str(uuid.uuid4()))

    out = record_assessments([item(0), item(5), item(10, repeat="1"), item(15, day_number="2")])
    assert [type(o).__name__ for o in out] == ["Assessment", "AssessmentError", "Assessment", "Assessment"]
    assert isinstance(out[1], AssessmentError) and "already saved" in out[1].errors["repeat"][0]
    assert [o.is_repeat for o in out if isinstance(o, Assessment)] == [False, True, False]
    assert _count() == 3


# ---- the pages ----------------------------------------------------------------------------------------------

def _post(client, trial_id: int, slug: str = "baseline", entry_id: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
    phase = "post_dose" if slug == "post-dose" else "baseline"
    return client.post(f"/trials/{trial_id}/days/1/{slug}",
                       data={**form(trial_id, phase=phase, **extra), "entry_id": entry_id or str(uuid.uuid4())})


def _rows(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return _count()


def test_opening_a_form_that_is_done_shows_it_with_correct_and_add_a_repeat(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial) -> None:
    import re

    signed_in("pt")
    trial_id = make_trial()
    entry = str(uuid.uuid4())
    saved = _post(client, trial_id, entry_id=entry)
    assert saved.status_code == 303
    page = client.get(f"/trials/{trial_id}/days/1/baseline").get_data(as_text=True)
    assert "Baseline for day 1 is already saved" in page and 'id="assessment-form"' not in page
    assessment_id = int(re.search(r"/assessments/(\d+)/correct", page).group(1))
    assert f'href="/trials/{trial_id}/days/1/baseline?repeat=1"' in page and "Add a repeat" in page
    # Back, then Save: the page resubmitted with its entry id is the same entry, never a second record.
    again = _post(client, trial_id, entry_id=entry)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/assessments/{assessment_id}?saved=1")
    assert _rows(app) == 1
    # A stale blank form (opened before the first was saved) is refused beside the repeat box, values kept.
    stale = _post(client, trial_id, grade="3")
    html = stale.get_data(as_text=True)
    assert stale.status_code == 422 and _rows(app) == 1
    assert 'id="repeat-error"' in html and "already saved" in html and 'name="repeat"' in html
    assert 'name="mas.hip_flexors.left" value="3" checked' in html  # what was typed stays
    # The repeat form says what exists, has the box ticked, and saves a second one.
    form_page = client.get(f"/trials/{trial_id}/days/1/baseline?repeat=1").get_data(as_text=True)
    assert "Day 1 already has 1 baseline assessment" in form_page
    assert re.search(r'<input type="checkbox" id="repeat" name="repeat" value="1" checked', form_page)
    assert _post(client, trial_id, repeat="1").status_code == 303 and _rows(app) == 2


def test_a_late_baseline_is_flagged_on_its_page_on_the_comparison_and_the_pt_list_and_resolved_by_form(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_user, make_trial, time_machine) -> None:
    import re

    time_machine.move_to(datetime(2026, 11, 25, 11, 0, tzinfo=UTC), tick=False)  # 11:00 in London (GMT)
    trial_id = make_trial(start_date=date(2026, 11, 25))
    nurse = make_user("nurse")
    with app.app_context():
        give_dose(trial_id, 1, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), nurse)  # 2 h before the baseline
    signed_in("pt")
    saved = _post(client, trial_id)
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Check the phase." in detail and "2 h 00 AFTER the dose" in detail
    assessment_id = int(re.search(r"/assessments/(\d+)/timing", detail).group(1))
    compare = client.get(f"/trials/{trial_id}/assessments/compare").get_data(as_text=True)
    assert "Left out of the comparison until the PT confirms or corrects it" in compare
    today = client.get("/today").get_data(as_text=True)
    assert "Check the phase:" in today and f"/assessments/{assessment_id}/timing" in today
    # The form: a choice and a reason are needed; errors beside the fields; nothing written.
    bad = client.post(f"/assessments/{assessment_id}/timing", data={"reason": ""})
    assert bad.status_code == 422 and _rows(app) == 1
    assert 'id="action-error"' in bad.get_data(as_text=True) and 'id="reason-error"' in bad.get_data(as_text=True)
    ok = client.post(f"/assessments/{assessment_id}/timing",
                     data={"action": "confirm", "reason": "Baseline taken before the dose; entered late."})
    assert ok.status_code == 303 and _rows(app) == 2
    compare = client.get(f"/trials/{trial_id}/assessments/compare").get_data(as_text=True)
    assert "Left out of the comparison" not in compare and "confirmed by the PT" in compare
    assert "Check the phase:" not in client.get("/today").get_data(as_text=True)
