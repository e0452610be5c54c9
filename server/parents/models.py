"""A parent link: a private, expiring and revocable link to one child's trial progress, and what the family
tells the team through it (a daily observation).

Only the SHA-256 hash of the link's token is stored (and never copied into the audit log); the token itself
is shown once, to the staff member who made the link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..trials.models import Trial, TrialDay
from ..web import clock
from ..web.types import UTCDateTime

LINK_STATUSES = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}


class ParentLink(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "parent_links"
    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex of the token
    label: Mapped[str] = mapped_column(String(60))  # who it is for, e.g. "Mum"
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
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
        return self.status_at(clock.now())


# The four questions of a parent's daily observation, each answered on a 5-point scale (1 = worst, 5 = best);
# the words for each point are in observations.SCALES (translated on the parent's page).
OBSERVATION_SCALES = ("comfort", "sleep", "care", "movement")
SCALE_MIN, SCALE_MAX = 1, 5
NOTE_MAX = 1000


class ParentObservation(Audited, db.Model):  # type: ignore[name-defined]
    """One family member's observation of one trial day, through their link (one per link and day). Editable by
    them until the team records the day's decision; kept as it was after that. Audited with the link's id."""

    __tablename__ = "parent_observations"
    __table_args__ = (UniqueConstraint("trial_day_id", "link_id", name="parent_observation_day_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("parent_links.id"), index=True)
    comfort: Mapped[int | None] = mapped_column(SmallInteger)
    sleep: Mapped[int | None] = mapped_column(SmallInteger)
    care: Mapped[int | None] = mapped_column(SmallInteger)  # ease of care: dressing, bathing, changing
    movement: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)  # the parent's own words, at most NOTE_MAX characters
    language: Mapped[str] = mapped_column(String(8))  # the language of the page it was written on
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    day: Mapped[TrialDay] = relationship()
    link: Mapped[ParentLink] = relationship()
