"""Exports: the research export form and its download (admin, surgeon), and a trial's FHIR Bundle (all staff)."""

from __future__ import annotations

from flask import Response, abort, current_app, request
from werkzeug.datastructures import MultiDict

from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user
from ..extensions import db
from ..trials.services import trials_query
from ..web.forms import load_form
from ..web.htmx import render
from . import bp
from .research import FILE_CHOICES, specs
from .schemas import ExportSchema
from .services import ExportError, fhir_export, research_export

FILE_LABELS = {"zip": "All files and the data dictionary (zip)", "dictionary": "Data dictionary (REDCap)",
               **{s.name: f"{s.filename}: {s.title}" for s in specs(False)}}
IDENTIFIERS_ERROR = "Only an admin can include the children's identifiers."


def _page(values: MultiDict[str, str] | dict[str, str], errors: dict[str, list[str]], status: int = 200):
    trials = [(t.id, f"{t.patient.full_name} ({t.patient.mrn}), from {t.start_date:%-d %b %Y}")
              for t in db.session.scalars(trials_query())]
    return render("exports/page.html", "exports/_form.html", values=values, errors=errors, trials=trials,
                  files=[(key, FILE_LABELS[key]) for key in FILE_CHOICES], status=status)


def _private(response: Response, filename: str) -> Response:
    """A download of clinical data: never stored by a browser cache or the service worker."""
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports")
@roles_required("admin", "surgeon")
def page():
    return _page({"trial_id": request.args.get("trial_id", ""), "file": "zip"}, {})


@bp.post("/exports")
@roles_required("admin", "surgeon")
def download():
    data, errors = load_form(ExportSchema(), request.form)
    if data is None:
        return _page(request.form, errors, 422)
    user = current_user()
    if data["include_identifiers"] and not (user and user.has_role("admin")):
        abort(403, description=IDENTIFIERS_ERROR)
    try:
        made = research_export(trial_id=data["trial_id"], file=data["file"], identifiers=data["include_identifiers"])
    except ExportError as exc:
        db.session.rollback()
        return _page(request.form, exc.errors, 422)
    db.session.commit()  # the audit row
    return _private(Response(made.body, mimetype=made.mimetype), made.filename)


@bp.get("/trials/<int:trial_id>/fhir")
@roles_required(*STAFF)
def fhir(trial_id: int):
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:  # code systems and identifiers are named under our public address, never the request's Host
        abort(503, description="The FHIR export needs the app's public address (PUBLIC_BASE_URL) in the server's "
                               "settings: ask whoever runs the server.")
    body = fhir_export(trial_id, base + "/fhir")
    if body is None:
        abort(404, description="No such trial.")
    return _private(Response(body, mimetype="application/fhir+json"), f"itb-trial-{trial_id}-fhir.json")
