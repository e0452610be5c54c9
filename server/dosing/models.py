"""Dosing: dose plans, the administration record, the ward schedule and post-dose monitoring.

The current plan of a day lives on `TrialDay` (planned dose, time, status, revision); every change to it,
and every edit refused because it started from a stale revision, is kept in `DosePlanChange`, so both
versions of a clash stay visible.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    exists,
    false,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..trials.models import TrialDay
from ..web import clock
from ..web.types import UTCDateTime

ROUTES = {"catheter": "Intrathecal catheter", "lumbar_puncture": "Lumbar puncture"}
PLAN_ACTIONS = {"plan": "Planned", "hold": "Held", "cancel": "Cancelled", "resume": "Resumed"}
DAY_STATUSES = {"planned": "Planned", "held": "Held", "cancelled": "Cancelled"}
DOSE_RECORD_STATUSES = {"given": "Given", "entered_in_error": "Entered in error"}


class DoseAdministration(Audited, db.Model):  # type: ignore[name-defined]
    """One version of the record of the bolus given on a trial day. Append-only, like assessments: a
    correction (time, amount, checker) or "entered in error" is a new version that supersedes this one, with
    a reason; this row is never updated. A day's versions form one chain (`version` 1, 2, ...): the latest
    is the day's record, and the day has a dose given when that latest version says "given"
    (`current_given()`)."""

    __tablename__ = "dose_administrations"
    __table_args__ = (UniqueConstraint("trial_day_id", "version", name="dose_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("dose_administrations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="given", server_default="given")
    correction_reason: Mapped[str | None] = mapped_column(Text)  # why this version replaces the one before
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the ward: doses given lately
    dose_mcg: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    volume_ml: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    concentration_mcg_per_ml: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    route: Mapped[str] = mapped_column(String(24))  # a key of ROUTES
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    trial_day: Mapped[TrialDay] = relationship()
    given_by: Mapped[User] = relationship(foreign_keys=[given_by_id])
    checked_by: Mapped[User] = relationship(foreign_keys=[checked_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def route_label(self) -> str:
        return ROUTES.get(self.route, self.route)

    @property
    def is_given(self) -> bool:
        return self.status == "given"

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None


def current_given() -> ColumnElement[bool]:
    """WHERE clause: the latest version of a day's dose record, when it says the dose was given. Every read of
    "the dose given on a day" uses this, so a correction or an entry in error shows everywhere at once."""
    newer = _newer_dose()
    return (DoseAdministration.status == "given") & ~exists().where(newer.supersedes_id == DoseAdministration.id)


@cache
def _newer_dose() -> Any:
    """One alias for every `current_given()`: making one copies every column, each time."""
    return aliased(DoseAdministration)


class DosePlanChange(Audited, db.Model):  # type: ignore[name-defined]
    """One change to a day's plan (set, hold, cancel, resume), or a refused edit kept as a conflict copy."""

    __tablename__ = "dose_plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # a key of PLAN_ACTIONS
    outcome: Mapped[str] = mapped_column(String(16))  # "applied" or "conflict" (not applied: stale revision)
    base_revision: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int | None] = mapped_column(Integer)  # the day's revision this produced; None if conflict
    planned_dose_mcg: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why held or cancelled
    override_reason: Mapped[str | None] = mapped_column(Text)  # why above the ceiling
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[User] = relationship()

    @property
    def is_conflict(self) -> bool:
        return self.outcome == "conflict"


class Observation(Audited, db.Model):  # type: ignore[name-defined]
    """One set of nursing observations after (or before) a bolus. Append-only; may come from the outbox.

    Like an assessment, the row is the clinical record: the audit trail keeps who/when/which, not the values.
    """

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_overdose_sign", "overdose_sign", "trial_day_id"),)
    __audit_redact__ = frozenset({"heart_rate", "resp_rate", "spo2", "bp_systolic", "bp_diastolic",
                                  "temperature_c", "sedation_score", "pain_score", "effects", "notes",
                                  "overdose_sign"})

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    entry_id: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone (crypto.randomUUID())
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the child was observed
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # saved on the device (device clock)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)  # reached the server
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    resp_rate: Mapped[int | None] = mapped_column(Integer)
    spo2: Mapped[int | None] = mapped_column(Integer)
    bp_systolic: Mapped[int | None] = mapped_column(Integer)
    bp_diastolic: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    sedation_score: Mapped[int | None] = mapped_column(Integer)
    pain_score: Mapped[int | None] = mapped_column(Integer)
    effects: Mapped[list[Any]] = mapped_column(JSON, default=list)  # keys of vitals.ADVERSE_EFFECTS
    notes: Mapped[str | None] = mapped_column(Text)
    # These values carry an overdose sign for the child's age when taken (`vitals.assess`): set when recorded,
    # worked out again when the child's date of birth is corrected. What lets the ward find open escalations
    # through an index instead of reading every observation ever taken (dosing.services.open_escalations).
    overdose_sign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    author: Mapped[User] = relationship()


class EscalationResponse(Audited, db.Model):  # type: ignore[name-defined]
    """A nurse's or neurosurgeon's record that an escalation-level flag (overdose signs, brief 5.3) was acted
    on: who acted, when, what was done. It answers the flagged observations named in `observation_ids`, which
    were on screen when it was recorded; an overdose sign charted later opens a new escalation. Append-only."""

    __tablename__ = "escalation_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    observation_ids: Mapped[list[int]] = mapped_column(JSON)
    acted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    acted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action_taken: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    acted_by: Mapped[User] = relationship(foreign_keys=[acted_by_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
