"""The batch fast path for "assessments.record" gives exactly the per-entry path's answers and writes.

One mixed push (applied, flagged, rejected for several reasons, saved before by the plain form, a correction,
a correction that conflicts, a repeat, another kind in the middle) goes through `/api/sync` twice: once with
the fast path switched off (every entry through the single handler, a SAVEPOINT each) and once with it on.
Both must give the same results, in order, and leave the same rows, audit trail included.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from server.assessments.models import Assessment, AssessmentPlan
from server.audit.models import AuditEvent
from server.extensions import db
from server.sync_api import handlers
from server.sync_api.models import SyncConflict, SyncLedger
from server.trials.models import Trial
from tests.assessments.conftest import LOWER, form, give_dose, loaded


@pytest.fixture
def make_trial(make_trial):  # type: ignore[no-untyped-def]
    """Trials here begin on the day of this module's fixed phone times (25 Nov 2026): a phone time before a
    trial's admission is refused as a wrong clock, which these tests are not about."""
    return functools.partial(make_trial, start_date=date(2026, 11, 25))

AT = "2026-11-25T10:07:00+00:00"


def wire(author: int, payload: dict[str, Any], *, entry_id: str | None = None, kind: str = "assessments.record",
         device: str = "phone-1", form_version: int = 1) -> dict[str, Any]:
    return {"id": entry_id or str(uuid.uuid4()), "kind": kind, "payload": payload, "author_id": author,
            "device_id": device, "recorded_at": AT, "base_rev": None, "form_version": form_version}


@pytest.fixture(params=["per_entry", "batch"])
def mode(request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "per_entry":
        monkeypatch.setattr(handlers, "MANY", {})
    app.extensions.pop("sync_registry", None)
    return str(request.param)


def _registry_uses_fast_path(app: Flask) -> bool:
    with app.app_context():
        from server.sync_api.views import _registry

        return _registry().get_many("assessments.record") is not None


def test_a_mixed_push_gives_the_same_answers_and_rows_on_both_paths(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_user, make_trial, mode) -> None:
    assert _registry_uses_fast_path(app) is (mode == "batch")
    pt = signed_in("pt")
    nurse = make_user("nurse")
    trial_a, trial_b, trial_c = make_trial(), make_trial(), make_trial()
    with app.app_context():
        give_dose(trial_b, 1, datetime.fromisoformat(AT) - timedelta(hours=4), nurse)  # 4 h before the phone times
        from server.assessments.services import correct_assessment, record_assessment

        earlier = str(uuid.uuid4())  # saved through the plain form, then sent again by the phone
        by_form = record_assessment(loaded(form(trial_a)), author_id=pt, recorded_at=datetime.now(UTC),
                                    entry_id=earlier).id
        to_fix = record_assessment(loaded(form(trial_a, grade="3", repeat="1")), author_id=pt,
                                   recorded_at=datetime.now(UTC),
                                   entry_id=str(uuid.uuid4())).id
        fixed = record_assessment(loaded(form(trial_a, grade="4", repeat="1")), author_id=pt,
                                  recorded_at=datetime.now(UTC),
                                  entry_id=str(uuid.uuid4())).id
        latest = correct_assessment(fixed, loaded(form(trial_a, grade="1")), reason="Wrong side", author_id=pt,
                                    recorded_at=datetime.now(UTC), entry_id=str(uuid.uuid4())).id
        db.session.get(Trial, trial_c).status = "completed"
        db.session.commit()
        before = {m: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Assessment, SyncLedger, SyncConflict, AuditEvent, AssessmentPlan)}

    first = wire(pt, form(trial_a, repeat="1"))
    entries = [
        first,                                                                   # 0 applied
        wire(pt, form(trial_a, phase="post_dose")),                              # 1 applied, no dose yet: flagged
        wire(pt, form(trial_b, phase="post_dose"), device="phone-2"),            # 2 applied, dose on record
        wire(pt, form(trial_a, grade="6")),                                      # 3 rejected: bad grade
        wire(pt, form(4242)),                                                    # 4 rejected: unknown trial
        wire(pt, form(trial_c)),                                                 # 5 rejected: trial completed
        wire(pt, form(trial_a, day_number=9)),                                   # 6 rejected: no day 9
        wire(pt, form(trial_a), entry_id=earlier),                               # 7 saved before by the form
        wire(pt, {**form(trial_a, grade="2"), "supersedes_id": str(to_fix),
                  "correction_reason": "Scored the wrong child"}),               # 8 applied: a correction
        wire(pt, {**form(trial_a, grade="2"), "supersedes_id": str(fixed),
                  "correction_reason": "Other phone"}),                          # 9 conflict: corrected already
        dict(first),                                                             # 10 a repeat of 0
        wire(pt, {"trial_id": str(trial_a), "day_number": "1"}, kind="dosing.observe"),  # 11 rejected: role
        wire(pt, form(trial_a), form_version=9),                                 # 12 rejected: form version
        wire(pt, form(trial_b, day_number=2)),                                   # 13 applied
        wire(pt, form(trial_b, day_number=2)),                                   # 14 rejected: not a repeat
    ]
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "phone-1", "entries": entries})
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == [e["id"] for e in entries]
    assert [r["status"] for r in results] == [
        "applied", "applied", "applied", "rejected", "rejected", "rejected", "rejected", "applied", "applied",
        "conflict", "duplicate", "rejected", "rejected", "applied", "rejected"]
    assert "already saved" in results[14]["errors"]["repeat"][0]
    assert results[3]["errors"] == {f"mas.{group}.{side}": ["Choose a grade: 0, 1, 1+, 2, 3 or 4."]
                                    for group in LOWER for side in ("left", "right")}
    assert results[4]["reason"] == "Unknown trial (4242): nothing was saved."
    assert "completed" in results[5]["reason"]
    assert results[6]["errors"] == {"day_number": ["This trial has no day 9 (days 1–3)."]}  # noqa: RUF001
    assert results[7]["record"] == {"type": "assessment", "id": by_form}
    assert results[9]["record"] == {"type": "assessment", "id": latest}
    assert "corrected on another phone first" in results[9]["reason"]
    assert results[10]["record"] == results[0]["record"]
    assert "role does not allow" in results[11]["reason"]
    assert "form version 9" in results[12]["reason"]

    with app.app_context():
        after = {m: db.session.scalar(select(func.count()).select_from(m))
                 for m in (Assessment, SyncLedger, SyncConflict, AuditEvent, AssessmentPlan)}
        new_ids = [results[i]["record"]["id"] for i in (0, 1, 2, 8, 13)]
        rows = {a.id: a for a in db.session.scalars(select(Assessment).where(Assessment.id.in_(new_ids)))}
        assert [rows[i].entry_id for i in new_ids] == [entries[i]["id"] for i in (0, 1, 2, 8, 13)]
        assert [rows[i].saved_before_dose_record for i in new_ids[:3]] == [False, True, False]
        assert (rows[new_ids[3]].version, rows[new_ids[3]].supersedes_id) == (2, to_fix)
        assert rows[new_ids[2]].device_id == "phone-2"
        ledger = {row.entry_id: row.status for row in db.session.scalars(select(SyncLedger))}
        audits = {int(a.entity_id): a for a in db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "Assessment", AuditEvent.action == "create",
            AuditEvent.entity_id.in_([str(i) for i in new_ids])))}
        plan_b = db.session.scalar(select(AssessmentPlan).where(AssessmentPlan.trial_id == trial_b))
    assert after[Assessment] - before[Assessment] == 5  # 0, 1, 2, 8 and 13; nothing for the others
    assert after[SyncLedger] - before[SyncLedger] == 7  # applied (6 ids) and the conflict; none when rejected
    assert ledger[entries[9]["id"]] == "conflict" and entries[3]["id"] not in ledger
    assert after[SyncConflict] - before[SyncConflict] == 1
    assert after[AssessmentPlan] - before[AssessmentPlan] == 1 and plan_b is not None  # trial B's first
    # One audit row per new assessment, naming the PT and the phone that made it, via sync.
    assert {i: (a.actor_id, a.device_id, a.via) for i, a in audits.items()} == {
        new_ids[0]: (pt, "phone-1", "sync"), new_ids[1]: (pt, "phone-1", "sync"),
        new_ids[2]: (pt, "phone-2", "sync"), new_ids[3]: (pt, "phone-1", "sync"),
        new_ids[4]: (pt, "phone-1", "sync")}

    # The same push again: every answer is the same or a duplicate, and nothing more is written.
    again = client.post("/api/sync", json={"protocol_version": 1, "device_id": "phone-1", "entries": entries})
    statuses = [r["status"] for r in again.get_json()["results"]]
    assert statuses == ["duplicate", "duplicate", "duplicate", "rejected", "rejected", "rejected", "rejected",
                        "duplicate", "duplicate", "conflict", "duplicate", "rejected", "rejected", "duplicate",
                        "rejected"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == after[Assessment]


def _statements(app: Flask, client: Any, entries: list[dict[str, Any]]) -> int:
    count = 0

    def counter(*_: Any) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "p", "entries": entries})
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
    return count


def test_the_fast_path_uses_as_many_statements_for_200_entries_as_for_10(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial) -> None:
    pt = signed_in("pt")
    trials = [make_trial() for _ in range(3)]
    # Warm up: each trial's plan is fixed by its first assessment (one write per trial, once).
    _statements(app, client, [wire(pt, form(t)) for t in trials])
    few = _statements(app, client, [wire(pt, form(trials[n % 3], phase="baseline", repeat="1")) for n in range(10)])
    many = _statements(app, client, [wire(pt, form(trials[n % 3], phase="baseline", repeat="1"))
                                     for n in range(200)])
    assert many == few, (few, many)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == 213


# The statements of a request of 100 new assessments once the trials' plans exist: the sign-in check (session,
# user), the ledger read, the entry ids already saved, the trials and their days, the repeat check, the plans,
# the doses of the post-dose days, the assessments' INSERT ... RETURNING, their audit rows, the ledger rows,
# and the savepoint (SAVEPOINT, RELEASE); on SQLite also the BEGIN IMMEDIATE that takes the write lock
# (extensions._sqlite_begin; PostgreSQL's driver begins without a statement). docs/sync.md quotes it.
STATEMENTS_FOR_100 = {"sqlite": 15, "postgresql": 14}


def test_a_request_of_100_runs_a_fixed_number_of_statements(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    trials = [make_trial() for _ in range(3)]
    _statements(app, client, [wire(pt, form(t)) for t in trials])  # their first plans
    entries = [wire(pt, form(trials[n % 3], phase=("baseline", "post_dose")[n % 2], repeat="1")) for n in range(100)]
    with app.app_context():
        dialect = db.engine.dialect.name
    assert _statements(app, client, entries) == STATEMENTS_FOR_100[dialect]


def test_first_assessments_of_many_trials_take_as_many_statements_as_of_one(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial) -> None:
    """A trial's first assessment fixes its plan from the child's GMFCS level: the children are read in one
    query, however many trials start in the request (each plan is still its own SAVEPOINT and INSERT)."""
    pt = signed_in("pt")
    one = _statements(app, client, [wire(pt, form(make_trial()))])
    five = _statements(app, client, [wire(pt, form(make_trial())) for _ in range(5)])
    assert five == one + 4 * 4  # per further trial: its plan's SAVEPOINT, INSERT, audit INSERT and RELEASE


def test_entries_from_two_devices_still_apply_in_request_order(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, mode) -> None:
    """Two phones correct the same assessment in one push: the first in request order wins on both paths."""
    pt = signed_in("pt")
    trial_id = make_trial()
    with app.app_context():
        from server.assessments.services import record_assessment

        target = record_assessment(loaded(form(trial_id)), author_id=pt, recorded_at=datetime.now(UTC),
                                   entry_id=str(uuid.uuid4())).id
        db.session.commit()

    def fix(reason: str) -> dict[str, Any]:
        return {**form(trial_id, grade="1"), "supersedes_id": str(target), "correction_reason": reason}

    entries = [wire(pt, form(trial_id, repeat="1"), device="phone-X"),
               wire(pt, fix("first, on phone Y"), device="phone-Y"),
               wire(pt, fix("second, on phone X"), device="phone-X")]
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "phone-X", "entries": entries})
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "applied", "conflict"]
    with app.app_context():
        kept = db.session.scalar(select(Assessment.correction_reason).where(Assessment.supersedes_id == target))
    assert kept == "first, on phone Y"


@pytest.mark.parametrize("bad", [{"trial_id": str(2**40)},
                                 {"supersedes_id": str(2**40), "correction_reason": "Wrong side"}])
def test_an_id_beyond_the_integer_range_is_one_rejected_entry_not_a_failed_batch(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_trial, mode, bad) -> None:
    """PostgreSQL refuses such a number outright: the schema must, so the rest of the phone's outbox goes."""
    pt = signed_in("pt")
    trial_id = make_trial()
    entries = [wire(pt, form(trial_id)), wire(pt, {**form(trial_id), **bad})]
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "p", "entries": entries})
    assert response.status_code == 200
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "rejected"]
    field = next(iter(bad))
    assert field in response.get_json()["results"][1]["errors"]
