from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from ..audit.tracking import Audited
from ..extensions import db
from ..web import clock
from ..web.types import UTCDateTime

ROLES = ("pt", "nurse", "surgeon", "admin")
ROLE_LABELS = {"pt": "Physical therapist", "nurse": "Nurse", "surgeon": "Neurosurgeon", "admin": "Admin"}


class User(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"
    __audit_redact__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Sorted, comma-separated subset of ROLES: a user may hold several.
    roles_csv: Mapped[str] = mapped_column("roles", String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on disable, role change or password change: every existing session of the user stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Set when an admin gives a temporary password: the next sign-in must choose a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r for r in self.roles_csv.split(",") if r)

    @roles.setter
    def roles(self, value: set[str] | frozenset[str] | list[str]) -> None:
        unknown = set(value) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles_csv = ",".join(r for r in ROLES if r in value)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


class LoginAttempt(db.Model):  # type: ignore[name-defined]
    """Every sign-in attempt (who, from where, when, whether it succeeded). Not audited: no clinical data."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    success: Mapped[bool] = mapped_column(Boolean)


class UserSession(db.Model):  # type: ignore[name-defined]
    """One sign-in, checked on every request: the cookie holds a random token, this table its SHA-256 (so the
    database alone cannot open a session). Ended at sign-out; dead once idle for SESSION_HOURS or older than
    SESSION_MAX_HOURS. Not audited: it holds no clinical data."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # refreshed at most once a minute
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Failed sign-ins of one username from one client address, and when the next attempt may be made.

    Updated under a row lock (SELECT ... FOR UPDATE on PostgreSQL; SQLite's writers are serialized) before the
    password is checked, so a burst of guesses is counted one by one and cannot slip past the limit."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("username", "address", name="login_throttle_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_allowed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
