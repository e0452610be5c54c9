"""Sync handlers for assessments made on a phone (docs/sync.md): the same schema and services as the form.

`server/sync_api/` registers these (kinds "assessments.record" and "assessments.correct", role pt) and runs
each inside the sync engine's transaction, so nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync import Conflict, Entry, Outcome, Rejected

from ..web.forms import load_form
from .models import Assessment
from .schemas import schema_for
from .services import (
    AlreadyCorrected,
    AlreadySaved,
    AssessmentError,
    NewAssessment,
    correct_assessment,
    record_assessment,
    save_assessments,
)

FORM_VERSIONS = {1}


def _load(entry: Entry) -> dict[str, Any]:
    if entry.form_version not in FORM_VERSIONS:
        raise Rejected(f"This assessment was made with form version {entry.form_version}, which this server "
                       "does not know. Update the app and enter it again.")
    data, errors = load_form(schema_for(entry.payload), entry.payload)  # type: ignore[arg-type]
    if data is None:
        raise Rejected("Some values need correcting before this assessment can be saved.", errors)
    return data


def _outcome(saved: Assessment | int | AssessmentError) -> dict[str, Any]:
    """The entry's record, or the Conflict / Rejected to raise, for what the service answered (a saved
    assessment, or its id)."""
    if isinstance(saved, AlreadySaved):  # saved before through the plain form with the same id: nothing new
        return {"type": "assessment", "id": saved.existing_id}
    if isinstance(saved, AlreadyCorrected):
        raise Conflict("This assessment was corrected on another phone first; your correction is kept for "
                       "review and nothing was overwritten.", {"type": "assessment", "id": saved.latest_id})
    if isinstance(saved, AssessmentError):
        raise Rejected(saved.reason, saved.errors)
    return {"type": "assessment", "id": saved if isinstance(saved, int) else saved.id}


def _record(data: dict[str, Any], entry: Entry) -> dict[str, Any]:
    try:
        if data.get("supersedes_id") is not None:
            saved = correct_assessment(data["supersedes_id"], data, reason=data.get("correction_reason"),
                                       author_id=entry.author_id, recorded_at=entry.recorded_at, entry_id=entry.id,
                                       device_id=entry.device_id, form_version=entry.form_version)
        else:
            saved = record_assessment(data, author_id=entry.author_id, recorded_at=entry.recorded_at,
                                      entry_id=entry.id, device_id=entry.device_id, form_version=entry.form_version)
    except AssessmentError as exc:
        return _outcome(exc)
    return _outcome(saved)


def _caught(apply: Any, *args: Any) -> Outcome:
    try:
        outcome: Outcome = apply(*args)
    except (Conflict, Rejected) as exc:
        return exc
    return outcome


def handle_record(entry: Entry) -> dict[str, Any]:
    """A new assessment (or, when the payload names `supersedes_id`, a correction)."""
    return _record(_load(entry), entry)


def handle_record_many(entries: Sequence[Entry]) -> list[Outcome]:
    """`handle_record` for a run of entries (the sync engine's fast path): the same checks and outcomes,
    with the new assessments saved by one `save_assessments` call. A correction goes one at a time."""
    outcomes: list[Outcome | None] = [None] * len(entries)
    new: list[tuple[int, NewAssessment]] = []
    for n, entry in enumerate(entries):
        try:
            data = _load(entry)
        except Rejected as exc:
            outcomes[n] = exc
            continue
        if data.get("supersedes_id") is not None:
            outcomes[n] = _caught(_record, data, entry)
            continue
        new.append((n, NewAssessment(data, entry.author_id, entry.recorded_at, entry.id, entry.device_id,
                                     entry.form_version)))
    for (n, _), saved in zip(new, save_assessments([item for _, item in new]), strict=True):
        outcomes[n] = _caught(_outcome, saved)
    return outcomes  # type: ignore[return-value]  # every slot is filled above


def handle_correct(entry: Entry) -> dict[str, Any]:
    """A correction: a new version superseding `supersedes_id`, with `correction_reason`."""
    data = _load(entry)
    if data.get("supersedes_id") is None:
        raise Rejected("A correction must name the assessment it corrects.",
                       {"supersedes_id": ["Open the correction from the assessment you are correcting."]})
    return _record(data, entry)
