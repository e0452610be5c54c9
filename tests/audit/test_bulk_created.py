"""Assessments are saved with one multi-row `INSERT ... RETURNING`, which the flush hook never sees; their audit
rows are written by `audit.tracking.record_created`. These tests hold those rows to exactly what the hook writes
for the same record saved through the ORM unit of work (as `record_assessments` saved them before): the same
columns and values, the same trial and child, the same actor, device and via, the same time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from server.assessments.models import Assessment
from server.assessments.services import NewAssessment, record_assessments
from server.audit.context import Actor, acting_as
from server.audit.models import AuditEvent
from server.audit.tracking import record_created
from server.extensions import db
from server.trials.models import Trial
from server.web import clock
from tests.assessments.conftest import form, loaded

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
# A phone in another zone: the hook stores the value as the service set it, offset and all.
PHONE_TIME = datetime(2026, 11, 25, 12, 7, 30, 123456, tzinfo=timezone(timedelta(hours=2)))


def _row(event: AuditEvent) -> dict[str, Any]:
    """An audit row's columns, without those that differ between two records (its id, the record's id and
    entry id)."""
    after = {k: v for k, v in (event.after or {}).items() if k not in ("id", "entry_id")}
    return {"at": event.at, "actor_id": event.actor_id, "device_id": event.device_id, "via": event.via,
            "action": event.action, "entity_type": event.entity_type, "before": event.before, "after": after,
            "trial_id": event.trial_id, "patient_id": event.patient_id}


def _created(entity_id: int) -> AuditEvent:
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Assessment",
                                                          AuditEvent.entity_id == str(entity_id)))
    return event


def _by_unit_of_work(saved: Assessment) -> Assessment:
    """The same record saved as `record_assessments` saved it before the bulk INSERT: an ORM object with the
    columns the service set (the others from the model's defaults), added and flushed, so the hook audits it."""
    twin = Assessment(
        trial_id=saved.trial_id, trial_day_id=saved.trial_day_id, phase=saved.phase, author_id=saved.author_id,
        recorded_at=PHONE_TIME, received_at=NOW, entry_id=str(uuid.uuid4()), device_id=saved.device_id,
        form_version=saved.form_version, values=dict(saved.values), not_tested=dict(saved.not_tested),
        notes=saved.notes, version=1, is_repeat=saved.is_repeat,
        saved_before_dose_record=saved.saved_before_dose_record)
    db.session.add(twin)
    db.session.flush()
    return twin


@pytest.mark.parametrize(("phase", "extra"), [
    ("baseline", {}),
    ("baseline", {"notes": "Settled", "repeat": "1"}),
    ("post_dose", {}),  # no dose on record: flagged (saved_before_dose_record)
    ("baseline", {"mas.hip_flexors.left": None, "mas.hip_flexors.not_tested": "left",
                  "mas.hip_flexors.not_tested_reason": "Cast on"}),
])
def test_the_bulk_insert_writes_the_audit_row_the_flush_hook_writes(  # type: ignore[no-untyped-def]
        app, make_user, make_trial, phase, extra) -> None:
    pt = make_user("pt")
    trial_id = make_trial(start_date=date(2026, 11, 25))
    payload = {k: v for k, v in {**form(trial_id, phase=phase), **extra}.items() if v is not None}
    with app.app_context(), time_machine.travel(NOW, tick=False), \
            acting_as(Actor(user_id=pt, device_id="phone-9", via="sync")):
        [saved] = record_assessments([NewAssessment(loaded(payload), pt, PHONE_TIME, str(uuid.uuid4()),
                                                    "phone-9", 1)])
        assert isinstance(saved, Assessment)
        twin = _by_unit_of_work(saved)
        bulk, hook = _created(saved.id), _created(twin.id)
        assert _row(bulk) == _row(hook)
        assert bulk.after["id"] == saved.id and bulk.after["entry_id"] == saved.entry_id
        assert bulk.after["recorded_at"] == PHONE_TIME.isoformat()  # as the hook has it: the phone's offset
        assert bulk.after["values"] == "[redacted]"
        trial = db.session.get(Trial, trial_id)
        assert trial is not None
        assert (bulk.trial_id, bulk.patient_id) == (trial_id, trial.patient_id)
        db.session.rollback()


def test_a_batch_of_assessments_has_one_audit_row_each_in_order(app, make_user, make_trial) -> None:  # type: ignore[no-untyped-def]
    pt = make_user("pt")
    trials = [make_trial(start_date=date(2026, 11, 25)) for _ in range(3)]
    items = [NewAssessment(loaded(form(t, day_number=d, phase=p)), pt, PHONE_TIME, str(uuid.uuid4()), "phone-1", 1)
             for t in trials for d in (1, 2) for p in ("baseline", "post_dose")]
    with app.app_context(), time_machine.travel(NOW, tick=False), \
            acting_as(Actor(user_id=pt, device_id="phone-1", via="sync")):
        saved = record_assessments(items)
        assert all(isinstance(s, Assessment) for s in saved)
        ids = [s.id for s in saved]  # type: ignore[union-attr]
        assert ids == sorted(ids)  # inserted in the order given
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Assessment")
                                         .order_by(AuditEvent.id)))
        assert [e.entity_id for e in events] == [str(i) for i in ids]
        assert [e.after["entry_id"] for e in events] == [i.entry_id for i in items]
        assert {(e.actor_id, e.device_id, e.via, e.at) for e in events} == {(pt, "phone-1", "sync", clock.now())}
        db.session.rollback()


def test_record_created_needs_every_column(app) -> None:  # type: ignore[no-untyped-def]
    """The hook reads every column from the object; a record missing one would be audited as something else."""
    with app.app_context(), pytest.raises(ValueError, match="Assessment record without trial_day_id, phase, "):
        record_created(db.session(), Assessment, [{"id": 1, "trial_id": 1}])
