from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from ..protocol import current_protocol
from ..web import clock
from ..web.forms import EARLIEST_YEAR, FormSchema, WallClockDateTime, required_messages
from ..web.routing import MAX_ID
from .models import TONE_TYPES
from .services import start_date_question


class PatientSchema(FormSchema):
    first_name = fields.String(required=True, validate=validate.Length(max=80),
                               error_messages=required_messages("Enter the child's first name."))
    last_name = fields.String(required=True, validate=validate.Length(max=80),
                              error_messages=required_messages("Enter the child's last name."))
    date_of_birth = fields.Date(required=True, error_messages={
        **required_messages("Enter the date of birth."), "invalid": "Enter a date as YYYY-MM-DD."})
    mrn = fields.String(required=True, validate=[
        validate.Length(max=32), validate.Regexp(r"^[A-Za-z0-9-]+$", error="Use letters, digits and dashes.")],
        error_messages=required_messages("Enter the hospital number (MRN)."))
    weight_kg = fields.Decimal(required=True, places=1, validate=validate.Range(
        min=Decimal("2"), max=Decimal("150"), error="Weight must be between 2 and 150 kg."),
        error_messages={**required_messages("Enter the weight in kg."), "invalid": "Enter the weight as a number.",
                        "special": "Enter the weight as a number."})
    weight_measured_on = fields.Date(load_default=None, validate=validate.Range(
        min=date(EARLIEST_YEAR, 1, 1), error=f"Check the date: not before {EARLIEST_YEAR}."),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    gmfcs_level = fields.Integer(required=True, validate=validate.Range(1, 5, error="GMFCS level is I to V."),
                                 error_messages={**required_messages("Choose the GMFCS level."),
                                                 "invalid": "GMFCS level is I to V."})
    diagnosis = fields.String(required=True, validate=validate.Length(max=200),
                              error_messages=required_messages("Enter the diagnosis."))
    tone_type = fields.String(required=True, validate=validate.OneOf(list(TONE_TYPES), error="Choose a tone type."),
                              error_messages=required_messages("Choose a tone type."))

    @validates("date_of_birth")
    def _dob(self, value: date, **_: Any) -> None:
        today = clock.today()
        if value > today:
            raise ValidationError("Date of birth cannot be in the future.")
        if value < today - timedelta(days=366 * 25):
            raise ValidationError("This service is for children and young people (under 25).")


def _base_revision() -> fields.Integer:
    return fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error=RELOAD),
                          error_messages={**required_messages(RELOAD), "invalid": RELOAD})


RELOAD = "Reload the page: the form is out of date."
CONFIRM = {"truthy": {"on", "true", "1", "yes"}, "falsy": {"off", "false", "0", "no"}}


class PatientEditSchema(PatientSchema):
    """Editing a child: the same fields, the date the weight was measured (required), and the revision the form
    was opened at."""

    weight_measured_on = fields.Date(required=True, validate=validate.Range(
        min=date(EARLIEST_YEAR, 1, 1), error=f"Check the date: not before {EARLIEST_YEAR}."),
        error_messages={**required_messages("Enter the date the weight was measured."),
                        "invalid": "Enter a date as YYYY-MM-DD."})
    base_revision = _base_revision()


def _start_date() -> fields.Date:
    return fields.Date(required=True, error_messages={
        **required_messages("Enter the first trial day."), "invalid": "Enter a date as YYYY-MM-DD."})


def _within_a_year(data: dict[str, Any]) -> None:
    start = data.get("start_date")
    if start and abs((start - clock.today()).days) > 365:
        raise ValidationError("The first trial day must be within a year of today.", "start_date")


class TrialEditSchema(FormSchema):
    """Correcting a trial's setup: first day, bed, catheter placement; the revision the form was opened at."""

    start_date = _start_date()
    bed = fields.String(load_default=None, validate=validate.Length(max=16, error="At most 16 characters."))
    catheter_placed_at = WallClockDateTime(load_default=None, error_messages={"invalid": "Enter a date and time."})
    confirm_start = fields.Boolean(load_default=False, **CONFIRM)  # type: ignore[arg-type]
    base_revision = _base_revision()

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        _within_a_year(data)


class TrialSchema(FormSchema):
    patient_id = fields.Integer(required=True, strict=False, validate=validate.Range(
        1, MAX_ID, error="Choose the child from the list."), error_messages={
        **required_messages("Choose the child."), "invalid": "Choose the child from the list."})
    start_date = _start_date()
    bed = fields.String(load_default=None, validate=validate.Length(max=16, error="At most 16 characters."))
    catheter_placed_at = WallClockDateTime(load_default=None,
                                         error_messages={"invalid": "Enter a date and time."})
    confirm_start = fields.Boolean(load_default=False, **CONFIRM)  # type: ignore[arg-type]
    small_child = fields.Boolean(load_default=False, truthy={"on", "true", "1", "yes"},
                                 falsy={"off", "false", "0", "no"})
    day1_dose_mcg = fields.Decimal(required=True, error_messages={
        **required_messages("Choose the day-1 dose."), "invalid": "Choose one of the listed doses."})
    dose_time = fields.Time(required=True, error_messages={
        **required_messages("Enter the planned dose time."), "invalid": "Enter a time as HH:MM."})

    @validates("day1_dose_mcg")
    def _dose(self, value: Decimal, **_: Any) -> None:
        allowed = current_protocol().allowed_bolus_mcg
        if value not in allowed:
            raise ValidationError("Choose one of: " + ", ".join(f"{v.normalize():f}" for v in allowed) + " mcg.")

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        _within_a_year(data)
        start = data.get("start_date")
        question = start_date_question(start, clock.today()) if start else None
        if question and not data.get("confirm_start"):
            raise ValidationError(question, "confirm_start")
