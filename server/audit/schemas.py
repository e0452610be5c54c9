"""The audit viewer's filters, validated at the edge like every form (a query string here)."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ..web.forms import EARLIEST_YEAR, FormSchema
from ..web.routing import MAX_ID
from .queries import ACTIONS

_DATE: dict[str, Any] = {"invalid": "Enter a date as YYYY-MM-DD."}
_RANGE = validate.Range(date(EARLIEST_YEAR, 1, 1), date(2100, 12, 31),
                        error=f"Choose a date between {EARLIEST_YEAR} and 2100.")


def _id(message: str) -> fields.Integer:
    return fields.Integer(load_default=None, strict=False, validate=validate.Range(1, MAX_ID, error=message),
                          error_messages={"invalid": message})


class AuditFilterSchema(FormSchema):
    trial_id = _id("Choose a trial from the list.")
    patient_id = _id("Choose a child from the list.")
    user_id = _id("Choose a person from the list.")
    action = fields.String(load_default=None, validate=validate.OneOf(list(ACTIONS), error="Choose an action."))
    entity_type = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None, validate=_RANGE, error_messages=_DATE)
    until = fields.Date(load_default=None, validate=_RANGE, error_messages=_DATE)
    page = fields.Integer(load_default=1, strict=False, validate=validate.Range(
        1, 100_000, error="No such page."), error_messages={"invalid": "No such page."})

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("The end date is before the start date.", "until")
