"""The signed-in user for this request: a server-side session, looked up and checked on every request.

The signed cookie (`itb_session`) holds the user id, the user's `session_version` and a random session token;
the `user_sessions` table holds the token's SHA-256. A request is signed in only while that row exists, belongs to
the user, has not ended (sign-out ends it), has been used within SESSION_HOURS (idle lifetime) and began less than
SESSION_MAX_HOURS ago (absolute lifetime), and the user is active with the same `session_version`. So a cookie
copied before sign-out opens nothing afterwards, and no amount of use keeps a sign-in alive past its maximum.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session
from sqlalchemy import delete, update

from ..audit.context import Actor, set_actor
from ..extensions import db, write_aside
from ..web import clock
from .models import User, UserSession

DEVICE_HEADER = "X-Device-Id"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session


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


def _digest(token: object) -> str | None:
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _idle() -> timedelta:
    return current_app.permanent_session_lifetime


def _absolute() -> timedelta:
    return timedelta(hours=int(current_app.config["SESSION_MAX_HOURS"]))


def alive(row: UserSession, now: datetime) -> bool:
    return row.ended_at is None and now < row.created_at + _absolute() and now < row.last_seen_at + _idle()


def _end_current(now: datetime) -> None:
    digest = _digest(session.get("sid"))
    if digest is not None:
        db.session.execute(update(UserSession).where(UserSession.id == digest, UserSession.ended_at.is_(None))
                           .values(ended_at=now))


def sign_in(user: User) -> None:
    """Start a new session for `user` (ending the one this browser had: no fixation). The caller commits."""
    now = clock.now()
    _end_current(now)
    # Sessions long past their maximum are of no use to anyone: a few are swept out at each sign-in.
    db.session.execute(delete(UserSession).where(UserSession.created_at < now - _absolute() - timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id, created_at=now,
                               last_seen_at=now))
    db.session.flush()
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["sid"] = token
    g.user = user


def sign_out() -> None:
    """End this browser's session on the server (a copy of the cookie opens nothing afterwards). The caller
    commits."""
    _end_current(clock.now())
    session.clear()


def _touch(digest: str, now: datetime) -> None:
    """Record that the session was used (in a page view, on a connection of its own: extensions.write_aside)."""
    write_aside(update(UserSession.__table__).where(UserSession.__table__.c.id == digest).values(last_seen_at=now))


def _session_user() -> User | None:
    uid = session.get("uid")
    digest = _digest(session.get("sid"))
    if not isinstance(uid, int) or digest is None:
        return None
    row = db.session.get(UserSession, digest)
    now = clock.now()
    if row is None or row.user_id != uid or not alive(row, now):
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or session.get("sv") != user.session_version:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        _touch(digest, now)
    return user


def _drop_sign_in() -> None:
    """Forget an ended sign-in, but keep the session's CSRF token: a page's requests still in flight with the
    old cookie (a poll, the outbox) must not wipe the token of the sign-in form that was just served, or that
    form is refused with 400. sign_in() starts a fresh session (and token) anyway."""
    for key in ("uid", "sv", "sid"):
        session.pop(key, None)


def _load_user() -> None:
    g.user = None
    if request.endpoint == "static":  # assets are the same for everyone: no session read, no query
        return
    if session.get("uid") is not None and not request.path.startswith("/p/"):  # a parent's page: never a staff user
        g.user = _session_user()
        if g.user is None:
            _drop_sign_in()
    set_actor(Actor(user_id=g.user.id if g.user else None, device_id=device_header(), via="web"))


def _forget_actor(_exc: BaseException | None) -> None:
    """The request's actor ends with it: nothing written later on this thread (a worker's next job, a test's
    own setup) is put down to this user."""
    set_actor(None)


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.teardown_request(_forget_actor)

    @app.context_processor
    def _inject_user() -> dict[str, object]:
        return {"current_user": g.get("user")}
