"""A parent link: a private, read-only, expiring and revocable link to one child's trial progress.

Only the SHA-256 hash of the link's token is stored (and never copied into the audit log); the token itself
is shown once, to the staff member who made the link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..trials.models import Trial
from ..web.types import UTCDateTime, utcnow

LINK_STATUSES = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}


class ParentLink(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "parent_links"
    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex of the token
    label: Mapped[str] = mapped_column(String(60))  # who it is for, e.g. "Mum"
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    trial: Mapped[Trial] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def status_at(self, now: datetime) -> str:
        """A key of LINK_STATUSES: revoked wins over expired."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"

    @property
    def status(self) -> str:
        return self.status_at(utcnow())
