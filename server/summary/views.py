"""The trial summary: the page (print it from the browser) and its PDF made on the server. Every staff role may
read both; each is audited as a read of the trial's clinical data."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request

from ..assessments.instruments import INSTRUMENTS
from ..assessments.scoring import fmt, signed
from ..audit.access import record_access
from ..auth.decorators import roles_required
from ..auth.models import ROLES
from ..decisions.models import EFFECTS, NEXT_STEPS, TEAM_ROLES
from ..dosing.models import DAY_STATUSES, DOSE_RECORD_STATUSES
from ..goals.scoring import SCALE
from ..protocol import current_protocol
from ..trials.models import OUTCOMES, TONE_TYPES, TRIAL_STATUSES
from ..web.clock import local_now
from . import bp
from .pdf import PAPERS, html_to_pdf
from .queries import Summary, build_summary


def _summary(trial_id: int) -> Summary:
    summary = build_summary(trial_id)
    if summary is None:
        abort(404, description="No such trial.")
    return summary


def _page(summary: Summary) -> str:
    return render_template(
        "summary/page.html", s=summary, trial=summary.trial, p=summary.patient, protocol=current_protocol(),
        instruments=INSTRUMENTS, effects=EFFECTS, next_steps=NEXT_STEPS, team_roles=TEAM_ROLES,
        day_statuses=DAY_STATUSES, record_statuses=DOSE_RECORD_STATUSES, gas_scale=SCALE, outcomes=OUTCOMES,
        tone_types=TONE_TYPES, statuses=TRIAL_STATUSES, papers=PAPERS, fmt=fmt, signed=signed, made_at=local_now())


def _private(response: Response) -> Response:
    """Clinical data read under audit: never kept by a browser cache or the service worker."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/trials/<int:trial_id>/summary")
@roles_required(*ROLES)
def page(trial_id: int) -> Any:
    summary = _summary(trial_id)
    body = _page(summary)
    record_access("read", "Trial", str(trial_id), {"what": "summary"})
    return _private(Response(body, mimetype="text/html"))


@bp.get("/trials/<int:trial_id>/summary.pdf")
@roles_required(*ROLES)
def pdf(trial_id: int) -> Any:
    paper = request.args.get("paper", "a4")
    if paper not in PAPERS:
        abort(404, description="No such paper size: choose A4 or US Letter.")
    summary = _summary(trial_id)
    body = html_to_pdf(_page(summary), request.host_url, paper)
    record_access("read", "Trial", str(trial_id), {"what": "summary PDF", "paper": PAPERS[paper]})
    response = _private(Response(body, mimetype="application/pdf"))
    response.headers["Content-Disposition"] = f'attachment; filename="itb-trial-{trial_id}-summary-{paper}.pdf"'
    return response
