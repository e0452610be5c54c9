from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ..web.forms import FormSchema
from .models import ROLES
from .policy import MAX_LENGTH, password_problems

TOO_LONG = f"Use at most {MAX_LENGTH} characters."
CONFIRM = {"truthy": {"yes", "on", "1", "true"}, "falsy": {"no", "off", "0", "false"}}
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
    password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH, error=TOO_LONG),
                             error_messages={"required": "Set a first password."})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES, error="Unknown role.")),
                        required=True, validate=validate.Length(min=1, error="Choose at least one role."),
                        error_messages={"required": "Choose at least one role."})

    @validates_schema(skip_on_field_errors=False)
    def _policy(self, data: dict[str, Any], **_: Any) -> None:
        """The password policy beside the other fields' messages, in one answer (create_staff checks it again)."""
        if isinstance(data.get("password"), str):
            problems = password_problems(data["password"], data.get("username"))
            if problems:
                raise ValidationError(problems, "password")


class StaffRolesSchema(FormSchema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES, error="Unknown role.")),
                        required=True, validate=validate.Length(min=1, error="Choose at least one role."),
                        error_messages={"required": "Choose at least one role."})
    confirm = fields.Boolean(load_default=False, **CONFIRM)  # type: ignore[arg-type]


class StaffActiveSchema(FormSchema):
    active = fields.Boolean(required=True, **CONFIRM,  # type: ignore[arg-type]
                            error_messages={"required": "Reload the page and try again.",
                                            "invalid": "Reload the page and try again."})
    confirm = fields.Boolean(load_default=False, **CONFIRM)  # type: ignore[arg-type]


class TemporaryPasswordSchema(FormSchema):
    password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH, error=TOO_LONG),
                             error_messages={"required": "Type the temporary password."})


class PasswordChangeSchema(FormSchema):
    current_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH, error=TOO_LONG),
                                     error_messages={"required": "Type your current password."})
    new_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH, error=TOO_LONG),
                                 error_messages={"required": "Type a new password."})
    new_password_again = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH, error=TOO_LONG),
                                       error_messages={"required": "Type the new password again."})

    @validates_schema
    def _same(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            raise ValidationError("The two new passwords are not the same.", "new_password_again")
