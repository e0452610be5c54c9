"""Audit rows for reads and exports of clinical data: who read or exported which record, and how.

The flush hook (`tracking.py`) records every change; a read changes nothing, so the view that hands out
clinical data (an export, a FHIR bundle) records it here. In a GET, which may not hold the write lock, the row
is written aside on a connection of its own (`extensions.write_aside`) and committed at once; in a POST it joins
the request's transaction, which the view commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from ..extensions import write_aside
from ..web import clock
from .context import current_actor
from .models import AuditEvent
from .tracking import patient_of

ACCESS_ACTIONS = ("read", "export")


def record_access(action: str, entity_type: str, entity_id: str, details: dict[str, Any], *,
                  trial_id: int | None = None) -> None:
    """One audit row: `action` ("read" or "export") of `entity_type` #`entity_id` (e.g. "Trial", "12", or "all"),
    with what was handed out in `details` (kept in the row's `after`). `trial_id` scopes the row to a trial and
    its child, so the audit viewer finds it by either; a Trial's own id is taken as its scope."""
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    if trial_id is None and entity_type == "Trial" and entity_id.isdigit():
        trial_id = int(entity_id)
    patient_id = patient_of(trial_id)
    actor = current_actor()
    write_aside(insert(AuditEvent).values(
        at=clock.now(), actor_id=actor.user_id if actor else None, device_id=actor.device_id if actor else None,
        via=actor.via if actor else "system", action=action, entity_type=entity_type, entity_id=entity_id,
        before=None, after=details, trial_id=trial_id, patient_id=patient_id))
