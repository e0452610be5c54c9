"""A trial day's team decision: how the dose worked, what happens next, why, and who took part.

Mutable with a revision (an edit names the revision it started from); every change is audited. The next
day's dose it sets is written through the dosing service, so the plan's rules and history apply to it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..trials.models import TrialDay
from ..web import clock
from ..web.types import UTCDateTime

# How the team judged the day's dose (clinical-brief §1.5: escalate for an inadequate response, de-escalate
# for an over-response such as loss of standing or foot drop).
EFFECTS = {
    "inadequate": "Inadequate: too little change in tone",
    "good": "Good: the change the team hoped for",
    "over_response": "Over-response: too weak or floppy (e.g. lost standing, foot drop)",
    "not_judged": "Could not be judged (e.g. dose held, child unwell)",
}
NEXT_STEPS = {
    "escalate": "Escalate: a higher dose tomorrow",
    "repeat": "Repeat the same dose tomorrow",
    "de_escalate": "De-escalate: a lower dose tomorrow",
    "end": "No more test doses: decide candidacy",
    "stop": "Stop the trial early",
}
TEAM_ROLES = {"surgeon": "Neurosurgeon", "pt": "Physical therapist", "nurse": "Nurse", "other": "Other team member"}


class DayDecision(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "day_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    effect: Mapped[str] = mapped_column(String(16))
    next_step: Mapped[str] = mapped_column(String(16))
    next_dose_mcg: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    # The effect of the day's dose as the team judged it: when it began (hours after the dose) and how long it
    # lasted (hours); the label's starting pump dose depends on the duration. Bounds: Protocol.effect_*.
    effect_onset_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    effect_duration_hours: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    rationale: Mapped[str] = mapped_column(Text)
    team_present: Mapped[list[str]] = mapped_column(JSON)  # TEAM_ROLES keys
    parents_present: Mapped[bool] = mapped_column(Boolean, default=False)
    parents_view: Mapped[str | None] = mapped_column(Text)  # what the parents said, in their words
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    day: Mapped[TrialDay] = relationship()
    decided_by: Mapped[User] = relationship()
