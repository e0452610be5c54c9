"""Form input through marshmallow: one helper so every form validates and reports errors alike."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from werkzeug.datastructures import MultiDict


class FormSchema(Schema):
    """Base for HTML form schemas: strips text, treats empty inputs as absent, ignores csrf_token."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        if isinstance(data, MultiDict):
            lists = {name for name, f in self.fields.items() if isinstance(f, fields.List)}
            data = {k: (data.getlist(k) if k in lists else data.get(k)) for k in data}
        if not isinstance(data, dict):
            return data
        cleaned: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            elif isinstance(value, list):
                value = [v.strip() if isinstance(v, str) else v for v in value]
                value = [v for v in value if v != ""]
            cleaned[key] = value
        return cleaned


def load_form(schema: Schema, form: MultiDict[str, str]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Validate a submitted form. Returns (data, {}) or (None, errors by field)."""
    try:
        return schema.load(form), {}
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        return None, {k: (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}


def required_messages(msg: str) -> dict[str, Any]:
    """The same message for a missing and an empty required field."""
    return {"required": msg, "null": msg}


def max_length(n: int) -> validate.Length:
    return validate.Length(max=n, error="Keep it to {max} characters.")
