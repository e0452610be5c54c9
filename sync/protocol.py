"""Wire protocol for offline sync: entries, batches, per-entry results.

The phone's outbox sends a :class:`PushRequest` holding one or more
:class:`Entry` objects; the server answers with one :class:`EntryResult` per
entry, in the same order.  This module is pure Python plus marshmallow and
must not import Flask or anything from ``server/``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
)

from .fieldloop import Step, run_fields

__all__ = [
    "EARLIEST_RECORDED_AT",
    "MAX_CLOCK_AHEAD",
    "MAX_ENTRIES_PER_BATCH",
    "MAX_INT",
    "NUL_MESSAGE",
    "PROTOCOL_VERSION",
    "UNENCODABLE_MESSAGE",
    "Entry",
    "EntryResult",
    "EntryResultSchema",
    "EntrySchema",
    "PushRequest",
    "PushRequestSchema",
    "PushResponse",
    "PushResponseSchema",
    "Status",
    "implausible",
    "payload_hash",
    "response_body",
    "result_body",
    "text_problem",
]

PROTOCOL_VERSION = 1
MAX_ENTRIES_PER_BATCH = 500

MAX_KIND_LENGTH = 64
MAX_DEVICE_ID_LENGTH = 64

# Plausibility bounds, checked per entry by the engine (``implausible``) so that one entry holding a value the
# database cannot store, or a phone with a broken clock, is answered "rejected" alone and never fails its batch.
MAX_INT = 2**31 - 1  # INTEGER columns (ids, revisions, form versions)
EARLIEST_RECORDED_AT = datetime(2000, 1, 1, tzinfo=UTC)  # no entry of this app was saved before then
MAX_CLOCK_AHEAD = timedelta(minutes=10)  # default: how far a phone's clock may run ahead of the server's
MAX_PAYLOAD_DEPTH = 8  # a form's payload is flat (a list where a name repeats): depth 2
NUL_MESSAGE = "Text cannot contain the NUL character (\\x00): remove it and save again."
UNENCODABLE_MESSAGE = "Text holds a character that is not valid Unicode (a lone surrogate): type it again."
CLOCK_ADVICE = "Set the phone's date and time (automatic), then save the entry again."

# Canonical lower-case 8-4-4-4-12 form, exactly what crypto.randomUUID() makes.
# Upper-case or brace/urn forms are refused rather than normalised: the
# client matches results to its outbox by exact id, so echoing a rewritten id
# would leave the entry stuck in the outbox forever. The server's forms use the same pattern for their ids.
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Status(StrEnum):
    """Outcome of one entry.  Only APPLIED and DUPLICATE let the client drop it."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Entry:
    """One offline-made write, as the phone's outbox stores and sends it."""

    id: str  # client-made UUID (crypto.randomUUID())
    kind: str  # e.g. "assessments.record"
    payload: dict[str, Any]
    author_id: int
    device_id: str
    recorded_at: datetime  # tz-aware, device clock
    base_rev: int | None
    form_version: int


@dataclass(frozen=True)
class PushRequest:
    protocol_version: int
    device_id: str
    entries: list[Entry]


@dataclass(frozen=True)
class EntryResult:
    """The server's answer for one entry.

    ``record`` holds only small server ids such as ``{"type": "assessment",
    "id": 12}``; never clinical payload.
    """

    id: str
    status: Status
    reason: str | None = None
    errors: dict[str, Any] | None = None
    record: dict[str, Any] | None = None


@dataclass(frozen=True)
class PushResponse:
    results: list[EntryResult]
    server_time: datetime
    protocol_version: int = PROTOCOL_VERSION


_STR_ONLY = frozenset({str})  # a set of types gathered from keys or values: all texts


def _validate_uuid(value: str) -> None:
    if not UUID_RE.fullmatch(value):
        raise ValidationError("Must be a UUID in lower-case 8-4-4-4-12 form, as made by crypto.randomUUID().")


def _string_keys(value: Mapping[Any, Any]) -> None:
    # (the keys' types gathered in C first: a batch carries ~40,000 keys)
    if not {*map(type, value)} <= _STR_ONLY and not all(isinstance(key, str) for key in value):
        raise ValidationError("Keys must be strings.")


# Fields of an entry whose value is the same for every entry of a phone (a pure function of the text or integer
# sent: String and Integer fields with pure validators): `EntrySchema._deserialize` remembers the value made for
# one and answers it again. At most this many values a field.
_REMEMBERED = ("kind", "author_id", "device_id", "form_version")
_REMEMBER_AT_MOST = 64
_MEMO: dict[str, dict[Any, Any]] = {name: {} for name in _REMEMBERED}


def _plain(raw: Any) -> bool:
    return type(raw) is str or type(raw) is int


class EntrySchema(Schema):
    """One entry. Its field loop is marshmallow's without the per-field closure, for an entry holding only the
    declared names (anything else takes marshmallow's own loop): the same `Field.deserialize` calls, values and
    errors, but a `kind`, `author_id`, `device_id` or `form_version` loaded before is answered with the value
    the field made then. A batch loads up to 500 entries."""

    class Meta:
        unknown = RAISE

    _plan: list[Step] | None = None
    _names: frozenset[str] = frozenset()

    def _deserialize(
        self,
        data: Any,
        *,
        error_store: Any,
        many: bool = False,
        partial: Any = None,
        unknown: Any = RAISE,
        index: Any = None,
    ) -> Any:
        plan = self._plan
        if plan is None:
            plan = self._plan = [(name, field, name, _MEMO.get(name)) for name, field in self.load_fields.items()]
            assert all(f.data_key is None and f.attribute is None for _, f, _, _ in plan)
            self._names = frozenset(self.load_fields)
        if many or partial is not None or type(data) is not dict or not data.keys() <= self._names:
            return super()._deserialize(
                data, error_store=error_store, many=many, partial=partial, unknown=unknown, index=index
            )
        index = index if self.opts.index_errors else None
        return run_fields(plan, data, self.dict_class(), error_store, index, remember=_plain, most=_REMEMBER_AT_MOST)

    id = fields.String(required=True, validate=_validate_uuid)
    kind = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_KIND_LENGTH, error="Must be 1 to {max} characters long."),
    )
    # Keys checked by a validator, not a String field per key: a batch carries ~40,000 of them.
    payload = fields.Dict(required=True, validate=_string_keys)
    author_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, error="Must be 1 or more.")
    )
    device_id = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=MAX_DEVICE_ID_LENGTH, error="Must be 1 to {max} characters long."
        ),
    )
    recorded_at = fields.AwareDateTime(format="iso", required=True)
    base_rev = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, error="Must be 0 or more."),
    )
    form_version = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, error="Must be 1 or more.")
    )

    @post_load
    def _make_entry(self, data: dict[str, Any], **_kwargs: Any) -> Entry:
        return Entry(**data)


def _unsupported_version_message(version: object) -> str:
    return f"Unsupported protocol version {version!r}; this server speaks {PROTOCOL_VERSION}. Reload the app."


class PushRequestSchema(Schema):
    """Loads a request body into a :class:`PushRequest`.

    Duplicate entry ids inside one batch are allowed here (a retry may repeat
    an entry); :func:`sync.engine.apply_push` handles them.
    """

    class Meta:
        unknown = RAISE

    protocol_version = fields.Integer(required=True, strict=True)
    device_id = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=MAX_DEVICE_ID_LENGTH, error="Must be 1 to {max} characters long."
        ),
    )
    entries = fields.List(
        fields.Nested(EntrySchema),
        required=True,
        validate=validate.Length(
            min=1,
            max=MAX_ENTRIES_PER_BATCH,
            error="A batch must hold 1 to {max} entries.",
        ),
    )

    @pre_load
    def _check_version_first(self, data: Any, **_kwargs: Any) -> Any:
        # A client from another protocol version gets this one message only,
        # not a pile of field errors about a shape this server does not know.
        if isinstance(data, Mapping):
            version = data.get("protocol_version")
            if isinstance(version, int) and not isinstance(version, bool) and version != PROTOCOL_VERSION:
                raise ValidationError(_unsupported_version_message(version), field_name="protocol_version")
        return data

    @validates("protocol_version")
    def _validate_version(self, value: int, **_kwargs: Any) -> None:
        if value != PROTOCOL_VERSION:  # pragma: no cover - pre_load catches it first
            raise ValidationError(_unsupported_version_message(value))

    @post_load
    def _make_request(self, data: dict[str, Any], **_kwargs: Any) -> PushRequest:
        return PushRequest(**data)


class EntryResultSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True)
    status = fields.Enum(Status, by_value=True, required=True)
    reason = fields.String(allow_none=True, load_default=None)
    errors = fields.Dict(keys=fields.String(), allow_none=True, load_default=None)
    record = fields.Dict(keys=fields.String(), allow_none=True, load_default=None)

    @post_load
    def _make_result(self, data: dict[str, Any], **_kwargs: Any) -> EntryResult:
        return EntryResult(**data)


class PushResponseSchema(Schema):
    """Dumps a :class:`PushResponse`:
    ``{"protocol_version": 1, "results": [...], "server_time": iso}``."""

    class Meta:
        unknown = RAISE

    protocol_version = fields.Integer(required=True, strict=True)
    results = fields.List(fields.Nested(EntryResultSchema), required=True)
    server_time = fields.AwareDateTime(format="iso", required=True)

    @post_load
    def _make_response(self, data: dict[str, Any], **_kwargs: Any) -> PushResponse:
        return PushResponse(**data)


def _mapping(value: Mapping[Any, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {str(key): item for key, item in value.items()}


def result_body(result: EntryResult) -> dict[str, Any]:
    """``EntryResultSchema().dump(result)``, built directly: a batch dumps one result per entry twice (its ledger
    row and the answer), and marshmallow's dump costs more than the rest of writing the ledger row.
    ``tests/sync/test_sync_protocol.py`` holds the two equal."""
    status = result.status
    return {
        "id": str(result.id),
        "status": None if status is None else status.value,
        "reason": None if result.reason is None else str(result.reason),
        "errors": _mapping(result.errors),
        "record": _mapping(result.record),
    }


def response_body(response: PushResponse) -> dict[str, Any]:
    """``PushResponseSchema().dump(response)``, built directly with :func:`result_body`."""
    return {
        "protocol_version": int(response.protocol_version),
        "results": [result_body(result) for result in response.results],
        "server_time": response.server_time.isoformat(),
    }


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored (a NUL, or a lone surrogate that UTF-8 cannot encode), or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return UNENCODABLE_MESSAGE
    return None


def _payload_problem(payload: Mapping[str, Any]) -> str | None:
    """The first thing in a payload the database could not store (a NUL in a key or a text), or too deep a
    nesting; None when there is none.  Iterative, so no nesting can exhaust the stack."""
    if type(payload) is dict:
        # A form's payload: texts under names, all checked at once (joining them neither hides nor makes a
        # NUL or a lone surrogate); where one is found, the walk below names the first.
        try:
            text = "".join(payload) + "".join(payload.values())  # (a TypeError for anything but texts)
        except TypeError:
            text = None
        if text is not None and text_problem(text) is None:
            return None
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            return f"The entry's content is nested more than {MAX_PAYLOAD_DEPTH} levels deep."
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return problem
        elif isinstance(value, Mapping):
            shallow = depth < MAX_PAYLOAD_DEPTH
            for key, item in value.items():
                if (shallow and type(item) is str and type(key) is str and key.isascii() and item.isascii()
                        and "\x00" not in key and "\x00" not in item):
                    continue  # a plain text under a plain name (nearly every field of a form): nothing to find
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:
                    return problem
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return "A number in the entry is out of range."
    return None


def implausible(
    entry: Entry, *, now: datetime, max_clock_ahead: timedelta = MAX_CLOCK_AHEAD
) -> tuple[str, dict[str, list[str]]] | None:
    """Why a well-formed entry cannot be applied as sent, as ``(reason, errors by field)``; None when it can.

    Checks the bounds the schema's types do not: ``recorded_at`` from :data:`EARLIEST_RECORDED_AT` up to
    ``max_clock_ahead`` after ``now`` (a phone whose clock is wrong), integers that fit the database's
    INTEGER columns, and no NUL character (PostgreSQL cannot store one) nor lone surrogate (UTF-8 cannot
    encode one) in any text.  Never raises, whatever
    the datetime's year or offset: comparing aware datetimes does not convert them.
    """
    errors: dict[str, list[str]] = {}
    when = entry.recorded_at
    stamp = when.isoformat(timespec="minutes")
    if when.tzinfo is None or when.utcoffset() is None:
        errors["recorded_at"] = ["The time the entry was saved has no UTC offset."]
    elif when < EARLIEST_RECORDED_AT:
        errors["recorded_at"] = [
            f"The phone's clock is wrong: it says this entry was saved at {stamp}, before "
            f"{EARLIEST_RECORDED_AT.year}. {CLOCK_ADVICE}"
        ]
    elif when > now + max_clock_ahead:
        minutes = int(max_clock_ahead.total_seconds() // 60)
        errors["recorded_at"] = [
            f"The phone's clock is wrong: it says this entry was saved at {stamp}, more than {minutes} "
            f"minutes after the server's time ({now.astimezone(UTC).isoformat(timespec='minutes')}). "
            f"{CLOCK_ADVICE}"
        ]
    for name in ("author_id", "base_rev", "form_version"):
        number = getattr(entry, name)
        if number is not None and not 0 <= number <= MAX_INT:
            errors[name] = [f"Must be a whole number from 0 to {MAX_INT}."]
    for name in ("kind", "device_id"):
        problem = text_problem(getattr(entry, name))
        if problem:
            errors[name] = [problem]
    problem = _payload_problem(entry.payload)
    if problem:
        errors["payload"] = [problem]
    if not errors:
        return None
    if "recorded_at" in errors:
        return errors["recorded_at"][0], errors
    first = next(iter(errors.values()))[0]
    return f"This entry holds a value the server cannot store: {first}", errors


def payload_hash(entry: Entry) -> str:
    """sha256 hex of the entry's content, used to tell a retry from a clash.

    Covers kind, payload, author_id, base_rev, form_version and recorded_at
    (normalised to UTC, so the same instant written with another offset is
    still the same content).  The device id and the entry id are not part
    of it.
    """
    recorded_at = entry.recorded_at
    if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        raise ValueError("Entry.recorded_at must be timezone-aware")
    try:
        when = recorded_at.astimezone(UTC).isoformat()
    except OverflowError:  # an instant at the very edge of the datetime range (year 1 or 9999 with an offset)
        when = recorded_at.isoformat()  # its own offset: still one text per content, and never a crash
    content = {
        "kind": entry.kind,
        "payload": entry.payload,
        "author_id": entry.author_id,
        "base_rev": entry.base_rev,
        "form_version": entry.form_version,
        "recorded_at": when,
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


# json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False), with the encoder made once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(content: dict[str, Any]) -> str:
    """``json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``: the text a payload hash
    is taken of, which must never change (a retry sent after an upgrade must hash as before). For a form's
    payload (every value a text), orjson writes the same text several times faster: sorted keys, no spaces,
    UTF-8, the same escapes (``tests/sync/test_canonical_json.py`` holds them equal for any texts). Any other
    payload (numbers, lists, nesting), and anything orjson refuses (a lone surrogate), goes to json.dumps."""
    payload = content.get("payload")
    if type(payload) is dict and {*map(type, payload.values())} <= _STR_ONLY:
        try:
            return orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # (orjson.JSONEncodeError is one)
            pass
    return _CANONICAL.encode(content)
