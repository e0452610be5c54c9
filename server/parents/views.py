"""Parent links: the staff side on the trial page (list, make, revoke) and the parent's page at /p/<token>.

The parent's page is public (no sign-in: the token is the key), read-only, and rendered on its own minimal
base template: no service worker, no staff JavaScript, no session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Response, abort, current_app, request, url_for
from werkzeug.wrappers import Response as ResponseBase

from ..auth.decorators import roles_required
from ..auth.session import current_user_id
from ..extensions import db
from ..trials.lookup import trial_or_404
from ..trials.models import Trial
from ..web.clock import local_today
from ..web.forms import load_form
from ..web.htmx import redirect_to, render, wants_fragment
from ..web.types import utcnow
from . import bp
from .models import LINK_STATUSES, ParentLink
from .progress import progress
from .schemas import DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, LABEL_MAX, ParentLinkSchema
from .services import NewLink, ParentLinkError, create_link, links_for, open_link, revoke_link

MANAGERS = ("admin", "surgeon")
PUBLIC_PREFIX = "/p/"
# Every answer under /p/, valid link or not: never indexed, never cached, no Referer to other sites.
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class Panel:
    """What the "Parent links" section of a trial page shows."""

    trial: Trial
    links: list[ParentLink]
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    created: NewLink | None = None  # the link just made: its URL is shown this once, never again
    created_url: str | None = None
    notice: str | None = None  # what was just done, e.g. a link revoked
    now: datetime = field(default_factory=utcnow)
    statuses: dict[str, str] = field(default_factory=lambda: LINK_STATUSES)
    expiry_days: tuple[int, ...] = EXPIRY_DAYS
    default_days: int = DEFAULT_EXPIRY_DAYS
    label_max: int = LABEL_MAX


@bp.app_template_global()
def parent_link_panel(trial: Trial) -> Panel:
    """For templates/trials/detail.html, whose view belongs to another feature."""
    return Panel(trial, links_for(trial.id))


def _panel(panel: Panel, status: int = 200) -> Response:
    response = render("parents/links.html", "parents/_links.html", panel=panel, trial=panel.trial, status=status)
    if panel.created is not None:
        response.headers["Cache-Control"] = "no-store"  # the one answer that holds a token
    return response


@bp.get("/trials/<int:trial_id>/parent-links")
@roles_required(*MANAGERS)
def links(trial_id: int) -> Response:
    trial = trial_or_404(trial_id)
    return _panel(Panel(trial, links_for(trial.id)))


@bp.post("/trials/<int:trial_id>/parent-links")
@roles_required(*MANAGERS)
def create(trial_id: int) -> Response:
    trial = trial_or_404(trial_id)
    data, errors = load_form(ParentLinkSchema(), request.form)
    if not current_app.config["PUBLIC_BASE_URL"]:  # never built from the request's Host header instead
        errors = {"_form": ["Parent links need the app's public address (PUBLIC_BASE_URL) in the server's "
                            "settings: ask the administrator. No link was made."]}
        return _panel(Panel(trial, links_for(trial.id), request.form, errors), status=422)
    if data is None:
        return _panel(Panel(trial, links_for(trial.id), request.form, errors), status=422)
    try:
        new = create_link(trial.id, data, author_id=current_user_id())
        db.session.commit()
    except ParentLinkError as exc:
        db.session.rollback()
        return _panel(Panel(trial, links_for(trial.id), request.form, exc.errors), status=422)
    # From the configured public address, never from the request's Host header (which a client chooses).
    url = current_app.config["PUBLIC_BASE_URL"] + url_for("parents.progress_page", token=new.token)
    return _panel(Panel(trial, links_for(trial.id), created=new, created_url=url), status=201)


@bp.post("/trials/<int:trial_id>/parent-links/<int:link_id>/revoke")
@roles_required(*MANAGERS)
def revoke(trial_id: int, link_id: int) -> ResponseBase:
    """Plain form: back to the trial page (303). htmx: the section again, with a notice."""
    trial = trial_or_404(trial_id)
    link = revoke_link(trial.id, link_id, author_id=current_user_id())
    if link is None:
        abort(404, description="This trial has no such parent link.")
    db.session.commit()
    if wants_fragment():  # htmx swaps the section in place (a redirect to the same page and #anchor would not reload)
        notice = f"The link for {link.label} is revoked: it no longer works."
        return _panel(Panel(trial, links_for(trial.id), notice=notice))
    return redirect_to(url_for("trials.detail", trial_id=trial.id, _anchor="parent-links"))


@bp.get("/p/<path:token>")
def progress_page(token: str) -> Response:
    """The parent's page. Unknown, expired and revoked links get the same answer, so none can be told apart."""
    link = open_link(token)
    if link is None:
        db.session.rollback()
        return render("parents/not_valid.html", status=404)
    return render("parents/progress.html", progress=progress(link.trial, local_today()), expires_at=link.expires_at)


@bp.after_app_request
def _public_headers(response: Response) -> Response:
    if request.path.startswith(PUBLIC_PREFIX):
        response.headers.update(PUBLIC_HEADERS)
    return response
