"""Assessments through POST /api/sync, end to end: refusals write nothing, a post-dose assessment that
reaches the server before the dose record is kept, flagged and timed once the dose is recorded, and two
phones correcting the same version leave one correction applied and the other kept as a conflict."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from server.assessments.models import Assessment
from server.extensions import db
from server.sync_api.models import SyncConflict, SyncLedger
from tests.assessments.conftest import form


@pytest.fixture
def make_trial(make_trial):  # type: ignore[no-untyped-def]
    """Trials here begin on the day of this module's fixed phone times (25 Nov 2026): a phone time before a
    trial's admission is refused as a wrong clock, which these tests are not about."""
    return functools.partial(make_trial, start_date=date(2026, 11, 25))


def _entry(author: int, payload: dict[str, Any], *, kind: str = "assessments.record", device: str = "phone-1",
           recorded_at: str = "2026-11-25T13:05:00+00:00") -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "payload": payload, "author_id": author, "device_id": device,
            "recorded_at": recorded_at, "base_rev": None, "form_version": 1}


def _push(client, *entries: dict[str, Any], device: str = "phone-1"):  # type: ignore[no-untyped-def]
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": device, "entries": list(entries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def _count(app, model=Assessment) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"rom.popliteal_angle.left": "400"}, "rom.popliteal_angle.left",
     "Popliteal angle must be between 0 and 180 degrees."),
    ({"gait.walk_10m_seconds": "-2"}, "gait.walk_10m_seconds", "10 m walk time must be between 2 and 600 seconds."),
    ({"mas.knee_flexors.right": "5"}, "mas.knee_flexors.right", "Choose a grade: 0, 1, 1+, 2, 3 or 4."),
    ({"mas.big_toe.left": "1"}, "mas.big_toe.left",
     "Unknown muscle group “big_toe” for Muscle tone (Modified Ashworth)."),
    ({"trial_id": "4242"}, "trial_id", "Unknown trial (4242): nothing was saved."),
])
def test_bad_values_are_rejected_per_entry_with_the_field_message_and_nothing_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, change, field, message) -> None:
    trial_id = make_trial()
    pt = signed_in("pt")
    good = _entry(pt, form(trial_id))
    bad = _entry(pt, {**form(trial_id), **change})
    results = _push(client, bad, good)
    assert [r["status"] for r in results] == ["rejected", "applied"]  # one bad entry blocks nothing else
    assert results[0]["errors"][field] == [message]
    assert results[0]["reason"]
    assert _count(app) == 1  # only the good one
    with app.app_context():
        assert db.session.get(SyncLedger, bad["id"]) is None  # a rejected entry leaves no trace to dedupe on


def test_post_dose_before_the_dose_record_is_kept_flagged_then_timed_once_the_dose_is_recorded(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, make_user) -> None:
    from server.dosing.services import record_dose
    from server.trials.models import Trial

    surgeon, nurse = make_user("surgeon"), make_user("nurse")
    trial_id = make_trial(start_date=datetime(2026, 11, 25).date())  # London is on UTC that day
    pt = signed_in("pt")
    # The PT's phone sends the 4 h assessment (13:05) before the nurse's phone has sent the 09:00 dose.
    [r] = _push(client, _entry(pt, form(trial_id, phase="post_dose", grade="1")))
    assert r["status"] == "applied"
    post_id = r["record"]["id"]
    page = client.get(f"/assessments/{post_id}").get_data(as_text=True)
    assert "No dose recorded yet for this day: kept and flagged" in page
    with app.app_context():
        assert db.session.get(Assessment, post_id).saved_before_dose_record is True
        day_id = db.session.get(Trial, trial_id).days[0].id
        record_dose(day_id, {"given_time": time(9, 0), "dose_mcg": Decimal(50), "override_reason": None,
                             "route": "catheter", "given_by_id": surgeon, "checked_by_id": nurse},
                    recorded_by_id=surgeon, now=datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
        db.session.commit()
    page = client.get(f"/assessments/{post_id}").get_data(as_text=True)
    assert "4 h 05 after the dose" in page and "saved before the dose record reached the server" in page
    history = client.get(f"/trials/{trial_id}/assessments").get_data(as_text=True)
    assert "4 h 05 after the dose" in history


def test_two_phones_correcting_the_same_version_the_second_is_a_conflict_kept_for_review(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial) -> None:
    trial_id = make_trial()
    pt = signed_in("pt")
    [first] = _push(client, _entry(pt, form(trial_id, grade="3")))
    v1 = first["record"]["id"]

    def correction(grade: str, reason: str, device: str) -> dict[str, Any]:
        return _entry(pt, {**form(trial_id, grade=grade), "supersedes_id": str(v1), "correction_reason": reason},
                      kind="assessments.correct", device=device)

    [a] = _push(client, correction("2", "Scored left as right", "phone-A"), device="phone-A")
    assert a["status"] == "applied"
    late = correction("1", "Re-checked after a rest", "phone-B")
    [b] = _push(client, late, device="phone-B")
    assert b["status"] == "conflict"
    assert b["record"] == {"type": "assessment", "id": a["record"]["id"]}
    [again] = _push(client, late, device="phone-B")  # the phone retries: still one kept copy, still a conflict
    assert again["status"] == "conflict"
    assert _count(app) == 2  # version 1 and phone A's version 2; nothing overwritten
    with app.app_context():
        kept = db.session.scalars(select(SyncConflict)).all()
        assert len(kept) == 1 and kept[0].entry_id == late["id"] and kept[0].device_id == "phone-B"
        assert kept[0].payload["correction_reason"] == "Re-checked after a rest"
        assert kept[0].payload["mas.hip_flexors.left"] == "1"
        v2 = db.session.get(Assessment, a["record"]["id"])
        assert (v2.version, v2.supersedes_id, v2.correction_reason) == (2, v1, "Scored left as right")
        assert db.session.get(Assessment, v1).values["mas.hip_flexors.left"] == "3"  # the earlier version stays
    page = client.get("/sync/conflicts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "corrected on another phone first" in html
    history = client.get(f"/trials/{trial_id}/assessments").get_data(as_text=True)
    assert "Scored left as right" in history
