"""Sync handlers for assessments made on a phone (docs/sync.md): the same schema and services as the form.

`server/sync_api/` registers these (kinds "assessments.record" and "assessments.correct", role pt) and runs
each inside the sync engine's transaction, so nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sync import Conflict, Entry, Rejected

from ..web.forms import load_form
from .schemas import schema_for
from .services import AlreadyCorrected, AlreadySaved, AssessmentError, correct_assessment, record_assessment

FORM_VERSIONS = {1}


def _load(entry: Entry) -> dict[str, Any]:
    if entry.form_version not in FORM_VERSIONS:
        raise Rejected(f"This assessment was made with form version {entry.form_version}, which this server "
                       "does not know. Update the app and enter it again.")
    data, errors = load_form(schema_for(entry.payload), entry.payload)  # type: ignore[arg-type]
    if data is None:
        raise Rejected("Some values need correcting before this assessment can be saved.", errors)
    return data


def _record(data: dict[str, Any], entry: Entry) -> dict[str, Any]:
    try:
        if data.get("supersedes_id") is not None:
            saved = correct_assessment(data["supersedes_id"], data, reason=data.get("correction_reason"),
                                       author_id=entry.author_id, recorded_at=entry.recorded_at, entry_id=entry.id,
                                       device_id=entry.device_id, form_version=entry.form_version)
        else:
            saved = record_assessment(data, author_id=entry.author_id, recorded_at=entry.recorded_at,
                                      entry_id=entry.id, device_id=entry.device_id, form_version=entry.form_version)
    except AlreadySaved as exc:  # saved before through the plain form with the same id: nothing new
        return {"type": "assessment", "id": exc.existing_id}
    except AlreadyCorrected as exc:
        raise Conflict("This assessment was corrected on another phone first; your correction is kept for "
                       "review and nothing was overwritten.", {"type": "assessment", "id": exc.latest_id}) from exc
    except AssessmentError as exc:
        raise Rejected(exc.reason, exc.errors) from exc
    return {"type": "assessment", "id": saved.id}


def handle_record(entry: Entry) -> dict[str, Any]:
    """A new assessment (or, when the payload names `supersedes_id`, a correction)."""
    return _record(_load(entry), entry)


def handle_correct(entry: Entry) -> dict[str, Any]:
    """A correction: a new version superseding `supersedes_id`, with `correction_reason`."""
    data = _load(entry)
    if data.get("supersedes_id") is None:
        raise Rejected("A correction must name the assessment it corrects.",
                       {"supersedes_id": ["Open the correction from the assessment you are correcting."]})
    return _record(data, entry)
