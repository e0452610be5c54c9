"""The sync handlers: the same schema and service as the form; errors by field; nothing committed here."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment
from server.assessments.offline import handle_correct, handle_record
from server.extensions import db
from sync import Conflict, Entry, Rejected
from tests.assessments.conftest import form


@pytest.fixture
def make_trial(make_trial):  # type: ignore[no-untyped-def]
    """Trials here begin on the day of this module's fixed phone times (25 Nov 2026): a phone time before a
    trial's admission is refused as a wrong clock, which these tests are not about."""
    return functools.partial(make_trial, start_date=date(2026, 11, 25))

AT = datetime(2026, 11, 25, 13, 5, tzinfo=UTC)


def entry(author: int, payload: dict[str, Any], kind: str = "assessments.record", form_version: int = 1) -> Entry:
    return Entry(id=str(uuid.uuid4()), kind=kind, payload=payload, author_id=author, device_id="phone-7",
                 recorded_at=AT, base_rev=None, form_version=form_version)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Assessment))


def test_an_entry_is_applied_with_the_phone_ids_and_time(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    e = entry(pt, {**form(trial_id, phase="post_dose"), "entry_id": "ignored", "mas.soleus.left": "1+"})
    result = handle_record(e)
    db.session.commit()
    saved = db.session.get(Assessment, result["id"])
    assert result == {"type": "assessment", "id": saved.id}
    assert (saved.entry_id, saved.author_id, saved.device_id, saved.recorded_at) == (e.id, pt, "phone-7", AT)
    assert saved.phase == "post_dose" and saved.values["mas.soleus.left"] == "1+"
    assert saved.saved_before_dose_record is True  # kept and flagged: no dose on record yet


def test_the_handler_leaves_the_transaction_to_the_sync_engine(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    handle_record(entry(pt, form(trial_id)))
    db.session.rollback()  # what the engine does when the batch fails
    assert _count() == 0


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"rom.popliteal_angle.left": "400"}, "rom.popliteal_angle.left",
     "Popliteal angle must be between 0 and 180 degrees."),
    ({"gait.walk_10m_seconds": "-1"}, "gait.walk_10m_seconds", "10 m walk time must be between 2 and 600 seconds."),
    ({"mas.hip_flexors.left": "6"}, "mas.hip_flexors.left", "Choose a grade: 0, 1, 1+, 2, 3 or 4."),
    ({"mas.big_toe.left": "1"}, "mas.big_toe.left",
     "Unknown muscle group “big_toe” for Muscle tone (Modified Ashworth)."),
])
def test_bad_values_are_rejected_with_field_errors(ctx, make_trial, make_user, change, field, message) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    with pytest.raises(Rejected) as exc:
        handle_record(entry(pt, {**form(trial_id), **change}))
    assert exc.value.errors is not None and exc.value.errors[field] == [message]
    assert exc.value.reason == "Some values need correcting before this assessment can be saved."
    assert _count() == 0


def test_unknown_trial_closed_trial_and_unknown_form_version_are_rejected(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.trials.models import Trial

    pt = make_user("pt")
    trial_id = make_trial()
    with pytest.raises(Rejected) as exc:
        handle_record(entry(pt, form(4242)))
    assert exc.value.reason == "Unknown trial (4242): nothing was saved."
    assert exc.value.errors == {"trial_id": ["Unknown trial (4242): nothing was saved."]}
    with pytest.raises(Rejected, match="form version 9"):
        handle_record(entry(pt, form(trial_id), form_version=9))
    db.session.get(Trial, trial_id).status = "completed"
    db.session.commit()
    with pytest.raises(Rejected, match="completed"):
        handle_record(entry(pt, form(trial_id)))
    db.session.rollback()
    assert _count() == 0


def test_corrections_through_sync_and_a_second_phone_correcting_the_same_version(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trial_id = make_trial()
    first = handle_record(entry(pt, form(trial_id, grade="3")))["id"]
    db.session.commit()
    with pytest.raises(Rejected) as exc:
        handle_correct(entry(pt, form(trial_id), kind="assessments.correct"))
    assert exc.value.errors == {"supersedes_id": ["Open the correction from the assessment you are correcting."]}
    fix = handle_correct(entry(pt, {**form(trial_id, grade="2"), "supersedes_id": str(first),
                                    "correction_reason": "Scored on the wrong side"}, kind="assessments.correct"))
    db.session.commit()
    corrected = db.session.get(Assessment, fix["id"])
    assert (corrected.version, corrected.supersedes_id, corrected.correction_reason) == (
        2, first, "Scored on the wrong side")
    with pytest.raises(Rejected) as exc:
        handle_correct(entry(pt, {**form(trial_id), "supersedes_id": str(fix["id"])}, kind="assessments.correct"))
    assert exc.value.errors == {"correction_reason": ["Give the reason for the correction."]}
    # A second phone corrected version 1 too, offline: a conflict (the engine's wrapper keeps that copy).
    with pytest.raises(Conflict) as conflict:
        handle_record(entry(pt, {**form(trial_id), "supersedes_id": str(first), "correction_reason": "Other"}))
    assert conflict.value.record == {"type": "assessment", "id": fix["id"]}
    assert _count() == 2


def test_an_entry_already_saved_by_the_plain_form_returns_that_assessment(ctx, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.assessments.services import record_assessment
    from tests.assessments.conftest import loaded

    pt = make_user("pt")
    trial_id = make_trial()
    e = entry(pt, form(trial_id))
    saved = record_assessment(loaded(form(trial_id)), author_id=pt, recorded_at=AT, entry_id=e.id)
    assert handle_record(e) == {"type": "assessment", "id": saved.id}
    assert _count() == 1
