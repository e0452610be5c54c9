"""The exports' entry points for the views: build the file or bundle, and audit who took which data, how.

Reads only (the one write is the audit row). The caller commits: in a POST the audit row joins the request's
transaction; in a GET it is written aside at once (`audit.access.record_access`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..audit.access import record_access
from ..web import clock
from ..web.forms import Refused
from . import fhir, research
from .records import collect


class ExportError(Refused):
    """Refused input, with messages by form field. Nothing was exported (and nothing audited)."""


@dataclass(frozen=True)
class Download:
    filename: str
    mimetype: str
    body: bytes


def research_export(*, trial_id: int | None, file: str, identifiers: bool) -> Download:
    """One file of the research export (or the zip of all of them) for one trial or for every trial."""
    rec = collect([trial_id] if trial_id is not None else None)
    if trial_id is not None and not rec.trials:
        raise ExportError({"trial_id": ["No such trial: choose one from the list."]})
    texts = research.files(rec, identifiers)
    scope = f"trial-{trial_id}" if trial_id is not None else "all-trials"
    folder = f"itb-research-{scope}-{clock.now():%Y%m%d-%H%M}{'-identifiable' if identifiers else ''}"
    if file == "zip":
        download = Download(f"{folder}.zip", "application/zip", research.zipped(texts, folder))
    else:
        download = Download(f"{folder}-{file}.csv", "text/csv", texts[f"{file}.csv"].encode("utf-8"))
    record_access("export", "Trial", str(trial_id) if trial_id is not None else "all", {
        "what": "research CSV", "file": download.filename, "identifiers": identifiers,
        "trials": [t.id for t in rec.trials]})
    return download


def fhir_export(trial_id: int, base: str) -> str | None:
    """The trial's FHIR R4 Bundle as JSON, or None when there is no such trial. Audited as a read."""
    rec = collect([trial_id])
    if not rec.trials:
        return None
    body = fhir.bundle(rec, rec.trials[0], base).model_dump_json()
    record_access("read", "Trial", str(trial_id), {"what": "FHIR bundle", "identifiers": True})
    return body
