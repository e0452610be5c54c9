"""Parent links: the staff side on the trial page (list, make, revoke; the link just made with its QR code and
a printable card) and the parent's page at /p/<token> with its daily observation form.

The parent's page is public (no sign-in: the token is the key) and rendered on its own minimal base template:
no service worker, no JavaScript, no session cookie, in the family's language (web/i18n.py). Its one form, the
day's observation, is a plain POST: CSRF-checked with a token tied to the link (services.form_token, since there
is no session), limited to PARENT_POSTS_PER_HOUR per link (web/ratelimit.py), and audited with the link's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import segno
from flask import Response, abort, current_app, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as ResponseBase

from ..audit.context import Actor, acting_as
from ..auth.decorators import roles_required
from ..auth.session import current_user_id
from ..extensions import db
from ..trials.lookup import trial_or_404
from ..trials.models import Trial
from ..web import clock
from ..web.forms import load_form
from ..web.htmx import redirect_to, render, wants_fragment
from ..web.i18n import LANG_PARAM, chosen_language, current_language, date_words, languages
from ..web.ratelimit import limiter
from . import bp
from .models import LINK_STATUSES, NOTE_MAX, OBSERVATION_SCALES, ParentLink
from .observations import (
    SCALE_WORDS,
    NoSuchDay,
    ObservationError,
    TeamView,
    observations_for_day,
    record_observation,
    slots_for,
)
from .progress import progress
from .schemas import DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, LABEL_MAX, ParentLinkSchema, ParentObservationSchema
from .services import (
    NewLink,
    ParentLinkError,
    create_link,
    form_token,
    form_token_ok,
    hash_token,
    links_for,
    open_link,
    revoke_link,
)

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
    qr_svg: Markup | None = None  # the URL as a QR code, drawn here (segno), inline
    card: list[tuple[str, str, str, str]] = field(default_factory=list)  # the printed card's words: (lang, title, text)
    notice: str | None = None  # what was just done, e.g. a link revoked
    now: datetime = field(default_factory=clock.now)
    statuses: dict[str, str] = field(default_factory=lambda: LINK_STATUSES)
    expiry_days: tuple[int, ...] = EXPIRY_DAYS
    default_days: int = DEFAULT_EXPIRY_DAYS
    label_max: int = LABEL_MAX


@bp.app_template_global()
def parent_link_panel(trial: Trial) -> Panel:
    """For templates/trials/detail.html, whose view belongs to another feature."""
    return Panel(trial, links_for(trial.id))


@bp.app_template_global()
def parents_observations(day_id: int) -> list[TeamView]:
    """For templates/decisions/_day_body.html (another feature's page): the families' observations of the day."""
    return observations_for_day(day_id)


def qr_svg(url: str, label: str) -> Markup:
    """`url` as a QR code: an SVG drawn on this server (segno), sized by CSS, with an accessible name."""
    svg = segno.make(url, error="m").svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff",
                                               svgclass="qr-code")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704


def _card(first_name: str, expires_at: datetime) -> list[tuple[str, str, str, str]]:
    """The printed card in every language the parent's page speaks (the family may read any): a title, two
    sentences on what the link shows, and its expiry."""
    out = []
    for code in languages():
        with force_locale(code):
            out.append((code, _("%(name)s's trial page", name=first_name), _(
                "This private link shows %(name)s's baclofen trial in plain words: each day's test dose and how "
                "%(name)s responded. You can also tell the team each day how %(name)s slept, moved and felt.",
                name=first_name), _("The link works until %(date)s.", date=date_words(expires_at))))
    return out


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
    return _panel(Panel(trial, links_for(trial.id), created=new, created_url=url,
                        qr_svg=qr_svg(url, f"QR code of {new.link.label}'s link"),
                        card=_card(trial.patient.first_name, new.link.expires_at)), status=201)


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


def _not_valid() -> Response:
    """Unknown, expired and revoked links get this same answer, so none can be told apart."""
    db.session.rollback()
    return render("parents/not_valid.html", status=404)


def _parent_page(link: ParentLink, token: str, *, status: int = 200, day_id: int | None = None,
                 values: Mapping[str, Any] | None = None, errors: dict[str, list[str]] | None = None) -> Response:
    """The parent's page; `day_id`, `values` and `errors`: the day's form as it was sent, with what was wrong."""
    today = clock.today()
    lang = chosen_language()
    story, slots = progress(link.trial, today), slots_for(link, today)
    shown = {d.day_id for d in story.days if (slot := slots.get(d.number)) is not None and slot.open}
    # A refusal for a day whose form is not on the page (decided meanwhile, not begun): said at the top.
    top_errors = [m for ms in (errors or {}).values() for m in ms] if day_id is not None and day_id not in shown \
        else []
    return render("parents/progress.html", status=status, progress=story, top_errors=top_errors,
                  expires_at=link.expires_at, token=token, lang=lang, slots=slots,
                  form_token=form_token(link), scales=OBSERVATION_SCALES, scale_words=SCALE_WORDS,
                  note_max=NOTE_MAX, form_day=day_id, values=values or {}, errors=errors or {},
                  saved=request.args.get("saved", type=int), lang_param=LANG_PARAM)


@bp.get("/p/<path:token>")
def progress_page(token: str) -> Response:
    """The parent's page."""
    link = open_link(token)
    if link is None:
        return _not_valid()
    return _parent_page(link, token)


@bp.post("/p/<path:token>")
def refuse_post(token: str) -> Response:
    """Any other post under /p/ (a cut link, a day id out of range): the same answer as a link that does not
    work. Nothing is written."""
    return _not_valid()


def _link_key() -> str:
    """Posts are counted per link: by the token's hash (what the database keeps), never the token itself."""
    return "parent-link:" + hash_token(str((request.view_args or {}).get("token", "")))


def _posts_per_hour() -> str:
    return f"{int(current_app.config['PARENT_POSTS_PER_HOUR'])} per hour"


@bp.post("/p/<token>/days/<int:day_id>/observation")
@limiter.limit(_posts_per_hour, key_func=_link_key)
def observe(token: str, day_id: int) -> ResponseBase:
    """A parent's observation of one trial day: saved, then back to the page (303); or the page again with what
    was wrong (422, or 409 once the team has decided the day), nothing written."""
    link = open_link(token)
    if link is None:
        return _not_valid()
    if not form_token_ok(link, request.form.get("csrf_token")):
        db.session.rollback()
        return render("parents/error.html", code=400, status=400, token=token, lang=chosen_language())
    data, errors = load_form(ParentObservationSchema(), request.form)
    values = request.form.to_dict()
    if data is None:
        db.session.rollback()
        return _parent_page(link, token, status=422, day_id=day_id, values=values,
                            errors={k: [str(m) for m in v] for k, v in errors.items()})
    try:
        with acting_as(Actor(user_id=None, device_id=f"parent-link:{link.id}", via="parent")):
            record_observation(link, day_id, data, language=current_language(), today=clock.today())
        db.session.commit()
    except NoSuchDay:
        return _not_valid()
    except ObservationError as exc:
        db.session.rollback()
        return _parent_page(link, token, status=exc.status, day_id=day_id, values=values, errors=exc.errors)
    number = next(d.day_number for d in link.trial.days if d.id == day_id)
    return redirect(url_for("parents.progress_page", token=token, lang=chosen_language(), saved=number,
                            _anchor=f"day-{number}"), code=303)


@bp.after_app_request
def _public_headers(response: Response) -> Response:
    if request.path.startswith(PUBLIC_PREFIX):
        response.headers.update(PUBLIC_HEADERS)
    return response
