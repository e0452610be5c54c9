from __future__ import annotations

from marshmallow import fields, validate

from ..web.forms import FormSchema
from .models import ROLES

USERNAME = validate.Regexp(r"^[a-z0-9][a-z0-9._-]*$", error="Use lower-case letters, digits, dots, dashes.")


class LoginSchema(FormSchema):
    username = fields.String(required=True, validate=validate.Length(max=64),
                             error_messages={"required": "Enter your username."})
    password = fields.String(required=True, validate=validate.Length(max=256),
                             error_messages={"required": "Enter your password."})


class StaffCreateSchema(FormSchema):
    username = fields.String(required=True, validate=[validate.Length(min=2, max=64), USERNAME],
                             error_messages={"required": "Enter a username."})
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120),
                                 error_messages={"required": "Enter the person's name."})
    password = fields.String(required=True, validate=validate.Length(min=8, max=256,
                             error="Use at least 8 characters."),
                             error_messages={"required": "Set a first password (8 characters or more)."})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES, error="Unknown role.")),
                        required=True, validate=validate.Length(min=1, error="Choose at least one role."),
                        error_messages={"required": "Choose at least one role."})


class StaffRolesSchema(FormSchema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES, error="Unknown role.")),
                        required=True, validate=validate.Length(min=1, error="Choose at least one role."),
                        error_messages={"required": "Choose at least one role."})
