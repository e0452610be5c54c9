"""The research export form: which trials, which file, and whether to include the children's identifiers."""

from __future__ import annotations

from marshmallow import fields, validate

from ..web.forms import FormSchema
from ..web.routing import MAX_ID
from .research import FILE_CHOICES

FILE_MESSAGE = "Choose a file from the list."


class ExportSchema(FormSchema):
    # Empty: every trial.
    trial_id = fields.Integer(load_default=None, strict=False, validate=validate.Range(
        1, MAX_ID, error="Choose a trial from the list."), error_messages={"invalid": "Choose a trial from the list."})
    file = fields.String(load_default="zip", validate=validate.OneOf(FILE_CHOICES, error=FILE_MESSAGE))
    include_identifiers = fields.Boolean(load_default=False, truthy={"1", "on", "true", "yes", True},
                                         falsy={"0", "off", "false", "no", False},
                                         error_messages={"invalid": "Tick the box, or leave it empty."})
