from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited, scoped_by
from ..extensions import db
from ..web import clock
from ..web.types import UTCDateTime

TONE_TYPES = {"spastic": "Spastic", "dystonic": "Dystonic", "mixed": "Mixed (spastic and dystonic)",
              "unclassified": "Not yet classified (HAT pending)"}
TRIAL_STATUSES = {"planned": "Planned", "active": "Active", "completed": "Completed", "stopped": "Stopped early"}
OUTCOMES = {"candidate": "Candidate for a pump", "not_candidate": "Not a candidate",
            "inconclusive": "Inconclusive"}


class Patient(Audited, db.Model):  # type: ignore[name-defined]
    """A child. Mutable (a weight measured again, a typo corrected): edits name the revision they started from."""

    __tablename__ = "patients"
    __table_args__ = (CheckConstraint("gmfcs_level BETWEEN 1 AND 5", name="gmfcs_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date] = mapped_column(Date)
    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(5, 1))  # the latest weight: what every dose check uses
    weight_measured_on: Mapped[date] = mapped_column(Date)
    gmfcs_level: Mapped[int] = mapped_column(Integer)
    diagnosis: Mapped[str] = mapped_column(String(200))
    tone_type: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # edits name the one they began at
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    trials: Mapped[list[Trial]] = relationship(back_populates="patient", order_by="Trial.start_date")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_years(self, on: date) -> int:
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


class Trial(Audited, db.Model):  # type: ignore[name-defined]
    """One admission for an ITB trial. Mutable: edits name the revision they started from."""

    __tablename__ = "trials"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)  # the ward: the active ones
    bed: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    catheter_placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    small_child: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    patient: Mapped[Patient] = relationship(back_populates="trials")
    days: Mapped[list[TrialDay]] = relationship(back_populates="trial", order_by="TrialDay.day_number",
                                                cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in ("planned", "active")

    def day_on(self, day: date) -> TrialDay | None:
        return next((d for d in self.days if d.date == day), None)


class TrialDay(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "trial_days"
    __table_args__ = (UniqueConstraint("trial_id", "day_number", name="trial_day_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    day_number: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date, index=True)
    planned_dose_mcg: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Set by server/dosing: "planned", "held" or "cancelled", with the reason (history in dose_plan_changes).
    dose_status: Mapped[str] = mapped_column(String(16), default="planned", server_default="planned")
    dose_status_reason: Mapped[str | None] = mapped_column(Text)

    trial: Mapped[Trial] = relationship(back_populates="days")


scoped_by(patient=Patient, trial=Trial, day=TrialDay)  # every audit row names its trial and child
