"""Form schemas for the team's decisions: marshmallow at the edge, errors by field name."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from ..dosing.schemas import DoseChoiceMixin, dose_field, override_confirm_field
from ..protocol import current_protocol
from ..trials.models import OUTCOMES
from ..web.forms import FormSchema, max_length, required_messages
from ..web.routing import MAX_ID
from .models import EFFECTS, NEXT_STEPS, TEAM_ROLES

DOSE_STEPS = ("escalate", "repeat", "de_escalate")


def _base_revision() -> fields.Integer:
    """0 for a new record, else the revision the form was opened at."""
    return fields.Integer(required=True, strict=False,
                          validate=validate.Range(0, MAX_ID, error="Reload the page."),
                          error_messages={**required_messages("Reload the page: the revision is missing."),
                                          "invalid": "Reload the page."})


def _choice(options: dict[str, str], message: str) -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(list(options), error=message),
                         error_messages=required_messages(message))


class Hours(fields.Field):  # type: ignore[type-arg]
    """A number of hours typed on the form ("6", "5.5" or "5,5"); its bounds are the protocol's
    (`Protocol.effect_hours_errors`, also applied by the service on every path)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        message = current_protocol().effect_hours_message(attr or "")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValidationError(message)
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation as exc:
            raise ValidationError(message) from exc
        if not number.is_finite():
            raise ValidationError(message)
        return number


class DecisionSchema(FormSchema, DoseChoiceMixin):
    effect = _choice(EFFECTS, "Choose how the dose worked.")
    next_step = _choice(NEXT_STEPS, "Choose the next step.")
    dose_mcg = fields.String(load_default=None)  # needed for escalate / repeat / de-escalate only
    other_dose_mcg = dose_field(required=False)
    override_reason = fields.String(load_default=None, validate=max_length(1000))
    override_confirm = override_confirm_field()
    planned_time = fields.Time(load_default=None, error_messages={"invalid": "Enter a time as HH:MM."})
    rationale = fields.String(required=True, validate=max_length(2000),
                              error_messages=required_messages("Say why: the team's reasons, in a sentence or two."))
    team_present = fields.List(fields.String(), load_default=list, validate=validate.ContainsOnly(
        list(TEAM_ROLES), error="Choose from the listed roles."))
    parents_present = fields.String(load_default=None, validate=validate.OneOf(
        ["yes"], error="Tick the box if the parents took part."))
    parents_view = fields.String(load_default=None, validate=max_length(2000))
    effect_onset_hours = Hours(load_default=None)
    effect_duration_hours = Hours(load_default=None)
    base_revision = _base_revision()

    @validates_schema(skip_on_field_errors=False)
    def _hours(self, data: dict[str, Any], **_: Any) -> None:
        errors = current_protocol().effect_hours_errors(data.get("effect_onset_hours"),
                                                        data.get("effect_duration_hours"))
        if errors:
            raise ValidationError(errors)

    @post_load
    def _shape(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["parents_present"] = data.get("parents_present") == "yes"
        if not data["team_present"]:
            raise ValidationError({"team_present": ["Tick who took part in the decision."]})
        if data["next_step"] not in DOSE_STEPS or (data.get("dose_mcg") is None
                                                   and data.get("other_dose_mcg") is None):
            # Only escalate, repeat and de-escalate name a dose: ignore the dose fields for the other steps.
            data.pop("other_dose_mcg", None)
            data["dose_mcg"] = None
            return data
        return self.resolve(data)


class OutcomeSchema(FormSchema):
    outcome = _choice(OUTCOMES, "Choose the team's outcome.")
    outcome_reason = fields.String(required=True, validate=max_length(2000),
                                   error_messages=required_messages("Give the team's reasons."))
    confirm_missing = fields.String(load_default=None, validate=validate.OneOf(
        ["yes"], error="Tick the box to confirm the outcome with evidence missing."))
    base_revision = _base_revision()

    @post_load
    def _confirm(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["confirm_missing"] = data.get("confirm_missing") == "yes"
        return data
