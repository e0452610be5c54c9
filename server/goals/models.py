"""A trial's goals (agreed with the family before the first test dose) and their rating on each trial day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..auth.models import User
from ..extensions import db
from ..web import clock
from ..web.types import UTCDateTime

WEIGHTS = {1: "Important", 2: "Very important", 3: "Most important"}


class Goal(Audited, db.Model):  # type: ignore[name-defined]
    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("trial_id", "position", name="goal_position"),
                      CheckConstraint("weight BETWEEN 1 AND 3", name="goal_weight"))

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1..gas_max_goals, the order agreed with the family
    description: Mapped[str] = mapped_column(Text)  # the goal in the family's words, with what "expected" means
    weight: Mapped[int] = mapped_column(Integer, default=1)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class GoalRating(Audited, db.Model):  # type: ignore[name-defined]
    """How far one goal was attained on one trial day (-2..+2). One per goal and day; a re-rating updates it
    (audited)."""

    __tablename__ = "goal_ratings"
    __table_args__ = (UniqueConstraint("goal_id", "trial_day_id", name="goal_day"),
                      CheckConstraint("score BETWEEN -2 AND 2", name="gas_score"))

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    trial_day_id: Mapped[int] = mapped_column(ForeignKey("trial_days.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    rated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    rated_by: Mapped[User] = relationship()
