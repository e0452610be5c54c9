"""Sign-in and passwords: the one write path for a user's own password and sessions.

The account rules an admin applies (new accounts, roles, disabling, temporary passwords) live in admin/services.py,
which uses `set_password`, `end_sessions` and `password_refused` from here.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..web import clock
from ..web.forms import Refused
from .models import LoginAttempt, LoginThrottle, User, UserSession
from .passwords import dummy_verify, hash_password, verify_password
from .policy import password_problems


class AuthError(Exception):
    """Sign-in refused. The message is the same whatever the reason, apart from throttling."""


class Throttled(AuthError):
    def __init__(self, message: str, retry_after: float = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StaffError(Refused):
    """A staff-account change refused, with messages by field ("_form" for the whole form)."""


GENERIC_FAILURE = "Username or password is not right."
# How long each sign-in attempt is kept (login_attempts: who, from where, when, whether it worked), for looking
# into a run of guesses; older rows are deleted at a successful sign-in.
ATTEMPTS_KEPT = timedelta(days=90)


def failure_delay(failures: int) -> timedelta:
    """How long the next attempt waits after `failures` failed sign-ins in a row (one username, one address):
    none for the first LOGIN_MAX_FAILURES, then LOGIN_DELAY_SECONDS, doubling with each further failure, never
    more than LOGIN_WINDOW_MINUTES. A delay, never a lock: the right password works once it has passed."""
    cfg = current_app.config
    over = failures - int(cfg["LOGIN_MAX_FAILURES"])
    if over < 0:
        return timedelta(0)
    cap = timedelta(minutes=int(cfg["LOGIN_WINDOW_MINUTES"]))
    return min(timedelta(seconds=int(cfg["LOGIN_DELAY_SECONDS"]) * 2 ** min(over, 30)), cap)


def _throttle_row(username: str, address: str, now: datetime) -> LoginThrottle:
    """The (username, address) row, made if missing, and locked for this transaction."""
    values = {"username": username, "address": address, "failures": 0, "next_allowed_at": now, "updated_at": now}
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(pg_insert(LoginThrottle).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db.session.execute(sqlite_insert(LoginThrottle).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL
        raise RuntimeError(f"unsupported database {dialect}")
    return db.session.scalars(select(LoginThrottle).where(
        LoginThrottle.username == username, LoginThrottle.address == address)
        .with_for_update().execution_options(populate_existing=True)).one()


def _wait_message(seconds: float) -> str:
    wait = max(1, math.ceil(seconds))
    amount = f"{wait} seconds" if wait < 120 else f"{math.ceil(wait / 60)} minutes"
    return f"Too many failed attempts. Wait {amount} and try again."


def authenticate(username: str, password: str, address: str) -> User:
    """Check a sign-in. Throttling is by (username, client address): after LOGIN_MAX_FAILURES failures in a row,
    each attempt waits a growing delay (failure_delay). The attempt is counted as a failure under a row lock
    *before* the password is checked (and undone on success), so simultaneous guesses are counted one by one.
    The password is checked outside any transaction; an unknown username costs the same one verification."""
    username = username.strip().lower()[:64]
    address = (address or "?")[:64]
    window = timedelta(minutes=int(current_app.config["LOGIN_WINDOW_MINUTES"]))
    row = _throttle_row(username, address, clock.now())
    now = clock.now()  # after the lock: a request that waited for it must not read the time from before the wait
    if now < row.next_allowed_at:
        wait = (row.next_allowed_at - now).total_seconds()
        db.session.commit()
        raise Throttled(_wait_message(wait), retry_after=wait)
    recent = row.last_failure_at is not None and row.last_failure_at > now - window
    row.failures = (row.failures if recent else 0) + 1  # counted as a failure until the password proves right
    row.last_failure_at = now
    row.next_allowed_at = now + failure_delay(row.failures)
    row.updated_at = now
    user = db.session.scalar(select(User).where(User.username == username))
    stored, active = (user.password_hash, user.active) if user is not None else (None, False)
    db.session.commit()  # the claim is counted; the slow hash below holds no lock
    # An unknown username costs the same one verification as a known one.
    ok = dummy_verify(password) if stored is None else (verify_password(stored, password) and active)
    if ok:
        db.session.execute(update(LoginThrottle).where(
            LoginThrottle.username == username, LoginThrottle.address == address).values(
            failures=0, last_failure_at=None, next_allowed_at=now, updated_at=now))
        # Rows of failures long past are of no use: a few are swept out at each successful sign-in, with the
        # record of attempts older than ATTEMPTS_KEPT.
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - window - timedelta(days=1)))
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    db.session.commit()
    if not ok or user is None:
        raise AuthError(GENERIC_FAILURE)
    return user


def lift_sign_in_delay(username: str) -> None:
    """Forget the failed sign-ins of `username` from every address: the next attempt is not delayed."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))


def password_refused(password: str, username: str, field: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise StaffError({field: problems})


def end_sessions(user: User, now: datetime) -> None:
    """Every sign-in of `user` ends now: the rows are closed and the version in their cookies no longer matches."""
    user.session_version += 1
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                       .values(ended_at=now))


def set_password(user: User, password: str, field: str, *, temporary: bool) -> None:
    """The new password, if the policy allows it (a refusal goes beside `field`); every sign-in of the user
    ends. `temporary`: set by an admin, to be changed at the next sign-in."""
    password_refused(password, user.username, field)
    now = clock.now()
    user.password_hash = hash_password(password)
    user.must_change_password = temporary
    user.password_changed_at = now
    end_sessions(user, now)


def change_own_password(user: User, current: str, new: str) -> User:
    """A user changes their own password (also the forced change after a temporary one): the current password
    must be right, the new one must differ from it and pass the policy. Every sign-in of the user ends; the
    caller starts a new one for the browser that made the change."""
    if not verify_password(user.password_hash, current):
        raise StaffError({"current_password": ["That is not your current password."]})
    if new == current:
        raise StaffError({"new_password": ["Choose a new password, not the current one again."]})
    set_password(user, new, "new_password", temporary=False)
    db.session.flush()
    return user


def users_by_id(ids: set[int]) -> dict[int, User]:
    """Staff accounts by id, for pages and exports that name who did what (one query)."""
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
