"""PT assessments: the per-trial plan (mutable, with a revision) and the assessment records (append-only)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ColumnElement, ForeignKey, Integer, String, Text, exists, false
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..trials.models import Trial, TrialDay
from ..web import clock
from ..web.types import UTCDateTime
from .instruments import PHASES


class AssessmentPlan(Audited, db.Model):  # type: ignore[name-defined]
    """Which muscle groups, joints and tests apply to this child: chosen at the first baseline, then reused."""

    __tablename__ = "assessment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), unique=True)
    items: Mapped[list[str]] = mapped_column(JSON)  # item ids, e.g. "mas.hip_adductors"
    revision: Mapped[int] = mapped_column(Integer, default=1)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    trial: Mapped[Trial] = relationship()


class Assessment(Audited, db.Model):  # type: ignore[name-defined]
    """One version of one PT assessment. Never updated: a correction is a new row that supersedes this one.

    The row is the clinical record, so the audit trail keeps who/when/which and leaves the values here.
    """

    __tablename__ = "assessments"
    __table_args__ = (CheckConstraint("phase IN ('baseline', 'post_dose')", name="phase"),)
    __audit_redact__ = frozenset({"values", "not_tested", "notes"})

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)  # the server's
    # Made on the phone; unique, so it is also the insert sentinel that lets the ORM save a sync batch with one
    # multi-row INSERT ... RETURNING on SQLite, which has no implicit sentinel.
    entry_id: Mapped[str] = mapped_column(String(36), unique=True, insert_sentinel=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer, default=1)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)  # form field name -> grade (str) or number
    not_tested: Mapped[dict[str, Any]] = mapped_column(JSON)  # item id -> {"sides": [...], "reason": "..."}
    notes: Mapped[str | None] = mapped_column(Text)
    # Version chain: version 1 has no first_version_id; each correction names the version it replaces.
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_version_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), unique=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    # A post-dose assessment saved before any dose record reached the server (kept, and flagged).
    saved_before_dose_record: Mapped[bool] = mapped_column(Boolean, default=False)
    # The PT meant a second assessment of this day and phase (e.g. a second post-dose at 6 h).
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The PT confirmed a baseline made after the day's dose (or a post-dose made before it) as it stands, so
    # the comparison may use it. Carried to every later version of the assessment.
    timing_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    trial: Mapped[Trial] = relationship()
    trial_day: Mapped[TrialDay] = relationship()
    author: Mapped[User] = relationship()
    # A correction's first version (whose phone time is when the child was assessed), loaded with a list of
    # current versions (`current_assessments_of`) so a page does not query it for each correction.
    first_version: Mapped[Assessment | None] = relationship(remote_side=[id], foreign_keys=[first_version_id],
                                                            viewonly=True)

    @property
    def chain_id(self) -> int:
        return self.first_version_id or self.id

    @property
    def phase_label(self) -> str:
        return PHASES.get(self.phase, self.phase)


def latest_version() -> ColumnElement[bool]:
    """WHERE clause: the latest version of an assessment (no correction supersedes it). A NOT EXISTS probe of
    the unique `supersedes_id` index per row, so its cost follows the rows read, not the size of the table."""
    newer = _newer_assessment()
    return ~exists().where(newer.supersedes_id == Assessment.id)


@cache
def _newer_assessment() -> Any:
    """One alias for every `latest_version()`: making one copies every column, each time."""
    return aliased(Assessment)
