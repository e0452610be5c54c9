"""Demo PT assessments for the demo children (called by `flask demo-data` after the children exist).

Ben: day 1 baseline and post-dose; Chloe: days 1-2; Daniel: days 1-3 (his trial is completed). Amira, on
day 1 today, has none, so a PT can record her first baseline. No dose records exist in the demo yet, so
the post-dose assessments are timed about 4 h after the demo dose when server/dosing's demo recorded one, and
otherwise show as "no dose recorded yet", as they would on the ward.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..dosing.schedule import reassessment
from ..dosing.services import current_dose
from ..extensions import db
from ..protocol import current_protocol
from ..trials.models import Patient, Trial, TrialDay
from ..web.clock import local_to_utc
from ..web.forms import load_form
from .instruments import LOWER_LIMB_MAS, MAS_GRADES, default_plan
from .models import Assessment, AssessmentPlan
from .schemas import schema_for
from .services import record_assessment, set_plan, trial_day

GRADES = [c.value for c in MAS_GRADES]

# mrn -> (days recorded, baseline lower-limb MAS grades left then right, MAS steps down after the dose by day)
CHILDREN: dict[str, tuple[int, list[str], list[str], list[int]]] = {
    "DEMO-1002": (1, ["2", "3", "2", "2", "1+", "3", "2"], ["2", "2", "1+", "2", "1+", "3", "2"], [1]),
    "DEMO-1003": (2, ["1+", "2", "1", "2", "1", "2", "1+"], ["1+", "1+", "1", "2", "1", "2", "1+"], [1, 2]),
    "DEMO-1004": (3, ["3", "3", "2", "3", "2", "3", "3"], ["3", "3", "2", "2", "2", "3", "2"], [1, 1, 2]),
}


def _shift(grade: str, steps: int) -> str:
    return GRADES[max(0, GRADES.index(grade) - steps)]


def _payload(trial: Trial, day_number: int, phase: str, left: list[str], right: list[str], steps: int,
             walking: bool) -> dict[str, Any]:
    post = phase == "post_dose"
    data: dict[str, Any] = {"trial_id": str(trial.id), "day_number": str(day_number), "phase": phase}
    for item_id, lg, rg in zip(LOWER_LIMB_MAS, left, right, strict=True):
        data[f"{item_id}.left"] = _shift(lg, steps) if post else lg
        data[f"{item_id}.right"] = _shift(rg, steps) if post else rg
    gain = 4 * steps if post else 0
    for side, extra in (("left", 0), ("right", 5)):
        data[f"tardieu.hamstrings.{side}.r1"] = str(75 + extra - 3 * gain)  # popliteal angle: the catch
        data[f"tardieu.hamstrings.{side}.r2"] = str(50 + extra - gain // 2)
        data[f"tardieu.hamstrings.{side}.quality"] = str(max(1, 2 - steps) if post else 2)
        data[f"tardieu.gastrocnemius.{side}.r1"] = str(-15 - extra + 2 * gain)  # dorsiflexion: the catch
        data[f"tardieu.gastrocnemius.{side}.r2"] = str(5 - extra + gain // 4)
        data[f"tardieu.gastrocnemius.{side}.quality"] = str(max(1, 3 - steps) if post else 3)
        data[f"rom.hip_abduction.{side}"] = str(25 - extra + gain)
        data[f"rom.popliteal_angle.{side}"] = str(50 + extra - gain // 2)
        data[f"rom.ankle_df_knee_extended.{side}"] = str(5 - extra + gain // 4)
        data[f"rom.ankle_df_knee_flexed.{side}"] = str(15 - extra + gain // 4)
    if walking:
        data["gait.walk_10m_seconds"] = f"{14.2 - 0.6 * steps if post else 14.2:.1f}"
    else:
        data["function.standing"] = "with_support"
        data["function.transfers"] = "assisted"
        data["function.sitting"] = "independent" if post and steps > 1 else "with_support"
    if post and day_number == 1 and trial.patient.mrn == "DEMO-1002":
        data["mas.hip_internal_rotators.not_tested"] = "both"
        data["mas.hip_internal_rotators.not_tested_reason"] = "Lying prone not tolerated after the dose"
        del data["mas.hip_internal_rotators.left"], data["mas.hip_internal_rotators.right"]
    data["notes"] = "Demo data." + (" Looser at the hips; family pleased." if post and steps > 1 else "")
    return data


def _when(day: TrialDay, phase: str) -> tuple[datetime, bool]:
    """Baseline 08:15, or 45 min before the dose on record if that was earlier (a baseline is taken before the
    dose: the demo loaded early in the day gives doses at night); post-dose 5 min after the reassessment time of
    the dose on record (4 h 05 with the default protocol), else 13:05. And whether a dose is on record."""
    dose = current_dose(day.id)
    if phase == "baseline":
        at = local_to_utc(day.date, time(8, 15))
        if dose is not None and dose.given_at <= at:
            at = dose.given_at - timedelta(minutes=45)
        return at, dose is not None
    if dose is not None:
        return reassessment(dose.given_at, current_protocol()).due + timedelta(minutes=5), True
    return local_to_utc(day.date, time(13, 5)), False


def _store(trial: Trial, day_number: int, phase: str, payload: dict[str, Any], author_id: int) -> None:
    data, errors = load_form(schema_for(payload), payload)  # type: ignore[arg-type]
    if data is None:  # pragma: no cover - the demo payloads are valid; this would be a bug here
        raise ValueError(f"invalid demo assessment: {errors}")
    day = trial_day(trial, day_number)
    assert day is not None
    recorded_at, dosed = _when(day, phase)
    if trial.is_open:
        record_assessment(data, author_id=author_id, recorded_at=recorded_at, entry_id=str(uuid.uuid4()),
                          device_id="demo")
        return
    # A finished trial takes no new assessments; these stand for what was recorded while it ran.
    if db.session.scalar(select(AssessmentPlan.id).where(AssessmentPlan.trial_id == trial.id)) is None:
        db.session.add(AssessmentPlan(trial_id=trial.id, items=default_plan(trial.patient.gmfcs_level), revision=1,
                                      chosen_by_id=author_id, updated_at=recorded_at))
    db.session.add(Assessment(
        trial_id=trial.id, trial_day_id=day.id, phase=phase, author_id=author_id, recorded_at=recorded_at,
        received_at=recorded_at, entry_id=str(uuid.uuid4()), device_id="demo", form_version=1,
        values=data["values"], not_tested=data["not_tested"], notes=data["notes"], version=1,
        saved_before_dose_record=phase == "post_dose" and not dosed))
    db.session.flush()


def add_demo_assessments(today: date | None = None, author_id: int | None = None) -> int:
    """Add the demo assessments (once: children that already have some are skipped). Returns how many.

    Flushes only: the caller (`flask demo-data`) commits, like every other write."""
    del today  # the trial days already carry their dates
    if author_id is None:
        author_id = db.session.scalar(select(User.id).where(User.username == "pt"))
        if author_id is None:
            raise ValueError("the demo PT account (pt) does not exist yet")
    added = 0
    for mrn, (days, left, right, steps_by_day) in CHILDREN.items():
        trial = db.session.scalar(select(Trial).join(Patient).where(Patient.mrn == mrn)
                                  .order_by(Trial.start_date.desc()))
        if trial is None:
            continue
        if db.session.scalar(select(func.count(Assessment.id)).where(Assessment.trial_id == trial.id)):
            continue
        walking = trial.patient.gmfcs_level <= 3
        if trial.is_open:
            set_plan(trial.id, default_plan(trial.patient.gmfcs_level), author_id=author_id)
        for day_number in range(1, days + 1):
            steps = steps_by_day[day_number - 1]
            _store(trial, day_number, "baseline", _payload(trial, day_number, "baseline", left, right, 0, walking),
                   author_id)
            _store(trial, day_number, "post_dose",
                   _payload(trial, day_number, "post_dose", left, right, steps, walking), author_id)
            added += 2
    db.session.flush()
    return added
