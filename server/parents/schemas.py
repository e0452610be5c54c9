"""Form schema for a new parent link: marshmallow at the edge, errors by field name."""

from __future__ import annotations

from marshmallow import fields, validate

from ..web.forms import FormSchema, required_messages

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
