"""The signed-in user for this request, loaded from the session cookie and checked against the database."""

from __future__ import annotations

from flask import Flask, g, request, session

from ..audit.context import Actor, set_actor
from ..extensions import db
from .models import User

DEVICE_HEADER = "X-Device-Id"


def device_header() -> str | None:
    """The phone's id from the X-Device-Id header (made by app.js: a UUID), kept only if it is printable ASCII
    of at most 64 characters; anything else (a NUL, a control character) is no id at all."""
    raw = request.headers.get(DEVICE_HEADER) or ""
    if not raw or len(raw) > 64 or not raw.isascii() or not raw.isprintable():
        return None
    return raw


def current_user() -> User | None:
    return g.get("user")


def current_user_id() -> int:
    """The signed-in user's id, in a view that `roles_required` guards (so there is one)."""
    user = current_user()
    if user is None:
        raise RuntimeError("current_user_id() needs a signed-in user: guard the view with roles_required")
    return int(user.id)


def sign_in(user: User) -> None:
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version
    g.user = user


def sign_out() -> None:
    session.clear()


def _load_user() -> None:
    g.user = None
    if request.endpoint == "static":  # assets are the same for everyone: no session read, no query
        return
    uid = session.get("uid")
    if uid is not None:
        user = db.session.get(User, uid)
        if user is not None and user.active and session.get("sv") == user.session_version:
            g.user = user
        else:
            session.clear()
    set_actor(Actor(user_id=g.user.id if g.user else None, device_id=device_header(), via="web"))


def init_app(app: Flask) -> None:
    app.before_request(_load_user)

    @app.context_processor
    def _inject_user() -> dict[str, object]:
        return {"current_user": g.get("user")}
