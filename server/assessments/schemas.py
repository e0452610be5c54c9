# ruff: noqa: RUF001  (clinical text uses en dashes and minus signs on purpose)
"""The assessment form, validated once: the online form post and the replayed sync entry load through this.

Field names are the flat form names from `instruments` (e.g. `mas.hip_adductors.left`). The schema loads a
`request.form` MultiDict and a JSON dict of strings (the sync payload) alike, and answers with errors keyed
by those names, so they show beside the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, post_load, validate, validates_schema

from sync.fieldloop import Step, run_fields

from ..web.forms import FormSchema
from ..web.routing import MAX_ID
from .instruments import (
    CELLS,
    INSTRUMENTS,
    ITEMS,
    NOT_TESTED_SIDED,
    NOT_TESTED_YES,
    NOTES_MAX,
    PHASES,
    REASON_MAX,
    SIDE_LABELS,
    Cell,
    Item,
    Measure,
    choice_message,
    number_message,
    range_message,
)

REASON_NEEDED = "Say why it was not tested (e.g. child asleep, in pain, cast on)."
VALUE_AND_NOT_TESTED = "Marked not tested: clear this value, or change “not tested”."
NOTHING_RECORDED = "Nothing was recorded: score at least one item, or mark items not tested with a reason."


def _attr(name: str) -> str:
    return name.replace(".", "__")


class Number(fields.Decimal):
    """A typed number with the instrument's range and precision, and messages that name the field."""

    def __init__(self, item: Item, measure: Measure, **kwargs: Any) -> None:
        self.measure = measure
        message = number_message(item, measure)
        super().__init__(
            allow_nan=False, load_default=None,
            validate=validate.Range(min=measure.min, max=measure.max, error=range_message(item, measure)),
            error_messages={"invalid": message, "special": message, "null": message}, **kwargs)
        assert measure.min is not None and measure.max is not None, f"{item.id} needs a range"
        self._lo, self._hi = Decimal(measure.min), Decimal(measure.max)

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        """Fast path for a plain valid number typed as text (nearly every value of a sync batch); anything
        else takes marshmallow's full path, which gives the same result and every error message."""
        if isinstance(value, str):
            try:
                number = Decimal(value.replace(",", ".").replace("−", "-"))
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite() and self._lo <= number <= self._hi and self._fits(number):
                return number
        return super().deserialize(value, attr, data, **kwargs)

    def _fits(self, number: Decimal) -> bool:
        """No more decimal places than the measure has (5.0 is a whole number)."""
        exponent = number.as_tuple().exponent
        return not (isinstance(exponent, int) and -exponent > self.measure.decimals
                    and number != number.to_integral_value())

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", ".").replace("−", "-")  # decimal comma; a typographic minus
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        if not self._fits(number):
            raise self.make_error("invalid")
        return number


class Choice(fields.String):
    """One of a fixed set of codes (a MAS grade, a side), with one message for anything else."""

    def __init__(self, choices: list[str], message: str, **kwargs: Any) -> None:
        super().__init__(load_default=None, validate=validate.OneOf(choices, error=message),
                         error_messages={"invalid": message, "null": message}, **kwargs)
        self._choices = frozenset(choices)

    def deserialize(self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None,
                    **kwargs: Any) -> Any:
        """Fast path for a valid code; anything else takes marshmallow's full path and its messages."""
        if isinstance(value, str) and value in self._choices:
            return value
        return super().deserialize(value, attr, data, **kwargs)


# Field types whose `deserialize` is a pure function of the text it is given (no other field, no clock, and here
# pure validators): a valid short text's value can be remembered and handed out again (the same immutable value
# the field made for it; `_AssessmentSchemaBase._deserialize`). Exact types: a subclass may read more.
_PURE_FIELDS = frozenset({fields.Integer, fields.String, fields.Boolean, Number, Choice})


def _cell_field(item: Item, measure: Measure, name: str) -> fields.Field[Any]:
    if measure.is_choice:
        return Choice(measure.choice_values(), choice_message(measure), data_key=name)
    return Number(item, measure, data_key=name)


def _not_tested_field(item: Item) -> fields.Field[Any]:
    if item.sided:
        message = "Choose left, right or both sides."
        choices = list(NOT_TESTED_SIDED)
    else:
        message = "Tick “Not tested” or leave it clear."
        choices = [NOT_TESTED_YES]
    return Choice(choices, message, data_key=item.not_tested_name)


def _generated_fields() -> dict[str, fields.Field[Any]]:
    out: dict[str, fields.Field[Any]] = {}
    for cell in CELLS.values():
        out[_attr(cell.name)] = _cell_field(cell.item, cell.measure, cell.name)
    for item in ITEMS.values():
        out[_attr(item.not_tested_name)] = _not_tested_field(item)
        out[_attr(item.reason_name)] = fields.String(
            data_key=item.reason_name, load_default=None,
            validate=validate.Length(max=REASON_MAX, error=f"Keep the reason under {REASON_MAX} characters."))
    return out


def _unknown_key_message(key: str) -> str | None:
    """A message for a field that looks like an instrument field but names no known item or side."""
    # Real field names are short and repeat across forms: cache those. A long key (anything a client sends)
    # is worked out each time, so the cache never holds more than 4096 short strings.
    return _key_message(key) if len(key) <= 64 else _key_message.__wrapped__(key)


@lru_cache(maxsize=4096)
def _key_message(key: str) -> str | None:
    parts = key.split(".")
    instrument = INSTRUMENTS.get(parts[0])
    if instrument is None or key in CELLS or (len(parts) > 2 and parts[-1] in ("not_tested", "not_tested_reason")
                                              and ".".join(parts[:2]) in ITEMS and len(parts) == 3):
        return None
    if len(parts) < 2 or f"{parts[0]}.{parts[1]}" not in ITEMS:
        name = parts[1] if len(parts) > 1 else ""
        return f"Unknown {instrument.item_word} “{name}” for {instrument.title}."
    item = ITEMS[f"{parts[0]}.{parts[1]}"]
    if item.sided and (len(parts) < 3 or parts[2] not in SIDE_LABELS):
        side = parts[2] if len(parts) > 2 else ""
        return f"Unknown side “{side}” for {item.label}: use left or right."
    if len(item.measures) > 1:
        return f"Unknown measure “{parts[-1]}” for {item.label}."
    return f"Unknown field “{key}”."


def _not_tested_sides(item: Item, value: str | None) -> set[str | None]:
    if not value:
        return set()
    if not item.sided:
        return {None}
    return {"left", "right"} if value == "both" else {value}


@dataclass(frozen=True)
class _ItemFields:
    """An item's loaded-data keys, worked out once: a load visits only the items the payload fills in."""

    order: int
    item: Item
    not_tested: str
    reason: str
    cells: tuple[tuple[Cell, str], ...]
    tardieu: tuple[tuple[str, str, str], ...]  # Tardieu: (R1 field name, R1 key, R2 key) per side


def _tardieu_pairs(item: Item) -> tuple[tuple[str, str, str], ...]:
    if item.instrument != "tardieu":
        return ()
    return tuple((item.field(side, "r1"), _attr(item.field(side, "r1")), _attr(item.field(side, "r2")))
                 for side in item.sides())


_ITEM_FIELDS = {
    item.id: _ItemFields(n, item, _attr(item.not_tested_name), _attr(item.reason_name),
                         tuple((cell, _attr(cell.name)) for cell in item.cells()), _tardieu_pairs(item))
    for n, item in enumerate(ITEMS.values())
}
_ITEM_BY_ATTR: dict[str, _ItemFields] = {}
for _f in _ITEM_FIELDS.values():
    _ITEM_BY_ATTR[_f.not_tested] = _ITEM_BY_ATTR[_f.reason] = _f
    for _cell, _cell_attr in _f.cells:
        _ITEM_BY_ATTR[_cell_attr] = _f
_CELL_BY_ATTR = {_attr(cell.name): cell for cell in CELLS.values()}
_CELL_ORDER = {attr: n for n, attr in enumerate(_CELL_BY_ATTR)}
_PENN = ITEMS["function.penn"]
_PENN_FREQUENCY = _attr(_PENN.field(None, "frequency"))
_PENN_SEVERITY = _attr(_PENN.field(None, "severity"))


def _items_in(data: Mapping[str, Any]) -> list[_ItemFields]:
    """The items with at least one value in `data` (loaded, attribute-named), in form order."""
    found = {f.order: f for k, v in data.items() if v is not None and (f := _ITEM_BY_ATTR.get(k)) is not None}
    return [found[n] for n in sorted(found)]


class _Loaded(dict):  # type: ignore[type-arg]
    """The loaded values of one form, carrying the items it fills in once worked out (`_items`), so the
    cross-checks and the shaping after them visit the fields once."""

    __slots__ = ("filled",)

    def __init__(self) -> None:
        super().__init__()
        self.filled: list[_ItemFields] | None = None


_MEMO_TEXT = 16  # longest text remembered (grades, angles, seconds, codes; not notes)
_MEMO_SIZE = 256  # texts remembered per field name (at most ~170 fields x 256 small values: a few MB a worker)
# field name -> {text: value}; shared by every `schema_for` instance, since their fields are copies of one
# declared field. Only values are remembered: a text that fails always goes through the field, for its error.
_MEMO: dict[str, dict[Any, Any]] = {}


def _short_text(raw: Any) -> bool:
    return type(raw) is str and len(raw) <= _MEMO_TEXT


class _AssessmentSchemaBase(FormSchema):
    _plan: list[Step] | None = None
    _cell_plan: list[tuple[str, str, bool]] | None = None

    def _deserialize(self, data: Any, *, error_store: Any, many: bool = False, partial: Any = None,
                     unknown: Any = EXCLUDE, index: Any = None) -> Any:
        """marshmallow's field loop for one form (not many, not partial, unknown names excluded), without its
        per-field closure: the same `Field.deserialize` calls, values and errors. A sync batch loads ~40 fields
        of hundreds of entries. A short text a field loaded before (grades, angles: they repeat across forms)
        is answered with the value the field made for it then (`_MEMO`); any other value, and every invalid
        one, goes through the field. Anything else goes through marshmallow's own loop."""
        if many or partial is not None or unknown != EXCLUDE or not isinstance(data, Mapping):
            return super()._deserialize(data, error_store=error_store, many=many, partial=partial,
                                        unknown=unknown, index=index)
        plan = self._plan
        if plan is None:
            plan = self._plan = [
                (field.attribute or name, field, field.data_key if field.data_key is not None else name,
                 _MEMO.setdefault(name, {}) if type(field) in _PURE_FIELDS else None)
                for name, field in self.load_fields.items()]
            assert not any("." in attr for attr, _, _, _ in plan), "dotted attributes need marshmallow's loop"
        index = index if self.opts.index_errors else None
        return run_fields(plan, data, _Loaded(), error_store, index, remember=_short_text, most=_MEMO_SIZE)

    def _items(self, data: Mapping[str, Any]) -> list[_ItemFields]:
        """`_items_in`, once per load (the loaded data carries it)."""
        if type(data) is _Loaded and data.filled is not None:
            return data.filled
        found = _items_in(data)
        if type(data) is _Loaded:
            data.filled = found
        return found

    def _cells(self) -> list[tuple[str, str, bool]]:
        """This schema's value fields in form order: (attribute, form name, whole number), worked out once."""
        if self._cell_plan is None:
            self._cell_plan = [(attr, _CELL_BY_ATTR[attr].name, _CELL_BY_ATTR[attr].measure.decimals == 0)
                               for attr in sorted((a for a in self.fields if a in _CELL_BY_ATTR),
                                                  key=_CELL_ORDER.__getitem__)]
        return self._cell_plan

    trial_id = fields.Integer(required=True, strict=False, validate=validate.Range(
        1, MAX_ID, error="Unknown trial: open the form from the trial's page."), error_messages={
        "required": "Unknown trial: open the form from the trial's page.", "null": "Unknown trial.",
        "invalid": "Unknown trial: open the form from the trial's page."})
    day_number = fields.Integer(required=True, strict=False, validate=validate.Range(
        min=1, max=30, error="Unknown trial day."), error_messages={
        "required": "Unknown trial day.", "null": "Unknown trial day.", "invalid": "Unknown trial day."})
    phase = fields.String(required=True, validate=validate.OneOf(list(PHASES), error="Choose baseline or post-dose."),
                          error_messages={"required": "Choose baseline or post-dose."})
    supersedes_id = fields.Integer(load_default=None, strict=False, validate=validate.Range(
        1, MAX_ID, error="Unknown assessment to correct."),
        error_messages={"invalid": "Unknown assessment to correct."})
    correction_reason = fields.String(load_default=None, validate=validate.Length(
        max=500, error="Keep the reason under 500 characters."))
    notes = fields.String(load_default=None, validate=validate.Length(
        max=NOTES_MAX, error=f"Notes are limited to {NOTES_MAX} characters."))
    # A second assessment of the same day and phase, meant as such ("Add a repeat").
    repeat = fields.Boolean(load_default=False, truthy={"1", "on", "true", "yes", True},
                            falsy={"0", "off", "false", "no", False},
                            error_messages={"invalid": "Tick the box, or leave it empty."})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _cross_checks(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        errors: dict[str, list[str]] = {}

        def add(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        keys = list(original.keys()) if isinstance(original, Mapping) else []
        for key in keys:
            if key in _ATTR_OF:  # a field of the form: nothing unknown about it
                continue
            message = _unknown_key_message(str(key))
            if message:
                add(str(key), message)
        entered = any(_filled(original, k) for k in keys
                      if k in CELLS or k.endswith((".not_tested", ".not_tested_reason")))
        if not entered and not errors:
            add("_schema", NOTHING_RECORDED)

        # Only items with something filled in can break a rule below: visit those, in form order.
        for fields_ in self._items(data):
            item = fields_.item
            nt = data.get(fields_.not_tested)
            reason = data.get(fields_.reason)
            if nt and not reason:
                add(item.reason_name, REASON_NEEDED)
            if reason and not nt:
                add(item.not_tested_name, "Choose which side was not tested, or clear the reason." if item.sided
                    else "Tick “Not tested”, or clear the reason.")
            skipped = _not_tested_sides(item, nt)
            for cell, attr in fields_.cells if skipped else ():
                if cell.side in skipped and data.get(attr) is not None:
                    add(cell.name, VALUE_AND_NOT_TESTED)
            for r1_name, r1_key, r2_key in fields_.tardieu:
                r1 = data.get(r1_key)
                r2 = data.get(r2_key)
                if r1 is not None and r2 is not None and (r2 - r1) * item.stretch_direction < 0:
                    add(r1_name,
                    "R1 (the catch on a fast stretch) cannot lie beyond R2 (the full slow range): "
                    "check both angles.")
        frequency = data.get(_PENN_FREQUENCY)
        severity = data.get(_PENN_SEVERITY)
        if frequency == "0" and severity is not None:
            add(_PENN.field(None, "severity"), "Leave severity blank when there are no spasms (frequency 0).")
        if frequency not in (None, "0") and severity is None:
            add(_PENN.field(None, "severity"), "Choose how severe the spasms are.")
        if data.get("supersedes_id") is not None and not data.get("correction_reason"):
            add("correction_reason", "Give the reason for the correction.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _shape(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for attr, name, whole in self._cells():  # (every loaded key is one of this schema's fields)
            value = data.get(attr)
            if value is None:
                continue
            if isinstance(value, Decimal):
                value = int(value) if whole else float(value)
            values[name] = value
        not_tested: dict[str, Any] = {}
        for fields_ in self._items(data):
            item = fields_.item
            nt = data.get(fields_.not_tested)
            if nt:
                sides = sorted(s for s in _not_tested_sides(item, nt) if s) if item.sided else []
                not_tested[item.id] = {"sides": sides, "reason": data[fields_.reason]}
        return {
            "trial_id": data["trial_id"], "day_number": data["day_number"], "phase": data["phase"],
            "supersedes_id": data.get("supersedes_id"), "correction_reason": data.get("correction_reason"),
            "values": values, "not_tested": not_tested, "notes": data.get("notes"),
            "repeat": bool(data.get("repeat")),
        }


def _filled(original: Any, key: str) -> bool:
    value = original.get(key)
    return value is not None and str(value).strip() != ""


AssessmentSchema = _AssessmentSchemaBase.from_dict(_generated_fields(), name="AssessmentSchema")

_ALWAYS = frozenset({"trial_id", "day_number", "phase", "supersedes_id", "correction_reason", "notes", "repeat"})
# form name (e.g. "mas.soleus.left") -> schema attribute ("mas__soleus__left"), for every declared field
_ATTR_OF = {field.data_key or name: name for name, field in AssessmentSchema._declared_fields.items()}
_BY_KEYS: dict[frozenset[str], Any] = {}  # form names filled in -> the schema for them


def schema_for(payload: Mapping[str, Any]) -> Any:
    """The assessment schema restricted to the fields this payload fills in (plus the always-present ones).

    Same fields, validators and cross-checks as `AssessmentSchema()`, but marshmallow then visits ~40 fields
    instead of ~170 on every load; instances are cached by field set (forms send the same sets again and
    again), since building one deep-copies every declared field. A sync batch loads hundreds of entries."""
    # The form names filled in (a text: not blank once stripped; anything else: not None, nor blank as text).
    names = frozenset(k for k, v in payload.items()
                      if k in _ATTR_OF and (v.strip() if type(v) is str else v is not None and str(v).strip()))
    schema = _BY_KEYS.get(names)
    if schema is None:
        if len(_BY_KEYS) > 512:
            _BY_KEYS.clear()
        schema = _BY_KEYS[names] = AssessmentSchema(only=_ALWAYS | frozenset(_ATTR_OF[k] for k in names))
    return schema


def known_field_names() -> set[str]:
    """Every name the form may send (so a page can show errors for anything else at the top)."""
    names = set(CELLS)
    for item in ITEMS.values():
        names |= {item.not_tested_name, item.reason_name}
    return names | {"notes", "correction_reason", "repeat"}


class PlanSchema(FormSchema):
    items = fields.List(fields.String(), load_default=list)
    base_rev = fields.Integer(load_default=None, strict=False, validate=validate.Range(
        0, MAX_ID, error="Reload the page and choose again."),
                              error_messages={"invalid": "Reload the page and choose again."})

    @validates_schema
    def _items(self, data: dict[str, Any], **_: Any) -> None:
        unknown = [i for i in data.get("items", []) if i not in ITEMS]
        if unknown:
            raise ValidationError(f"Unknown item(s): {', '.join(unknown)}.", "items")
        if not data.get("items"):
            raise ValidationError("Choose at least one muscle group, joint or test.", "items")


class TimingSchema(FormSchema):
    """Resolving an assessment whose time contradicts its phase: keep it as recorded, or move it."""

    action = fields.String(required=True, validate=validate.OneOf(
        ["confirm", "move"], error="Choose: keep it as recorded, or move it to the other phase."),
        error_messages={"required": "Choose: keep it as recorded, or move it to the other phase."})
    reason = fields.String(required=True, validate=validate.Length(
        max=500, error="Keep the reason under 500 characters."), error_messages={
        "required": "Say why (e.g. “the dose was given late; the baseline was taken before it”)."})
