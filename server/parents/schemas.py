"""Form schemas for a new parent link (staff, English) and a parent's daily observation (the parent's page, in
its language): marshmallow at the edge, errors by field name."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from ..web.forms import FormSchema, required_messages
from .models import NOTE_MAX, OBSERVATION_SCALES, SCALE_MAX, SCALE_MIN

LABEL_MAX = 60
EXPIRY_DAYS = (7, 14, 30)  # the choices offered; a link never lasts longer than the last one
DEFAULT_EXPIRY_DAYS = 14
EXPIRY_MESSAGE = "Choose how long the link works: 7, 14 or 30 days."


class ParentLinkSchema(FormSchema):
    label = fields.String(required=True, validate=validate.Length(
        max=LABEL_MAX, error="Keep it to {max} characters, e.g. “Mum” or “Dad and Grandma”."),
        error_messages=required_messages("Say who the link is for, e.g. “Mum”."))
    expires_in_days = fields.Integer(load_default=DEFAULT_EXPIRY_DAYS, strict=False,
                                     validate=validate.OneOf(EXPIRY_DAYS, error=EXPIRY_MESSAGE),
                                     error_messages={"invalid": EXPIRY_MESSAGE})


# --- a parent's daily observation (the parent's page: messages in the page's language) ------------------------

SCALE_MESSAGE = _l("Choose one of the five answers.")


def _scale() -> fields.Integer:
    return fields.Integer(strict=False, load_default=None, validate=validate.Range(
        min=SCALE_MIN, max=SCALE_MAX, error=SCALE_MESSAGE), error_messages={"invalid": SCALE_MESSAGE})


class ParentObservationSchema(FormSchema):
    """comfort, sleep, care, movement: 1 to 5 or left out; note: the parent's words, at most NOTE_MAX characters.
    At least one of them."""

    comfort = _scale()
    sleep = _scale()
    care = _scale()
    movement = _scale()
    note = fields.String(load_default=None, validate=validate.Length(
        max=NOTE_MAX, error=_l("Please keep your note to {max} characters.")),
        error_messages={"invalid": _l("Please write your note as text.")})

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if all(data.get(name) is None for name in (*OBSERVATION_SCALES, "note")):
            raise ValidationError(_l("Choose at least one answer, or write a note."), "_form")
