"""A marshmallow schema's field loop without its per-field closure, remembering the values of pure fields.

`Schema._deserialize` builds a closure per field and value; a sync batch loads hundreds of entries of ~40 fields
each. `run_fields` makes the same `Field.deserialize` calls and stores the same errors, and answers a raw value a
field loaded before with the value it made then, for the fields a schema names as pure (a value that is a
function of the raw value alone: no other field, no clock). Only values are remembered: a value that fails always
goes through the field, so every refusal is the field's own. Used by `sync.protocol.EntrySchema` and the
assessment schema of `server/assessments/schemas.py`; each is tested against marshmallow's own loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from marshmallow import ValidationError, fields, missing

# One field of a plan: (attribute in the loaded data, the field, the key in the input, its memo or None).
Step = tuple[str, "fields.Field[Any]", str, "dict[Any, Any] | None"]


def run_fields(
    plan: list[Step],
    data: Mapping[str, Any],
    out: MutableMapping[str, Any],
    error_store: Any,
    index: Any,
    *,
    remember: Callable[[Any], bool],
    most: int,
) -> MutableMapping[str, Any]:
    """Load `data` field by field into `out`, as marshmallow's loop does (errors stored under the input key,
    a failed field's valid part kept). A raw value that `remember` accepts and the field loaded before is
    answered from its memo; a valid one is remembered, at most `most` a field."""
    for attr, field, key, memo in plan:
        raw = data.get(key, missing)
        if memo is not None and remember(raw):
            value = memo.get(raw, missing)
            if value is not missing:
                out[attr] = value
                continue
            try:
                value = field.deserialize(raw, key, data)
            except ValidationError as error:
                error_store.store_error(error.messages, key, index=index)
                value = error.valid_data or missing
            else:
                if len(memo) < most:
                    memo[raw] = value
        else:
            try:
                value = field.deserialize(raw, key, data)
            except ValidationError as error:
                error_store.store_error(error.messages, key, index=index)
                value = error.valid_data or missing
        if value is not missing:
            out[attr] = value
    return out
