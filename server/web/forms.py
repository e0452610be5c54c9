"""Form input through marshmallow: one helper so every form validates and reports errors alike."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from werkzeug.datastructures import MultiDict

from sync.protocol import text_problem

from . import clock


class Refused(Exception):
    """A service refused its input, with messages by form field ("_form" for the whole form): nothing was
    written. The view shows them beside the fields (422); a sync handler sends them back as `sync.Rejected`.
    Each feature names its own kind (`DosingError`, `TrialError`, ...), so a view catches only its own."""

    def __init__(self, errors: dict[str, list[str]], message: str | None = None):
        super().__init__(message or str(errors))
        self.errors = errors


EARLIEST_YEAR = 2000  # no date or time typed into this app is earlier (nor, for a child's record, plausible)
WALL_CLOCK_FORMAT = "%Y-%m-%dT%H:%M"


def _today() -> date:
    try:
        return clock.today()
    except RuntimeError:  # no app context (a schema loaded in a plain unit test): no hospital zone, UTC's date
        return clock.now().date()


class WallClockDateTime(fields.DateTime):
    """A date and time typed on a form, on the hospital's wall clock (naive, ``YYYY-MM-DDTHH:MM``), refused
    unless it lies between `earliest` (1 January 2000) and `ahead_days` after today: year 1 or 9999 would
    overflow on conversion to UTC, and no record of this app is dated outside that span. Services check the
    exact limits (not in the future, not before the trial day). `earliest=None` leaves the early side to the
    service (a time taken before its trial day is refused there with a message naming the day)."""

    def __init__(self, *, earliest: date | None = date(EARLIEST_YEAR, 1, 1), ahead_days: int = 366,
                 too_early: str | None = None, too_late: str | None = None, **kwargs: Any) -> None:
        super().__init__(format=WALL_CLOCK_FORMAT, **kwargs)
        self.earliest, self.ahead_days = earliest, ahead_days
        self.too_early, self.too_late = too_early, too_late

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        result: datetime = super()._deserialize(value, attr, data, **kwargs)
        latest = _today() + timedelta(days=self.ahead_days)
        span = f"{result.date().isoformat()} is not between {EARLIEST_YEAR} and {latest.isoformat()}"
        if result.date() > latest:
            raise ValidationError(self.too_late or f"Check the date: {span}.")
        if self.earliest is not None and result.date() < self.earliest:
            raise ValidationError(self.too_early or f"Check the date: {span}.")
        return result


def _plain_text(text: str) -> bool:
    """ASCII with no NUL: nothing for `text_problem` to find (its fast path, inlined for the common case)."""
    return text.isascii() and "\x00" not in text


class FormSchema(Schema):
    """Base for HTML form schemas: strips text, treats empty inputs as absent, ignores csrf_token, and refuses
    any text the database could not store (a NUL character, a lone surrogate) with a message by field."""

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
        refused: dict[str, list[str]] = {}
        for key, value in data.items():
            if (type(value) is str and type(key) is str and key.isascii() and value.isascii()
                    and "\x00" not in key and "\x00" not in value):  # `_plain_text` of both, inlined
                value = value.strip()  # the common case: one ASCII text without NUL (nearly every field)
                if value != "":
                    cleaned[key] = value
                continue
            texts = [key, *(value if isinstance(value, list) else [value])]
            problem = next((p for t in texts if isinstance(t, str) and (p := text_problem(t))), None)
            if problem:
                refused.setdefault(key if isinstance(key, str) and not text_problem(key) else "_form", []).append(
                    problem)
                continue
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            elif isinstance(value, list):
                value = [v.strip() if isinstance(v, str) else v for v in value]
                value = [v for v in value if v != ""]
            cleaned[key] = value
        if refused:
            raise ValidationError(refused)
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
