"""Dosing: the one write path (HTML forms and the outbox replay call these) and the ward's read models.

Every rule of the protocol is checked here, so no caller can skip one. A refused write raises DosingError
with messages by form field and writes nothing; an edit that started from a stale revision raises
PlanConflict after adding the refused version (both versions stay visible: the caller commits it).
Like every service these flush and never commit: the caller (a view, the sync endpoint, the CLI) owns the
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true, union
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..extensions import db
from ..protocol import Protocol, current_protocol, format_mcg
from ..trials.models import TRIAL_STATUSES, Patient, Trial, TrialDay
from ..trials.services import before_trial_message, date_of_birth_corrected
from ..web import clock
from ..web.clock import hospital_tz, local_label, local_to_utc
from ..web.forms import Refused
from . import schedule
from .models import DoseAdministration, DosePlanChange, EscalationResponse, Observation, current_given
from .vitals import (
    ADVERSE_EFFECTS,
    OVERDOSE_EFFECTS,
    Flag,
    age_in_months,
    assess,
)

CLINICAL_ROLES = ("nurse", "surgeon")
FUTURE_SLACK = timedelta(minutes=5)  # device clocks drift: a time this far ahead of the server is still "now"


class DosingError(Refused):
    """Refused input, with messages by form field ("_form" for the whole form). Nothing was written."""


class PlanConflict(Exception):
    """The edit started from an older revision of the plan. Nothing changed; the refused version is kept."""

    def __init__(self, day: TrialDay, mine: DosePlanChange):
        super().__init__(f"plan of trial day {day.id} is at revision {day.revision}, edit based on "
                         f"{mine.base_revision}")
        self.day = day
        self.mine = mine
        self.message = (f"Someone else changed this plan (now revision {day.revision}) after you opened it "
                        f"(revision {mine.base_revision}). Your version was not applied; it is kept below beside "
                        "the current plan. Check both, then edit the current plan if it still needs to change.")


# --- shared checks -----------------------------------------------------------------------------------------------

def _fmt_list(values: tuple[Decimal, ...]) -> str:
    text = [f"{format_mcg(v)}" for v in values]
    return ", ".join(text[:-1]) + " or " + text[-1] if len(text) > 1 else "".join(text)


def describe_dose(dose: Decimal, protocol: Protocol, weight_kg: Decimal | None) -> str:
    """"125 mcg = 2.50 mL = 5.21 mcg/kg (24.0 kg)": what a neurosurgeon confirms for an override."""
    text = f"{format_mcg(dose)} mcg = {protocol.volume_ml(dose):.2f} mL"
    if weight_kg:
        text += f" = {protocol.mcg_per_kg(dose, weight_kg):.2f} mcg/kg ({weight_kg} kg)"
    return text


def dose_errors(dose: Decimal, *, override_reason: str | None, confirmed_mcg: Decimal | None, author: User | None,
                protocol: Protocol, weight_kg: Decimal | None = None,
                field_name: str = "dose_mcg") -> dict[str, list[str]]:
    """THE bounds of one bolus, on every path that sets a dose (plan, dose record, its correction, a day
    decision's next dose, the demo loader; no sync kind sets a dose): an allowed value; above the ceiling only
    by a neurosurgeon, with a reason of at least a sentence and an explicit confirmation of the dose in mcg,
    mL and mcg/kg (`confirmed_mcg` must be the dose itself); never above the absolute maximum.
    `field_name` is the form field the number was typed in (messages about the number go beside it)."""
    if not dose.is_finite() or dose <= 0:
        return {field_name: ["Enter the dose as a number of mcg."]}
    too_high = protocol.above_absolute_max(dose)
    if too_high:
        return {field_name: [too_high]}
    ceiling = protocol.ceiling_mcg
    if dose > ceiling:
        errors: dict[str, list[str]] = {}
        if author is None or not author.has_role(protocol.override_role):
            errors["dose_mcg"] = [f"{format_mcg(dose)} mcg is above the {format_mcg(ceiling)} mcg ceiling: only a "
                                  "neurosurgeon may override the ceiling, with a reason."]
            return errors
        if not (override_reason or "").strip():
            errors["dose_mcg"] = [f"{format_mcg(dose)} mcg is above the {format_mcg(ceiling)} mcg ceiling: give "
                                  "the reason for the override, or choose a dose up to the ceiling."]
            errors["override_reason"] = [f"Give the reason for going above {format_mcg(ceiling)} mcg."]
        elif not protocol.is_full_reason(override_reason):
            errors["override_reason"] = [f"Give the reason for going above {format_mcg(ceiling)} mcg in "
                                         f"{protocol.reason_rule()}."]
        if confirmed_mcg is None or confirmed_mcg != dose:
            errors["override_confirm"] = [f"Check and confirm the override: {describe_dose(dose, protocol, weight_kg)}"
                                          "."]
        return errors
    if dose not in protocol.allowed_bolus_mcg:
        return {"dose_mcg": [f"{format_mcg(dose)} mcg is not an allowed bolus: choose "
                             f"{_fmt_list(protocol.allowed_bolus_mcg)} mcg."]}
    return {}


def _bounds(dose: Decimal, data: dict[str, Any], author: User | None, day: TrialDay,
            protocol: Protocol) -> dict[str, list[str]]:
    """`dose_errors` for a form's data (the override fields, and which field the number was typed in)."""
    return dose_errors(dose, override_reason=data.get("override_reason"), confirmed_mcg=data.get("override_confirm"),
                       author=author, protocol=protocol, weight_kg=day.trial.patient.weight_kg,
                       field_name=data.get("dose_field") or "dose_mcg")


def _open_day(day_id: int, *, lock: bool = False) -> TrialDay:
    stmt = select(TrialDay).where(TrialDay.id == day_id).options(
        selectinload(TrialDay.trial).selectinload(Trial.patient))
    if lock:  # FOR UPDATE, and overwrite a copy the session already holds: the revision check needs the fresh one
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    day = db.session.scalars(stmt).first()
    if day is None:
        raise DosingError({"_form": ["No such trial day."]})
    if not day.trial.is_open:
        raise DosingError({"_form": [f"This trial is {TRIAL_STATUSES[day.trial.status].lower()}: "
                                     "no dose can be planned or recorded."]})
    return day


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def _duration(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"


def interval_errors(trial_id: int, day_id: int, at: datetime, protocol: Protocol,
                    field_name: str) -> dict[str, list[str]]:
    """THE 24-hour rule, on every path that sets or moves a dose (plan, dose record, its correction, a day
    decision's next dose, the demo loader): a bolus, given or planned, closer than the minimum interval to a
    bolus given on another day of the trial is refused."""
    minimum = schedule.min_interval(protocol)
    rows = db.session.execute(
        select(DoseAdministration.given_at, TrialDay.day_number).join(TrialDay)
        .where(TrialDay.trial_id == trial_id, TrialDay.id != day_id, current_given())
        .order_by(DoseAdministration.given_at)).all()
    tz = hospital_tz()
    for given_at, number in rows:
        gap = abs(at - given_at)
        if gap < minimum:
            when = f"{given_at.astimezone(tz).strftime('%a %-d %b')} {local_label(given_at, tz)}"
            return {field_name: [f"Only {_duration(gap)} from the day-{number} bolus ({when}): the minimum "
                                 f"interval between boluses is {protocol.min_interval_hours} h."]}
    return {}


def _wall_clock(day: date, at: time, field_name: str) -> tuple[datetime | None, dict[str, list[str]]]:
    """A hospital wall-clock time on `day`, or a message if that time does not exist there (the hour skipped
    when the clocks go forward: 01:30 on the last Sunday of March is never on a London clock). In the hour
    repeated when they go back, the first (summer-time) 01:xx is taken."""
    value = local_to_utc(day, at)
    if value.astimezone(UTC).astimezone(value.tzinfo).replace(tzinfo=None) != datetime.combine(day, at):
        return None, {field_name: [f"{at.strftime('%H:%M')} does not exist on {day.strftime('%a %-d %b')}: the "
                                   "clocks went forward that night. Enter the time shown on the clock."]}
    return value, {}


def earliest_next_bolus(day: TrialDay, protocol: Protocol | None = None) -> datetime | None:
    """The first moment a bolus may be given on `day`: the minimum interval after the latest bolus given on
    an earlier day of the trial (None if there is none)."""
    protocol = protocol or current_protocol()
    last = db.session.scalar(
        select(DoseAdministration.given_at).join(TrialDay)
        .where(TrialDay.trial_id == day.trial_id, TrialDay.day_number < day.day_number, current_given())
        .order_by(DoseAdministration.given_at.desc()).limit(1))
    return schedule.next_dose_allowed(last, protocol) if last is not None else None


# --- writes ------------------------------------------------------------------------------------------------------

def current_dose(day_id: int) -> DoseAdministration | None:
    """The dose given on a trial day, as last corrected (None if none, or if its record was entered in error)."""
    return db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == day_id,
                                                              current_given()))


def current_doses(day_ids: list[int]) -> dict[int, DoseAdministration]:
    """`current_dose` for many days at once, by trial day id (one query)."""
    if not day_ids:
        return {}
    return {d.trial_day_id: d for d in db.session.scalars(
        select(DoseAdministration).where(DoseAdministration.trial_day_id.in_(day_ids), current_given()))}


def trial_doses(trial: Trial) -> dict[int, DoseAdministration]:
    """The dose given each day of a trial, as last corrected, by trial day id (one query)."""
    return current_doses([d.id for d in trial.days])


def _latest_record(day_id: int) -> DoseAdministration | None:
    """The newest version of a day's dose record, whatever it says (given or entered in error)."""
    return db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == day_id)
                             .order_by(DoseAdministration.version.desc()).limit(1))


def _check_plan_editable(day: TrialDay) -> None:
    if current_dose(day.id) is not None:
        raise DosingError({"_form": [f"The day-{day.day_number} dose has been given: its plan can no longer "
                                     "change."]})


def _conflict_or_apply(day: TrialDay, change: DosePlanChange, apply: Any) -> TrialDay:
    if change.base_revision != day.revision:
        change.outcome = "conflict"
        db.session.add(change)
        db.session.flush()
        raise PlanConflict(day, change)
    apply()
    day.revision += 1
    change.outcome = "applied"
    change.revision = day.revision
    db.session.add(change)
    db.session.flush()
    return day


def set_plan(day_id: int, data: dict[str, Any], *, author_id: int) -> TrialDay:
    """Plan (or re-plan, or resume after a hold) a day's bolus: dose and time. `data`: dose_mcg, planned_time,
    base_revision, override_reason, override_confirm (the dose confirmed, for an override)."""
    protocol = current_protocol()
    day = _open_day(day_id, lock=True)
    _check_plan_editable(day)
    author = _user(author_id)
    dose: Decimal = data["dose_mcg"]
    override = (data.get("override_reason") or None) if dose > protocol.ceiling_mcg else None
    planned_at, errors = _wall_clock(day.date, data["planned_time"], "planned_time")
    errors |= _bounds(dose, data, author, day, protocol)
    if planned_at is not None:
        errors |= interval_errors(day.trial_id, day.id, planned_at, protocol, "planned_time")
    if errors:
        raise DosingError(errors)
    change = DosePlanChange(trial_day_id=day.id, action="plan", base_revision=data["base_revision"],
                            planned_dose_mcg=dose, planned_at=planned_at, override_reason=override,
                            author_id=author_id)

    def apply() -> None:
        day.planned_dose_mcg, day.planned_at = dose, planned_at
        day.dose_status, day.dose_status_reason = "planned", None

    return _conflict_or_apply(day, change, apply)


def hold_dose(day_id: int, data: dict[str, Any], *, author_id: int) -> TrialDay:
    """Hold (for now) or cancel (not today) a day's bolus, with the reason. `data`: action, reason, base_revision.
    A held dose is resumed by setting the plan again."""
    day = _open_day(day_id, lock=True)
    _check_plan_editable(day)
    action: str = data["action"]
    change = DosePlanChange(trial_day_id=day.id, action=action, base_revision=data["base_revision"],
                            planned_dose_mcg=day.planned_dose_mcg, planned_at=day.planned_at,
                            reason=data["reason"], author_id=author_id)

    def apply() -> None:
        day.dose_status = "held" if action == "hold" else "cancelled"
        day.dose_status_reason = data["reason"]

    return _conflict_or_apply(day, change, apply)


def resume_dose(day_id: int, data: dict[str, Any], *, author_id: int) -> TrialDay:
    """Undo a hold or cancellation, keeping the day's planned dose and time. `data`: reason, base_revision."""
    day = _open_day(day_id, lock=True)
    _check_plan_editable(day)
    if day.dose_status == "planned":
        raise DosingError({"_form": [f"The day-{day.day_number} dose is not held or cancelled."]})
    change = DosePlanChange(trial_day_id=day.id, action="resume", base_revision=data["base_revision"],
                            planned_dose_mcg=day.planned_dose_mcg, planned_at=day.planned_at,
                            reason=data["reason"], author_id=author_id)

    def apply() -> None:
        day.dose_status, day.dose_status_reason = "planned", None

    return _conflict_or_apply(day, change, apply)


def _people_errors(given_by_id: int, checked_by_id: int) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    giver, checker = _user(given_by_id), _user(checked_by_id)
    for key, person, what in (("given_by_id", giver, "gave the dose"), ("checked_by_id", checker, "checked it")):
        if person is None or not person.active or not person.has_role(*CLINICAL_ROLES):
            errors[key] = [f"Choose the nurse or neurosurgeon who {what}."]
    if giver is not None and checked_by_id == given_by_id:
        errors["checked_by_id"] = ["The double-check must be done by a second person, not the one who gave "
                                   "the dose."]
    return errors


def _given_at(day: TrialDay, at: time, now: datetime, protocol: Protocol) -> tuple[datetime | None,
                                                                                  dict[str, list[str]]]:
    """The time a dose was given on `day`: a real hospital wall-clock time, not in the future, and at least
    the minimum interval from the doses given on the trial's other days."""
    given_at, errors = _wall_clock(day.date, at, "given_time")
    if given_at is not None and given_at > now + FUTURE_SLACK:
        errors["given_time"] = ["The time given cannot be in the future."]
    if given_at is not None and "given_time" not in errors:
        errors |= interval_errors(day.trial_id, day.id, given_at, protocol, "given_time")
    return given_at, errors


def record_dose(day_id: int, data: dict[str, Any], *, recorded_by_id: int,
                now: datetime | None = None) -> DoseAdministration:
    """Record the bolus given on a trial day. `data`: given_time, dose_mcg, override_reason, override_confirm,
    route, given_by_id, checked_by_id. Refuses (writing nothing) anything the protocol does not allow."""
    protocol = current_protocol()
    now = now or clock.now()
    day = _open_day(day_id, lock=True)
    if current_dose(day.id) is not None:
        raise DosingError({"_form": [f"A dose is already recorded for day {day.day_number}."]})
    if day.dose_status != "planned":
        raise DosingError({"_form": [f"The day-{day.day_number} dose is {day.dose_status} "
                                     f"({day.dose_status_reason}). Set the plan again before recording a dose."]})
    given_at, errors = _given_at(day, data["given_time"], now, protocol)
    dose: Decimal = data["dose_mcg"]
    recorder = _user(recorded_by_id)
    errors |= _bounds(dose, data, recorder, day, protocol)
    errors |= _people_errors(data["given_by_id"], data["checked_by_id"])
    if errors or given_at is None:
        raise DosingError(errors)
    return _add_dose(day, given_at=given_at, dose=dose, route=data["route"], given_by_id=data["given_by_id"],
                     checked_by_id=data["checked_by_id"], recorded_by_id=recorded_by_id,
                     override_reason=(data.get("override_reason") if dose > protocol.ceiling_mcg else None),
                     override_confirm=data.get("override_confirm"), protocol=protocol)


def _add_dose(day: TrialDay, *, given_at: datetime, dose: Decimal, route: str, given_by_id: int,
              checked_by_id: int, recorded_by_id: int | None, override_reason: str | None,
              protocol: Protocol, override_confirm: Decimal | None = None, status: str = "given",
              correction_reason: str | None = None) -> DoseAdministration:
    """The one insert of a dose record (a new record, or a new version of one). Whoever calls it, the bounds
    and the 24-hour rule are checked again here, so no path (form, correction, CLI, demo) writes a dose
    outside them."""
    if status == "given":
        recorder = _user(recorded_by_id)
        errors = dose_errors(dose, override_reason=override_reason, confirmed_mcg=override_confirm,
                             author=recorder, protocol=protocol, weight_kg=day.trial.patient.weight_kg)
        errors |= interval_errors(day.trial_id, day.id, given_at, protocol, "given_time")
        if errors:
            raise DosingError(errors)
    latest = _latest_record(day.id)
    record = DoseAdministration(
        trial_day_id=day.id, given_at=given_at, dose_mcg=dose, volume_ml=protocol.volume_ml(dose),
        concentration_mcg_per_ml=protocol.concentration_mcg_per_ml, route=route, given_by_id=given_by_id,
        checked_by_id=checked_by_id, override_reason=override_reason, recorded_by_id=recorded_by_id,
        version=(latest.version + 1) if latest else 1, supersedes_id=latest.id if latest else None,
        status=status, correction_reason=correction_reason)
    db.session.add(record)
    if day.trial.status == "planned":
        day.trial.status = "active"
    db.session.flush()
    return record


class DoseConflict(DosingError):
    """The record being corrected is no longer the latest version (someone corrected it meanwhile)."""


def _correctable(dose_id: int, base_version: int, author_id: int, *, closing_ok: bool) -> tuple[
        DoseAdministration, TrialDay]:
    """The current dose record `dose_id`, its day locked; refused unless a neurosurgeon corrects the latest
    version, and (unless `closing_ok`) the trial is still open."""
    record = db.session.get(DoseAdministration, dose_id)
    if record is None:
        raise DosingError({"_form": ["No such dose record."]})
    day = db.session.scalars(select(TrialDay).where(TrialDay.id == record.trial_day_id).with_for_update()
                             .execution_options(populate_existing=True)
                             .options(selectinload(TrialDay.trial).selectinload(Trial.patient))).one()
    author = _user(author_id)
    if author is None or not author.has_role("surgeon"):
        raise DosingError({"_form": ["Only a neurosurgeon may correct a recorded dose."]})
    latest = _latest_record(day.id)
    if latest is None or latest.id != record.id or latest.version != base_version:
        raise DoseConflict({"_form": [
            f"This dose record was changed meanwhile (now version {latest.version if latest else '?'}): "
            "nothing was saved. Check the record as it is now, then correct it again if it still needs it."]})
    if not record.is_given:
        raise DosingError({"_form": ["This dose record is already marked entered in error."]})
    if not closing_ok and not day.trial.is_open:
        raise DosingError({"_form": [f"This trial is {TRIAL_STATUSES[day.trial.status].lower()}: a recorded "
                                     "dose can no longer be changed (it can still be marked entered in error)."]})
    return record, day


def amend_dose(dose_id: int, data: dict[str, Any], *, author_id: int, now: datetime | None = None
               ) -> DoseAdministration:
    """Correct a recorded dose: its time, amount or double-checker, with the reason. The record is append-only:
    a new version supersedes the old one, which stays (and the audit log shows both). The same bounds and
    24-hour rule as a new record apply; monitoring follows the corrected time. `data`: given_time, dose_mcg,
    override_reason, override_confirm, checked_by_id, reason, base_version."""
    protocol = current_protocol()
    now = now or clock.now()
    old, day = _correctable(dose_id, data["base_version"], author_id, closing_ok=False)
    given_at, errors = _given_at(day, data["given_time"], now, protocol)
    dose: Decimal = data["dose_mcg"]
    errors |= _bounds(dose, data, _user(author_id), day, protocol)
    errors |= _people_errors(old.given_by_id, data["checked_by_id"])
    errors |= _reason_errors(data.get("reason"), "reason", "the correction", protocol)
    if not errors and given_at is not None and (given_at, dose, data["checked_by_id"]) == (
            old.given_at, old.dose_mcg, old.checked_by_id):
        errors["_form"] = ["Nothing changed: correct the time, the dose or who double-checked it."]
    if errors or given_at is None:
        raise DosingError(errors)
    return _add_dose(day, given_at=given_at, dose=dose, route=old.route, given_by_id=old.given_by_id,
                     checked_by_id=data["checked_by_id"], recorded_by_id=author_id,
                     override_reason=(data.get("override_reason") if dose > protocol.ceiling_mcg else None),
                     override_confirm=data.get("override_confirm"), protocol=protocol,
                     correction_reason=data["reason"].strip())


def void_dose(dose_id: int, data: dict[str, Any], *, author_id: int) -> DoseAdministration:
    """Mark a recorded dose entered in error (it was not given, or not to this child or on this day), with the
    reason: a new version that says so supersedes it; the old version stays. `data`: reason, base_version."""
    protocol = current_protocol()
    old, day = _correctable(dose_id, data["base_version"], author_id, closing_ok=True)
    errors = _reason_errors(data.get("reason"), "reason", "marking it entered in error", protocol)
    if errors:
        raise DosingError(errors)
    return _add_dose(day, given_at=old.given_at, dose=old.dose_mcg, route=old.route, given_by_id=old.given_by_id,
                     checked_by_id=old.checked_by_id, recorded_by_id=author_id, override_reason=old.override_reason,
                     protocol=protocol, status="entered_in_error", correction_reason=data["reason"].strip())


def _reason_errors(text: str | None, field_name: str, what: str, protocol: Protocol) -> dict[str, list[str]]:
    if not (text or "").strip():
        return {field_name: [f"Give the reason for {what}."]}
    if not protocol.is_full_reason(text):
        return {field_name: [f"Give the reason for {what} in {protocol.reason_rule()}."]}
    return {}


def dose_history(day_id: int) -> list[DoseAdministration]:
    """Every version of a day's dose record, oldest first (the original, then each correction)."""
    return list(db.session.scalars(select(DoseAdministration).where(DoseAdministration.trial_day_id == day_id)
                                   .options(selectinload(DoseAdministration.checked_by),
                                            selectinload(DoseAdministration.recorded_by))
                                   .order_by(DoseAdministration.version)))


def dose_records(day_ids: list[int]) -> list[DoseAdministration]:
    """Every version of the dose records of these days, by day then version (one query: the exports)."""
    if not day_ids:
        return []
    return list(db.session.scalars(select(DoseAdministration).where(DoseAdministration.trial_day_id.in_(day_ids))
                                   .order_by(DoseAdministration.trial_day_id, DoseAdministration.version)))


def observations_for(day_ids: list[int]) -> list[Observation]:
    """Every set of observations of these days, by time taken (one query: the exports)."""
    if not day_ids:
        return []
    return list(db.session.scalars(select(Observation).where(Observation.trial_day_id.in_(day_ids))
                                   .order_by(Observation.taken_at, Observation.id)))


def record_observation(data: dict[str, Any], *, author_id: int, entry_id: str, recorded_at: datetime | None = None,
                       device_id: str | None = None, now: datetime | None = None) -> Observation:
    """Store one set of nursing observations (from the form, or replayed from the outbox). The same entry id
    sent again by the same author returns the first record."""
    now = now or clock.now()
    recorded_at = recorded_at or now
    existing = db.session.scalar(select(Observation).where(Observation.entry_id == entry_id))
    if existing is not None:
        if existing.author_id == author_id and existing.trial_day_id == data["trial_day_id"]:
            return existing
        raise DosingError({"_form": ["This form was already used for another entry. Reload the page."]})
    day = db.session.get(TrialDay, data["trial_day_id"])
    if day is None:
        raise DosingError({"_form": ["No such trial day. Reload the page."]})
    if _user(author_id) is None:
        raise DosingError({"_form": ["Unknown author."]})
    wrong_clock = before_trial_message(day.trial, recorded_at)
    if wrong_clock:
        raise DosingError({"_form": [wrong_clock]})
    taken_at: datetime | None = data.get("taken_at")
    if taken_at is None:
        taken_at = recorded_at
    elif taken_at.tzinfo is None:
        local, errors = _wall_clock(taken_at.date(), taken_at.time(), "taken_at")
        if local is None:
            raise DosingError(errors)
        taken_at = local
    if data.get("taken_at") is not None and taken_at.astimezone(hospital_tz()).date() < day.date - timedelta(days=1):
        raise DosingError({"taken_at": [f"The time taken is before this trial day ({day.date.strftime('%a %-d %b')}): "
                                        "check the date."]})
    if taken_at > max(now, recorded_at) + FUTURE_SLACK:
        raise DosingError({"taken_at": ["The time taken cannot be in the future."]})
    values = {k: data.get(k) for k in VALUE_FIELDS}
    obs = Observation(trial_day_id=day.id, entry_id=entry_id, taken_at=taken_at, recorded_at=recorded_at,
                      received_at=now, author_id=author_id, device_id=device_id, **values)
    obs.effects = list(dict.fromkeys(data.get("effects") or []))
    obs.overdose_sign = any(f.overdose_sign for f in observation_flags(obs, day.trial.patient))
    db.session.add(obs)
    db.session.flush()
    return obs


VALUE_FIELDS = ("heart_rate", "resp_rate", "spo2", "bp_systolic", "bp_diastolic", "temperature_c",
                "sedation_score", "pain_score", "notes")


# --- reads -------------------------------------------------------------------------------------------------------

def observation_flags(obs: Observation, patient: Patient) -> list[Flag]:
    on = obs.taken_at.astimezone(hospital_tz()).date()
    values: dict[str, Any] = {k: getattr(obs, k) for k in VALUE_FIELDS}
    values["effects"] = obs.effects or []
    return assess(values, age_in_months(patient.date_of_birth, on))


@dataclass
class ObservationView:
    obs: Observation
    flags: list[Flag]

    @property
    def overdose_signs(self) -> bool:
        return any(f.overdose_sign for f in self.flags)


# --- escalation: overdose signs reach every list until acted on ----------------------------------------------------

def _may_show_overdose_sign() -> Any:
    """SQL: the observations that carried an overdose sign when recorded (`Observation.overdose_sign`, through
    its index), checked again by `vitals.assess` in Python."""
    return Observation.overdose_sign == true()


@date_of_birth_corrected.connect
def refresh_overdose_signs(patient_id: int) -> None:
    """Work out `Observation.overdose_sign` again for a child whose date of birth was corrected (the age decides
    the respiratory-rate limit). Called by `trials.services.update_patient` through its signal."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        return
    for obs in db.session.scalars(select(Observation).join(TrialDay).join(Trial, Trial.id == TrialDay.trial_id)
                                  .where(Trial.patient_id == patient_id)):
        sign = any(f.overdose_sign for f in observation_flags(obs, patient))
        if obs.overdose_sign != sign:
            obs.overdose_sign = sign
    db.session.flush()


@dataclass
class Escalation:
    """An escalation-level flag still open on a trial: observations with overdose signs (brief 5.3) that nobody
    has yet recorded as acted on. It stays open, whatever later observations say, until someone does."""

    trial_id: int
    observations: list[Observation]  # the open ones, in time order
    signs: list[str]  # what is wrong: the overdose-sign messages, latest observation first, each once
    last_obs_at: datetime  # the latest observation of the trial, of any kind
    every_minutes: int

    @property
    def since(self) -> datetime:
        return self.observations[0].taken_at

    @property
    def day_id(self) -> int:
        return self.observations[-1].trial_day_id

    @property
    def key(self) -> int:
        """Names the open observations shown, so an "acted on" record answers exactly what was seen."""
        return max(o.id for o in self.observations)

    @property
    def next_obs_at(self) -> datetime:
        """Observations every `every_minutes` while the escalation is open, from the latest one."""
        return max(self.last_obs_at, self.since) + timedelta(minutes=self.every_minutes)

    def obs_state(self, now: datetime, protocol: Protocol | None = None) -> str:
        return schedule.check_state(self.next_obs_at, now, protocol or current_protocol())


def open_escalations(trial_ids: list[int] | None = None) -> dict[int, Escalation]:
    """Open escalations by trial id, for these trials (None: every trial). At most four queries (flagged
    observations, their trials and children, the responses, the latest observation of each), however many trials."""
    protocol = current_protocol()
    # The flagged observations first, through their index (a join from the trials would visit every trial
    # day), then their trials and children.
    stmt = select(Observation).where(_may_show_overdose_sign()).order_by(Observation.taken_at, Observation.id)
    if trial_ids is not None:
        if not trial_ids:
            return {}
        stmt = stmt.where(Observation.trial_day_id.in_(select(TrialDay.id).where(TrialDay.trial_id.in_(trial_ids))))
    flagged = db.session.scalars(stmt).all()
    if not flagged:
        return {}
    whose = {day_id: (trial_id, born) for day_id, trial_id, born in db.session.execute(
        select(TrialDay.id, TrialDay.trial_id, Patient.date_of_birth).join(Trial, Trial.id == TrialDay.trial_id)
        .join(Patient, Patient.id == Trial.patient_id).where(TrialDay.id.in_({o.trial_day_id for o in flagged})))}
    candidates = [(o, *whose[o.trial_day_id]) for o in flagged]
    ids = sorted({trial_id for _, trial_id, _ in candidates})
    covered: set[int] = set()
    for obs_ids in db.session.scalars(select(EscalationResponse.observation_ids)
                                      .where(EscalationResponse.trial_id.in_(ids))):
        covered.update(int(i) for i in obs_ids or [])
    open_obs: dict[int, list[tuple[Observation, list[Flag]]]] = defaultdict(list)
    for obs, trial_id, born in candidates:
        if obs.id in covered:
            continue
        on = obs.taken_at.astimezone(hospital_tz()).date()
        values: dict[str, Any] = {k: getattr(obs, k) for k in VALUE_FIELDS}
        values["effects"] = obs.effects or []
        signs = [f for f in assess(values, age_in_months(born, on)) if f.overdose_sign]
        if signs:
            open_obs[trial_id].append((obs, signs))
    if not open_obs:
        return {}
    latest = dict(db.session.execute(
        select(TrialDay.trial_id, func.max(Observation.taken_at)).join(TrialDay)
        .where(TrialDay.trial_id.in_(list(open_obs))).group_by(TrialDay.trial_id)).all())
    out: dict[int, Escalation] = {}
    for trial_id, pairs in open_obs.items():
        messages = list(dict.fromkeys(f.message for _, flags in reversed(pairs) for f in flags))
        last = latest.get(trial_id) or pairs[-1][0].taken_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        out[trial_id] = Escalation(trial_id=trial_id, observations=[o for o, _ in pairs], signs=messages,
                                   last_obs_at=last, every_minutes=protocol.escalation_obs_every_minutes)
    return out


def record_escalation_response(trial_id: int, data: dict[str, Any], *, author_id: int,
                               now: datetime | None = None) -> EscalationResponse:
    """Record that an open escalation was acted on: who acted, when, what was done. `data`: acted_by_id,
    acted_at (hospital wall-clock, naive), action_taken, escalation_key (the open escalation as it was shown).
    Closes the flag on every list; audited."""
    protocol = current_protocol()
    now = now or clock.now()
    trial = db.session.scalars(select(Trial).where(Trial.id == trial_id).with_for_update()
                               .execution_options(populate_existing=True)).first()
    if trial is None:
        raise DosingError({"_form": ["No such trial."]})
    author = _user(author_id)
    if author is None or not author.has_role(*CLINICAL_ROLES):
        raise DosingError({"_form": ["Only a nurse or a neurosurgeon may record that an escalation was acted on."]})
    escalation = open_escalations([trial.id]).get(trial.id)
    if escalation is None:
        raise DosingError({"_form": ["There is no open escalation for this child: someone has already recorded "
                                     "that it was acted on."]})
    if data.get("escalation_key") != escalation.key:
        raise DosingError({"_form": [
            "A new observation with overdose signs arrived after you opened this page: read it, then record "
            "what was done again."]})
    errors: dict[str, list[str]] = {}
    acted_by = _user(data.get("acted_by_id"))
    if acted_by is None or not acted_by.active or not acted_by.has_role(*CLINICAL_ROLES):
        errors["acted_by_id"] = ["Choose the nurse or neurosurgeon who acted."]
    acted_at: datetime | None = data.get("acted_at")
    if acted_at is None:
        errors["acted_at"] = ["Enter when it was done."]
    else:
        if acted_at.tzinfo is None:
            acted_at, wall = _wall_clock(acted_at.date(), acted_at.time(), "acted_at")
            errors |= wall
        if acted_at is not None and acted_at > now + FUTURE_SLACK:
            errors["acted_at"] = ["The time acted cannot be in the future."]
        elif acted_at is not None and acted_at < escalation.since - timedelta(minutes=protocol.obs_early_minutes):
            since = local_label(escalation.since, hospital_tz())
            errors["acted_at"] = [f"The overdose signs were charted at {since}: enter when they were acted on, "
                                  "from then."]
    text = (data.get("action_taken") or "").strip()
    if not text:
        errors["action_taken"] = ["Say what was done."]
    elif not protocol.is_full_reason(text):
        errors["action_taken"] = [f"Say what was done in {protocol.reason_rule()}."]
    if errors or acted_at is None:
        raise DosingError(errors)
    response = EscalationResponse(trial_id=trial.id, observation_ids=[o.id for o in escalation.observations],
                                  acted_by_id=acted_by.id, acted_at=acted_at, action_taken=text,  # type: ignore[union-attr]
                                  recorded_by_id=author_id, created_at=now)
    db.session.add(response)
    db.session.flush()
    return response


@dataclass(frozen=True)
class ChartedEffect:
    """An adverse effect the nurses charted on a trial day, and when (each observation that charted it)."""

    label: str
    times: list[datetime]
    overdose_sign: bool


@dataclass(frozen=True)
class ChartedEscalation:
    """Overdose signs that opened an escalation on a trial day, and what was done (None while still open)."""

    since: datetime
    signs: list[str]
    response: EscalationResponse | None


@dataclass
class DayEvents:
    effects: list[ChartedEffect] = field(default_factory=list)
    escalations: list[ChartedEscalation] = field(default_factory=list)


def charted_events(trial: Trial) -> dict[int, DayEvents]:
    """What the nurses charted after each dose, by trial day id: the adverse effects (in the order of the
    list on the observation form) and the escalations, acted on or still open. For the team's pages; other
    features read observations and escalation records only through this."""
    ids = [d.id for d in trial.days]
    if not ids:
        return {}
    observations = db.session.scalars(select(Observation).where(Observation.trial_day_id.in_(ids))
                                      .order_by(Observation.taken_at, Observation.id)).all()
    out: dict[int, DayEvents] = defaultdict(DayEvents)
    times: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for obs in observations:
        for key in dict.fromkeys(obs.effects or []):
            if key in ADVERSE_EFFECTS:
                times[obs.trial_day_id][key].append(obs.taken_at)
    for day_id, charted in times.items():
        out[day_id].effects = [ChartedEffect(label, charted[key], key in OVERDOSE_EFFECTS)
                               for key, label in ADVERSE_EFFECTS.items() if key in charted]
    by_id = {o.id: o for o in observations}
    for response in escalation_responses(trial.id)[::-1]:  # oldest first
        answered = sorted((by_id[i] for i in response.observation_ids or [] if i in by_id),
                          key=lambda o: (o.taken_at, o.id))
        if not answered:
            continue
        signs = list(dict.fromkeys(f.message for o in answered for f in observation_flags(o, trial.patient)
                                   if f.overdose_sign))
        out[answered[0].trial_day_id].escalations.append(ChartedEscalation(answered[0].taken_at, signs, response))
    still_open = open_escalations([trial.id]).get(trial.id)
    if still_open is not None:
        out[still_open.observations[0].trial_day_id].escalations.append(
            ChartedEscalation(still_open.since, still_open.signs, None))
    return dict(out)


def escalation_responses(trial_id: int) -> list[EscalationResponse]:
    return list(db.session.scalars(select(EscalationResponse).where(EscalationResponse.trial_id == trial_id)
                                   .options(selectinload(EscalationResponse.acted_by),
                                            selectinload(EscalationResponse.recorded_by))
                                   .order_by(EscalationResponse.acted_at.desc(), EscalationResponse.id.desc())))


@dataclass
class WardRow:
    trial: Trial
    day: TrialDay | None  # today's trial day (None: no trial day today, but a dose is still monitored)
    status: str  # schedule.DUE / GIVEN / OVERDUE / HELD / CANCELLED / NOT_PLANNED, or "" with no day today
    dose: DoseAdministration | None  # today's
    monitored_day: TrialDay | None  # the day whose dose is being monitored (the trial's last dose given)
    monitored_dose: DoseAdministration | None
    reassess: schedule.Window | None
    next_obs: schedule.SlotState | None
    flagged: bool
    not_before: datetime | None = None  # today's planned dose is too soon after yesterday's: the earliest time
    monitoring_ends: datetime | None = None  # the last scheduled check after the monitored dose
    escalation: Escalation | None = None  # overdose signs not yet recorded as acted on: first on the list
    rank: int = 0
    sort_at: datetime | None = None

    @property
    def due_at(self) -> datetime | None:
        """When today's dose may be given: as planned, or later if the minimum interval says so."""
        return self.not_before or (self.day.planned_at if self.day else None)

    @property
    def patient(self) -> Patient:
        return self.trial.patient

    @property
    def obs_late(self) -> bool:
        return self.next_obs is not None and self.next_obs.state == "overdue"

    @property
    def closed(self) -> bool:
        """The trial is closed (outcome recorded, or stopped) but the child is still monitored."""
        return not self.trial.is_open


def monitoring_span(protocol: Protocol) -> timedelta:
    """How long after a dose its monitoring can still keep a child on the ward: the last scheduled check, plus
    the time a last check left undone stays shown."""
    return schedule.monitoring_length(protocol) + timedelta(hours=protocol.monitoring_overdue_shown_hours)


def monitoring_running(states: list[schedule.SlotState], now: datetime, protocol: Protocol) -> bool:
    """The monitoring after a dose has not ended: a check is still to come, due or overdue (a last check left
    undone counts for `monitoring_overdue_shown_hours` after its time). The trial's status plays no part."""
    nxt = schedule.next_observation(states)
    if nxt is None:
        return False
    last = states[-1].slot.at
    return now <= last + timedelta(hours=protocol.monitoring_overdue_shown_hours)


def monitoring_ends(trial: Trial, now: datetime, protocol: Protocol | None = None) -> datetime | None:
    """While the monitoring after the trial's last dose is running (see `monitoring_running`): the time of its
    last scheduled check; else None. The child stays on the ward until then, whatever the trial's status."""
    protocol = protocol or current_protocol()
    doses = [d for d in current_doses([day.id for day in trial.days]).values() if d.given_at <= now + FUTURE_SLACK]
    if not doses:
        return None
    last = max(doses, key=lambda d: d.given_at)
    taken = db.session.scalars(select(Observation.taken_at).where(Observation.trial_day_id == last.trial_day_id))
    states = schedule.observation_states(last.given_at, list(taken), now, protocol)
    return states[-1].slot.at if monitoring_running(states, now, protocol) else None


def ward_schedule(today: date, now: datetime | None = None) -> list[WardRow]:
    """The ward's list, what needs doing now first: every open trial with a trial day today, and every child
    whose monitoring after their last dose has not ended, whatever the trial's status (closing a trial never
    hides an observation that is due). A fixed number of queries, however many children are on the ward."""
    protocol = current_protocol()
    now = now or clock.now()
    escalations = open_escalations()
    recently_dosed = (select(TrialDay.trial_id).join(DoseAdministration)
                      .where(current_given(), DoseAdministration.given_at >= now - monitoring_span(protocol),
                             DoseAdministration.given_at <= now + FUTURE_SLACK))
    # One list of ids from three index lookups (a UNION): with an OR, PostgreSQL reads every trial ever held.
    on_ward = union(select(Trial.id).where(Trial.status == "active"), recently_dosed,
                    select(Trial.id).where(Trial.id.in_(list(escalations))))
    trials = db.session.scalars(
        select(Trial).where(Trial.id.in_(on_ward))
        .options(selectinload(Trial.patient), selectinload(Trial.days))).all()
    all_days = [d.id for t in trials for d in t.days]
    doses = current_doses(all_days)
    last_given: dict[int, tuple[TrialDay, DoseAdministration]] = {}
    for t in trials:
        given = [(d, doses[d.id]) for d in t.days if d.id in doses and doses[d.id].given_at <= now + FUTURE_SLACK]
        if given:
            last_given[t.id] = max(given, key=lambda pair: pair[1].given_at)
    today_days = {t.id: t.day_on(today) for t in trials}
    watched = {d.id for d in today_days.values() if d is not None} | {d.id for d, _ in last_given.values()}
    obs_times: dict[int, list[Observation]] = defaultdict(list)
    if watched:
        for o in db.session.scalars(select(Observation).where(Observation.trial_day_id.in_(watched))
                                    .order_by(Observation.taken_at)):
            obs_times[o.trial_day_id].append(o)
    rows: list[WardRow] = []
    for trial in trials:
        day = today_days[trial.id]
        dose = doses.get(day.id) if day else None
        monitored_day, monitored = last_given.get(trial.id, (None, None))
        states: list[schedule.SlotState] = []
        reassess = None
        if monitored is not None and monitored_day is not None:
            states = schedule.observation_states(monitored.given_at, [o.taken_at for o in obs_times[monitored_day.id]],
                                                 now, protocol)
            reassess = schedule.reassessment(monitored.given_at, protocol)
        running = monitoring_running(states, now, protocol)
        escalation = escalations.get(trial.id)
        if not running:
            if not (trial.is_open and day is not None) and escalation is None:
                continue  # no trial day today, no monitoring left, nothing open: not on the ward's list
            if monitored_day is not None and (day is None or monitored_day.id != day.id):
                monitored_day, monitored, states, reassess = None, None, [], None  # an earlier dose, all done
        next_obs = schedule.next_observation(states) if running else None
        earlier = [doses[d.id] for d in trial.days if day is not None and d.day_number < day.day_number
                   and d.id in doses]
        prev_dose = max(earlier, key=lambda d: d.given_at) if earlier else None
        not_before = None
        if day is not None and dose is None and day.planned_at is not None and prev_dose is not None:
            earliest = schedule.next_dose_allowed(prev_dose.given_at, protocol)
            not_before = earliest if earliest > day.planned_at else None
        status = schedule.dose_status(
            planned_at=not_before or day.planned_at, given_at=dose.given_at if dose else None,
            day_status=day.dose_status, now=now, protocol=protocol) if day else ""
        recent = sorted((o for d in {day, monitored_day} if d is not None for o in obs_times[d.id]),
                        key=lambda o: o.taken_at)
        flagged = bool(recent) and bool(observation_flags(recent[-1], trial.patient))
        if dose is None and reassess is not None and reassess.closes < now:
            reassess = None  # yesterday's reassessment is over; only a late-evening dose's carries into today
        row = WardRow(trial=trial, day=day, status=status, dose=dose, monitored_day=monitored_day,
                      monitored_dose=monitored, reassess=reassess, next_obs=next_obs, flagged=flagged,
                      not_before=not_before, monitoring_ends=states[-1].slot.at if states else None,
                      escalation=escalation)
        row.rank, row.sort_at = _urgency(row, now)
        rows.append(row)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (r.rank, r.sort_at or far, r.trial.bed or "", r.trial.id))


def _urgency(row: WardRow, now: datetime) -> tuple[int, datetime | None]:
    """-1: an escalation is open (overdose signs not yet acted on), longest open first; 0: something is overdue;
    1: due within the hour; 2: later today; 3: nothing left to do; 4: held."""
    if row.escalation is not None:
        return -1, row.escalation.since
    obs = row.next_obs
    obs_at = obs.slot.at if obs else None
    planned = row.due_at
    if row.status == schedule.OVERDUE or (obs and obs.state == "overdue") or row.flagged:
        return 0, planned if row.status == schedule.OVERDUE else obs_at
    soon = now + timedelta(hours=1)
    if row.status == schedule.DUE and planned and planned <= soon:
        return 1, planned
    if obs and obs.slot.at <= soon:
        return 1, obs_at
    if row.status == schedule.DUE or obs:
        return 2, planned if row.status == schedule.DUE else obs_at
    if row.status in (schedule.HELD, schedule.CANCELLED, schedule.NOT_PLANNED):
        return 4, None
    return 3, None


@dataclass
class DayMonitoring:
    day: TrialDay
    dose: DoseAdministration | None
    reassess: schedule.Window | None
    slots: list[schedule.SlotState]
    observations: list[ObservationView] = field(default_factory=list)

    @property
    def next_obs(self) -> schedule.SlotState | None:
        return schedule.next_observation(self.slots)

    @property
    def latest(self) -> ObservationView | None:
        return self.observations[-1] if self.observations else None


def day_monitoring(day_id: int, now: datetime | None = None) -> DayMonitoring | None:
    """The per-child monitoring timeline of one trial day, from the dose time."""
    protocol = current_protocol()
    now = now or clock.now()
    day = db.session.scalars(select(TrialDay).where(TrialDay.id == day_id).options(
        selectinload(TrialDay.trial).selectinload(Trial.patient))).first()
    if day is None:
        return None
    dose = current_dose(day.id)
    observations = db.session.scalars(select(Observation).where(Observation.trial_day_id == day.id)
                                      .options(selectinload(Observation.author))
                                      .order_by(Observation.taken_at, Observation.id)).all()
    slots: list[schedule.SlotState] = []
    reassess = None
    if dose is not None:
        slots = schedule.observation_states(dose.given_at, [o.taken_at for o in observations], now, protocol)
        reassess = schedule.reassessment(dose.given_at, protocol)
    views = [ObservationView(o, observation_flags(o, day.trial.patient)) for o in observations]
    return DayMonitoring(day=day, dose=dose, reassess=reassess, slots=slots, observations=views)


@dataclass
class TrialDosing:
    trial: Trial
    doses: dict[int, DoseAdministration]  # the dose given each day, as last corrected
    changes: dict[int, list[DosePlanChange]]
    records: dict[int, list[DoseAdministration]] = field(default_factory=dict)  # every version, oldest first
    too_soon: dict[int, datetime] = field(default_factory=dict)  # planned under 24 h after a dose: not before

    def latest(self, day_id: int) -> DoseAdministration | None:
        versions = self.records.get(day_id)
        return versions[-1] if versions else None


def trial_dosing(trial_id: int) -> TrialDosing | None:
    trial = db.session.scalars(select(Trial).where(Trial.id == trial_id).options(
        selectinload(Trial.patient), selectinload(Trial.days))).first()
    if trial is None:
        return None
    ids = [d.id for d in trial.days]
    records: dict[int, list[DoseAdministration]] = defaultdict(list)
    for r in db.session.scalars(
            select(DoseAdministration).where(DoseAdministration.trial_day_id.in_(ids))
            .options(selectinload(DoseAdministration.given_by), selectinload(DoseAdministration.checked_by),
                     selectinload(DoseAdministration.recorded_by))
            .order_by(DoseAdministration.trial_day_id, DoseAdministration.version)):
        records[r.trial_day_id].append(r)
    doses = {day_id: versions[-1] for day_id, versions in records.items() if versions[-1].is_given}
    changes: dict[int, list[DosePlanChange]] = defaultdict(list)
    for c in db.session.scalars(select(DosePlanChange).where(DosePlanChange.trial_day_id.in_(ids))
                                .options(selectinload(DosePlanChange.author))
                                .order_by(DosePlanChange.created_at, DosePlanChange.id)):
        changes[c.trial_day_id].append(c)
    return TrialDosing(trial=trial, doses=doses, changes=changes, records=dict(records),
                       too_soon=plans_too_soon(trial, doses))


def plans_too_soon(trial: Trial, doses: dict[int, DoseAdministration],
                   protocol: Protocol | None = None) -> dict[int, datetime]:
    """Days whose dose is planned (not given) under the minimum interval after a dose given on an earlier day,
    e.g. day 2 still at 09:00 after a day-1 dose given at 14:20: day id -> the earliest time it may be given.
    Shown wherever the plan is (dosing, plan, decision and ward pages), so the 24-hour rule is never silent."""
    protocol = protocol or current_protocol()
    out: dict[int, datetime] = {}
    for day in trial.days:
        if day.id in doses or day.planned_at is None or day.dose_status != "planned":
            continue
        earlier = [d.given_at for other in trial.days if other.day_number < day.day_number
                   and (d := doses.get(other.id)) is not None]
        if earlier and day.planned_at < (allowed := schedule.next_dose_allowed(max(earlier), protocol)):
            out[day.id] = allowed
    return out


def clinical_staff() -> list[User]:
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)).all()
    return [u for u in users if u.has_role(*CLINICAL_ROLES)]
