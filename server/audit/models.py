from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..web import clock
from ..web.types import UTCDateTime


class AuditEvent(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_events"
    # The viewer's filters read the newest events of a trial, a child or a person first (audit/queries.py):
    # each has an index on (that column, time), so a page and its capped count read at most what they show.
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),
                      Index("ix_audit_events_trial_at", "trial_id", "at"),
                      Index("ix_audit_events_patient_at", "patient_id", "at"),
                      Index("ix_audit_events_actor_at", "actor_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column()
    device_id: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # create / update / delete
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Whose record it is, so a reviewer can ask "what happened to this child / this trial": filled in by the
    # flush hook from the record (its trial, its trial day's trial, the trial's patient); None for staff accounts.
    trial_id: Mapped[int | None] = mapped_column()
    patient_id: Mapped[int | None] = mapped_column()
