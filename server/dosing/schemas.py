"""Form schemas for dosing. The same ObservationSchema loads the HTML form and the outbox's replayed payload."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from sync.protocol import UUID_RE

from ..protocol import current_protocol
from ..web.forms import FormSchema, WallClockDateTime, max_length, required_messages
from ..web.routing import MAX_ID  # an INTEGER column: a larger number is nobody (and would overflow the driver)
from .models import ROUTES
from .vitals import ADVERSE_EFFECTS, SEDATION_SCALE

MIN_DOSE, MAX_DOSE = Decimal("0.1"), Decimal("9999")
TRUTHY = {"on", "true", "1", "yes"}
FALSY = {"off", "false", "0", "no"}


def _id(msg: str) -> fields.Integer:
    """A database id from a form: a whole number, within the column's range (else the same message)."""
    return fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error=msg),
                          error_messages={**required_messages(msg), "invalid": msg})


def _revision() -> fields.Integer:
    return fields.Integer(required=True, strict=False, validate=validate.Range(
        1, MAX_ID, error="Reload the page."), error_messages={
        **required_messages("Reload the page: the plan's revision is missing."), "invalid": "Reload the page."})


def dose_field(required: bool = True) -> fields.Decimal:
    return fields.Decimal(required=required, load_default=None, places=1, validate=validate.Range(
        min=MIN_DOSE, max=MAX_DOSE, error="Enter a dose in mcg between 0.1 and 9999."),
        error_messages={**required_messages("Choose the dose."), "invalid": "Enter the dose as a number of mcg.",
                        "special": "Enter the dose as a number of mcg."})


def override_confirm_field() -> fields.Decimal:
    """The override's explicit confirmation: a checkbox whose value is the dose (in mcg) it confirms, shown with
    its mL and mcg/kg. The service accepts an override only when this equals the dose."""
    return fields.Decimal(load_default=None, places=1, allow_nan=False, error_messages={
        "invalid": "Tick the box to confirm the dose.", "special": "Tick the box to confirm the dose."})


class DoseChoiceMixin:
    """`dose_mcg` is one of the listed values, or "other" with `other_dose_mcg` (a neurosurgeon's override).
    `dose_field` in the result names the field the number came from (for messages beside it)."""

    @staticmethod
    def resolve(data: dict[str, Any]) -> dict[str, Any]:
        choice = data.pop("dose_mcg", None)
        other = data.pop("other_dose_mcg", None)
        if choice == "other":
            if other is None:
                raise ValidationError({"other_dose_mcg": ["Enter the dose in mcg."]})
            too_high = current_protocol().above_absolute_max(other)
            if too_high:
                raise ValidationError({"other_dose_mcg": [too_high]})
            data["dose_mcg"] = other
            data["dose_field"] = "other_dose_mcg"
        elif choice is None:
            raise ValidationError({"dose_mcg": ["Choose the dose."]})
        else:
            try:
                dose = Decimal(choice)
            except ArithmeticError:
                dose = None
            # Decimal() also reads "NaN", "Infinity" and "1e999": none is a dose (nor fits the column).
            if dose is None or not dose.is_finite() or not MIN_DOSE <= dose <= MAX_DOSE:
                raise ValidationError({"dose_mcg": ["Choose one of the listed doses."]})
            too_high = current_protocol().above_absolute_max(dose)
            if too_high:
                raise ValidationError({"dose_mcg": [too_high]})
            data["dose_mcg"] = dose
            data["dose_field"] = "dose_mcg"
        return data


class PlanSchema(FormSchema, DoseChoiceMixin):
    dose_mcg = fields.String(required=True, error_messages=required_messages("Choose the dose."))
    other_dose_mcg = dose_field(required=False)
    planned_time = fields.Time(required=True, error_messages={
        **required_messages("Enter the planned time."), "invalid": "Enter a time as HH:MM."})
    override_reason = fields.String(load_default=None, validate=max_length(1000))
    override_confirm = override_confirm_field()
    base_revision = _revision()

    @post_load
    def _dose(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return self.resolve(data)


class HoldSchema(FormSchema):
    action = fields.String(required=True, validate=validate.OneOf(["hold", "cancel"], error="Choose hold or cancel."),
                           error_messages=required_messages("Choose hold or cancel."))
    reason = fields.String(required=True, validate=max_length(1000),
                           error_messages=required_messages("Give the reason."))
    base_revision = _revision()


class DoseSchema(FormSchema, DoseChoiceMixin):
    given_time = fields.Time(required=True, error_messages={
        **required_messages("Enter the time the dose was given."), "invalid": "Enter a time as HH:MM."})
    dose_mcg = fields.String(required=True, error_messages=required_messages("Choose the dose given."))
    other_dose_mcg = dose_field(required=False)
    override_reason = fields.String(load_default=None, validate=max_length(1000))
    override_confirm = override_confirm_field()
    route = fields.String(required=True, validate=validate.OneOf(list(ROUTES), error="Choose the route."),
                          error_messages=required_messages("Choose the route."))
    given_by_id = _id("Choose who gave the dose.")
    checked_by_id = _id("Choose who double-checked the dose.")

    @post_load
    def _dose(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return self.resolve(data)


class AmendSchema(FormSchema, DoseChoiceMixin):
    """A correction of a recorded dose: time, amount, double-checker, and why."""

    given_time = fields.Time(required=True, error_messages={
        **required_messages("Enter the time the dose was given."), "invalid": "Enter a time as HH:MM."})
    dose_mcg = fields.String(required=True, error_messages=required_messages("Choose the dose given."))
    other_dose_mcg = dose_field(required=False)
    override_reason = fields.String(load_default=None, validate=max_length(1000))
    override_confirm = override_confirm_field()
    checked_by_id = _id("Choose who double-checked the dose.")
    reason = fields.String(required=True, validate=max_length(1000),
                           error_messages=required_messages("Give the reason for the correction."))
    base_version = fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error=(
        "Reload the page.")), error_messages={**required_messages("Reload the page."), "invalid": "Reload the page."})

    @post_load
    def _dose(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return self.resolve(data)


class VoidSchema(FormSchema):
    """Marking a recorded dose entered in error: why, and an explicit confirmation."""

    reason = fields.String(required=True, validate=max_length(1000), error_messages=required_messages(
        "Give the reason for marking it entered in error."))
    confirm = fields.String(required=True, validate=validate.Equal("yes", error=(
        "Tick the box to confirm that this dose record was entered in error.")), error_messages=required_messages(
        "Tick the box to confirm that this dose record was entered in error."))
    base_version = fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error=(
        "Reload the page.")), error_messages={**required_messages("Reload the page."), "invalid": "Reload the page."})


class EscalationResponseSchema(FormSchema):
    """A record that an escalation (overdose signs) was acted on: who, when, what was done."""

    acted_by_id = _id("Choose the nurse or neurosurgeon who acted.")
    acted_at = WallClockDateTime(required=True, ahead_days=1, too_late="The time acted cannot be in the future.",
                                 error_messages={
        **required_messages("Enter when it was done."), "invalid": "Enter a date and time."})
    action_taken = fields.String(required=True, validate=max_length(2000),
                                 error_messages=required_messages("Say what was done."))
    escalation_key = fields.Integer(required=True, strict=False, validate=validate.Range(1, MAX_ID, error=(
        "Reload the page.")), error_messages={**required_messages("Reload the page."), "invalid": "Reload the page."})


def _int(name: str, low: int, high: int, unit: str = "") -> fields.Integer:
    msg = f"{name} is a whole number from {low} to {high}{unit}."
    return fields.Integer(load_default=None, strict=False, validate=validate.Range(low, high, error=msg),
                          error_messages={"invalid": msg})


class ObservationSchema(FormSchema):
    """One set of observations. Plausibility limits only: clinical ranges are flagged, never refused."""

    trial_day_id = fields.Integer(required=True, strict=False, validate=validate.Range(
        1, MAX_ID, error="No such trial day. Reload the page."), error_messages={
        **required_messages("Reload the page: the trial day is missing."), "invalid": "Reload the page."})
    entry_id = fields.String(load_default=None, validate=validate.Regexp(UUID_RE.pattern, error="Reload the page."))
    taken_at = WallClockDateTime(load_default=None, earliest=None, ahead_days=1,  # the service checks the day
                                 too_late="The time taken cannot be in the future.",
                               error_messages={"invalid": "Enter a date and time."})
    heart_rate = _int("Heart rate", 20, 300, "/min")
    resp_rate = _int("Respiratory rate", 0, 120, "/min")
    spo2 = _int("SpO2", 50, 100, "%")
    bp_systolic = _int("Systolic pressure", 30, 250, " mmHg")
    bp_diastolic = _int("Diastolic pressure", 10, 200, " mmHg")
    temperature_c = fields.Decimal(load_default=None, places=1, validate=validate.Range(
        Decimal("30"), Decimal("44"), error="Temperature is from 30 to 44 °C."),
        error_messages={"invalid": "Enter the temperature as a number, e.g. 36.8.",
                        "special": "Enter the temperature as a number, e.g. 36.8."})
    sedation_score = fields.Integer(load_default=None, strict=False, validate=validate.OneOf(
        list(SEDATION_SCALE), error="Choose a sedation score from 0 to 4."),
        error_messages={"invalid": "Choose a sedation score from 0 to 4."})
    pain_score = _int("Pain score", 0, 10)
    effects = fields.List(fields.String(), load_default=list, validate=validate.ContainsOnly(
        list(ADVERSE_EFFECTS), error="An adverse effect on this form is no longer listed: reload the page."))
    notes = fields.String(load_default=None, validate=max_length(2000))

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        measured = ("heart_rate", "resp_rate", "spo2", "bp_systolic", "bp_diastolic", "temperature_c",
                    "sedation_score", "pain_score", "notes")
        if not any(data.get(k) is not None for k in measured) and not data.get("effects"):
            raise ValidationError("Enter at least one observation.", "_form")
        if (data.get("bp_systolic") is None) != (data.get("bp_diastolic") is None):
            raise ValidationError("Enter both blood pressure numbers.",
                                  "bp_diastolic" if data.get("bp_diastolic") is None else "bp_systolic")
        if data.get("bp_systolic") is not None and data["bp_diastolic"] >= data["bp_systolic"]:
            raise ValidationError("Diastolic must be lower than systolic.", "bp_diastolic")
