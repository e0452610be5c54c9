"""Demo dosing data for the four demo children (server/cli.py load_demo_data calls add_demo_dosing).

Amira: day 1 today, before the dose (baseline only). Ben: day 2 today, dose given this morning and being
monitored. Chloe: day 3 today, held after a fever; yesterday's dose was monitored (one drowsy check, an
overdose sign, recorded as acted on by the nurse). Daniel:
finished trial, three doses given. Written through the services (so the demo obeys the protocol), except
Daniel's, whose trial is already closed. Flushes only: the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..audit.context import Actor, acting_as
from ..auth.models import User
from ..extensions import db
from ..protocol import current_protocol
from ..trials.models import Patient, Trial, TrialDay
from ..web import clock
from ..web.clock import hospital_tz, local_to_utc
from .models import DoseAdministration, current_given
from .schedule import observation_offsets
from .services import (
    _add_dose,
    hold_dose,
    open_escalations,
    record_dose,
    record_escalation_response,
    record_observation,
    set_plan,
)

NORMAL = {"heart_rate": 96, "resp_rate": 22, "spo2": 98, "bp_systolic": 102, "bp_diastolic": 62,
          "temperature_c": Decimal("36.8"), "sedation_score": 0, "pain_score": 1}


def trial_by_mrn(mrn: str) -> Trial | None:
    return db.session.scalar(select(Trial).join(Patient).where(Patient.mrn == mrn).order_by(Trial.id.desc()))


def day_of(trial: Trial, number: int) -> TrialDay:
    return next(d for d in trial.days if d.day_number == number)


def _plan(day: TrialDay, mcg: str, at: time, author: int) -> None:
    set_plan(day.id, {"dose_mcg": Decimal(mcg), "planned_time": at, "base_revision": day.revision,
                      "override_reason": None}, author_id=author)


def _give(day: TrialDay, given_at: datetime, mcg: str, surgeon: int, nurse: int, now: datetime) -> None:
    local = given_at.astimezone(hospital_tz())
    record_dose(day.id, {"given_time": local.time().replace(second=0, microsecond=0), "dose_mcg": Decimal(mcg),
                         "override_reason": None, "route": "catheter", "given_by_id": surgeon,
                         "checked_by_id": nurse}, recorded_by_id=surgeon, now=now)


def _observe(day: TrialDay, at: datetime, nurse: int, now: datetime, **changes: Any) -> None:
    if at > now:
        return
    record_observation({"trial_day_id": day.id, "taken_at": None, "effects": changes.pop("effects", []),
                        "notes": changes.pop("notes", None), **NORMAL, **changes},
                       author_id=nurse, entry_id=str(uuid.uuid4()), recorded_at=at, now=now)


def add_demo_dosing(today: date | None = None, now: datetime | None = None) -> None:
    """Plans, given doses and observations for the demo children (call after their trials exist)."""
    now = now or clock.now()
    today = today or now.astimezone(hospital_tz()).date()
    staff = {u.username: u.id for u in db.session.scalars(select(User).where(User.username.in_(("surgeon", "nurse"))))}
    surgeon, nurse = staff.get("surgeon"), staff.get("nurse")
    if surgeon is None or nurse is None:
        return
    nine = time(9, 0)
    slots = [m for m, _ in observation_offsets(current_protocol())]
    with acting_as(Actor(user_id=None, via="cli")):
        amira = trial_by_mrn("DEMO-1001")
        if amira is not None:
            _plan(day_of(amira, 2), "75", nine, surgeon)
            _plan(day_of(amira, 3), "100", nine, surgeon)
            _observe(day_of(amira, 1), local_to_utc(today, time(8, 15)), nurse, now, notes="Pre-dose baseline")

        ben = trial_by_mrn("DEMO-1002")
        if ben is not None:
            # This morning's dose: 09:00, or an hour ago if the demo is loaded before 10:00.
            given = min(local_to_utc(today, nine), now - timedelta(hours=1))
            given_today = given.astimezone(hospital_tz()).date() == today
            first = given - timedelta(days=1) if given_today else local_to_utc(today - timedelta(days=1), nine)
            _give(day_of(ben, 1), first, "50", surgeon, nurse, now)
            for minutes in slots:
                _observe(day_of(ben, 1), first + timedelta(minutes=minutes), nurse, now)
            _plan(day_of(ben, 2), "75", nine, surgeon)
            if given_today:
                _give(day_of(ben, 2), given, "75", surgeon, nurse, now)
                for minutes in slots[:3]:
                    _observe(day_of(ben, 2), given + timedelta(minutes=minutes), nurse, now)
            _plan(day_of(ben, 3), "75", nine, surgeon)

        chloe = trial_by_mrn("DEMO-1003")
        if chloe is not None:
            d1, d2 = today - timedelta(days=2), today - timedelta(days=1)
            _give(day_of(chloe, 1), local_to_utc(d1, nine), "25", surgeon, nurse, now)
            _plan(day_of(chloe, 2), "50", nine, surgeon)
            second = local_to_utc(d2, nine)
            _give(day_of(chloe, 2), second, "50", surgeon, nurse, now)
            for i, minutes in enumerate(slots):  # every check so far (the last is 24 h later, this morning)
                extra: dict[str, Any] = {}
                if i == 5:
                    extra = {"sedation_score": 2, "effects": ["drowsiness"], "notes": "Sleepy, rousable to voice"}
                _observe(day_of(chloe, 2), second + timedelta(minutes=minutes), nurse, now, **extra)
            escalation = open_escalations([chloe.id]).get(chloe.id)
            if escalation is not None:  # the drowsy check was acted on a few minutes later
                acted = min(escalation.since + timedelta(minutes=10), now)
                record_escalation_response(chloe.id, {
                    "acted_by_id": nurse, "acted_at": acted, "escalation_key": escalation.key,
                    "action_taken": "Surgeon reviewed at the bedside; 1:1 nursing and 15-minute checks; rousable "
                                    "to voice, breathing normal, settled by the next check."},
                    author_id=nurse, now=now)
            day3 = day_of(chloe, 3)
            _plan(day3, "50", nine, surgeon)
            hold_dose(day3.id, {"action": "hold", "reason": "Temperature 38.4 °C this morning: review at noon.",
                                "base_revision": day3.revision}, author_id=surgeon)

        daniel = trial_by_mrn("DEMO-1004")
        if daniel is not None and not any(has_dose(d) for d in daniel.days):
            protocol = current_protocol()
            for day, mcg in zip(daniel.days, ("50", "75", "75"), strict=False):
                at = local_to_utc(day.date, nine)
                day.planned_dose_mcg, day.planned_at = Decimal(mcg), at
                _add_dose(day, given_at=at, dose=Decimal(mcg), route="catheter", given_by_id=surgeon,
                          checked_by_id=nurse, recorded_by_id=surgeon, override_reason=None, protocol=protocol)
    db.session.flush()


def has_dose(day: TrialDay) -> bool:
    return db.session.scalar(select(DoseAdministration.id).where(DoseAdministration.trial_day_id == day.id,
                                                                 current_given())) is not None
