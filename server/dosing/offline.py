"""Outbox replay for nursing observations (kind "dosing.observe", docs/sync.md).

Same schema and service as the plain form POST (views.observe). Registered by server/sync_api, which checks
the author's role and sets the audit actor; the sync batch owns the transaction, so nothing here commits.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from sync import Entry, Rejected

from ..web.forms import load_form
from .schemas import ObservationSchema
from .services import DosingError, record_observation


def _as_form(payload: dict[str, Any]) -> MultiDict[str, str]:
    """The outbox sends one string per field and a list where a name repeats (the effects checkboxes)."""
    form: MultiDict[str, str] = MultiDict()
    for key, value in payload.items():
        if key == "entry_id":
            continue  # the entry's own id is the record's entry_id (the form's copy is for the plain POST)
        for item in value if isinstance(value, list) else [value]:
            form.add(key, "" if item is None else str(item))
    return form


def handle_observe(entry: Entry) -> dict[str, Any]:
    data, errors = load_form(ObservationSchema(), _as_form(entry.payload))
    if data is None:
        raise Rejected("These observations could not be saved: correct the fields marked and send again.", errors)
    try:
        obs = record_observation(data, author_id=entry.author_id, entry_id=entry.id,
                                 recorded_at=entry.recorded_at, device_id=entry.device_id)
    except DosingError as exc:
        reason = " ".join(exc.errors.get("_form", [])) or "These observations could not be saved: see the fields."
        raise Rejected(reason, exc.errors) from None
    return {"type": "observation", "id": obs.id}
