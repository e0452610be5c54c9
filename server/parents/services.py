"""Parent links: the one write path (make, revoke, mark as seen) and the lookup by token.

The token is `secrets.token_urlsafe(32)` (256 random bits). Only its SHA-256 hash is stored, so a copy of the
database (or of the audit log, where the hash is redacted too) cannot open a child's page. Links are looked up
by that hash, so raw tokens are never compared.

Like every service these flush and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db, write_aside
from ..trials.models import Trial
from ..web import clock
from ..web.forms import Refused
from .models import ParentLink
from .schemas import EXPIRY_DAYS, EXPIRY_MESSAGE

TOKEN_BYTES = 32  # 256 bits
# What token_urlsafe makes (43 characters for 32 bytes); anything else is refused before any lookup.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


class ParentLinkError(Refused):
    """Refused input, with messages by form field ("_form" for the whole form). Nothing was written."""


@dataclass(frozen=True)
class NewLink:
    """A link just made, with its token: the only time the token exists outside the parent's phone."""

    link: ParentLink
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def links_for(trial_id: int) -> list[ParentLink]:
    """The trial's links, newest first."""
    return list(db.session.scalars(select(ParentLink).where(ParentLink.trial_id == trial_id).options(
        selectinload(ParentLink.created_by)).order_by(ParentLink.created_at.desc(), ParentLink.id.desc())))


def create_link(trial_id: int, data: dict[str, Any], *, author_id: int, now: datetime | None = None) -> NewLink:
    """A new link to the trial for `data["label"]`, working for `data["expires_in_days"]` days."""
    trial = db.session.get(Trial, trial_id)
    if trial is None:
        raise ParentLinkError({"_form": ["No such trial."]})
    days = data["expires_in_days"]
    if days not in EXPIRY_DAYS:
        raise ParentLinkError({"expires_in_days": [EXPIRY_MESSAGE]})
    now = now or clock.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ParentLink(trial_id=trial.id, token_hash=hash_token(token), label=data["label"], created_by_id=author_id,
                      created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(link)
    db.session.flush()
    return NewLink(link, token)


def revoke_link(trial_id: int, link_id: int, *, author_id: int, now: datetime | None = None) -> ParentLink | None:
    """Stop the link working at once. None when the trial has no such link. Revoking twice changes nothing."""
    link = db.session.get(ParentLink, link_id)
    if link is None or link.trial_id != trial_id:
        return None
    if link.revoked_at is None:
        link.revoked_at = now or clock.now()
        link.revoked_by_id = author_id
        db.session.flush()
    return link


def open_link(token: str, now: datetime | None = None) -> ParentLink | None:
    """The link for `token` if it works now (known, not expired, not revoked), marked as seen; else None.

    Seeing is recorded in `last_seen_at` (at most once a minute) by a plain UPDATE, not as an audit event: it
    is a read, like a staff member opening a page, and the audit log records changes.
    """
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    now = now or clock.now()
    link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
    if link is None or link.status_at(now) != "active":
        return None
    if link.last_seen_at is None or link.last_seen_at <= now - SEEN_EVERY:
        write_aside(update(ParentLink.__table__).where(
            ParentLink.__table__.c.id == link.id,
            or_(ParentLink.__table__.c.last_seen_at.is_(None), ParentLink.__table__.c.last_seen_at <= now - SEEN_EVERY),
        ).values(last_seen_at=now))
    return link


def form_token(link: ParentLink) -> str:
    """The CSRF token of the parent's forms, tied to the link (the parent's page makes no session): an HMAC of
    the link's stored hash under the app's secret key. A page of another site cannot know it, and it changes
    with nothing but the link."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, b"parent-form:" + link.token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def form_token_ok(link: ParentLink, sent: object) -> bool:
    """Constant-time check of a posted form token; never raises."""
    if not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(form_token(link).encode("ascii"), sent.encode("utf-8", "replace"))
