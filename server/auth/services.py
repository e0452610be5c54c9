"""Staff accounts and sign-in: the one write path for users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..web.types import utcnow
from .models import LoginAttempt, User
from .passwords import dummy_verify, hash_password, verify_password


class AuthError(Exception):
    """Sign-in refused. The message is the same whatever the reason, apart from throttling."""


class Throttled(AuthError):
    pass


class StaffError(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


GENERIC_FAILURE = "Username or password is not right."


def _recent_failures(column: Any, value: str) -> int:
    window = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.at >= window, LoginAttempt.success.is_(False))
    ) or 0


def authenticate(username: str, password: str, address: str) -> User:
    username = username.strip().lower()
    cfg = current_app.config
    if (_recent_failures(LoginAttempt.username, username) >= cfg["LOGIN_MAX_FAILURES"]
            or _recent_failures(LoginAttempt.address, address) >= cfg["LOGIN_MAX_FAILURES_PER_IP"]):
        raise Throttled(f"Too many failed attempts. Wait {cfg['LOGIN_WINDOW_MINUTES']} minutes and try again.")
    user = db.session.scalar(select(User).where(User.username == username))
    stored, active = (user.password_hash, user.active) if user is not None else (None, False)
    db.session.commit()  # end the read: the slow hash below holds no lock (on SQLite, not the write lock)
    if stored is None:
        dummy_verify(password)
        ok = False
    else:
        ok = verify_password(stored, password) and active
    db.session.add(LoginAttempt(username=username[:64], address=address[:64], success=ok))
    db.session.commit()
    if not ok or user is None:
        raise AuthError(GENERIC_FAILURE)
    return user


def create_staff(data: dict[str, Any]) -> User:
    username = data["username"].lower()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise StaffError({"username": ["That username is taken."]})
    user = User(username=username, display_name=data["display_name"],
                password_hash=hash_password(data["password"]), active=True, session_version=1)
    user.roles = set(data["roles"])
    db.session.add(user)
    db.session.flush()
    return user


def set_roles(user: User, roles: set[str]) -> User:
    user.roles = roles
    user.session_version += 1  # new roles take effect at the next sign-in
    db.session.flush()
    return user


def set_active(user: User, active: bool) -> User:
    user.active = active
    user.session_version += 1  # disabling ends every session of the user at once
    db.session.flush()
    return user
