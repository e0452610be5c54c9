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
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

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

__all__ = [
    "MAX_ENTRIES_PER_BATCH",
    "PROTOCOL_VERSION",
    "Entry",
    "EntryResult",
    "EntryResultSchema",
    "EntrySchema",
    "PushRequest",
    "PushRequestSchema",
    "PushResponse",
    "PushResponseSchema",
    "Status",
    "payload_hash",
]

PROTOCOL_VERSION = 1
MAX_ENTRIES_PER_BATCH = 500

MAX_KIND_LENGTH = 64
MAX_DEVICE_ID_LENGTH = 64

# Canonical lower-case 8-4-4-4-12 form, exactly what crypto.randomUUID() makes.
# Upper-case or brace/urn forms are refused rather than normalised: the
# client matches results to its outbox by exact id, so echoing a rewritten id
# would leave the entry stuck in the outbox forever.
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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


def _validate_uuid(value: str) -> None:
    if not _UUID_RE.fullmatch(value):
        raise ValidationError("Must be a UUID in lower-case 8-4-4-4-12 form, as made by crypto.randomUUID().")


def _string_keys(value: Mapping[Any, Any]) -> None:
    if not all(isinstance(key, str) for key in value):
        raise ValidationError("Keys must be strings.")


class EntrySchema(Schema):
    class Meta:
        unknown = RAISE

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
    content = {
        "kind": entry.kind,
        "payload": entry.payload,
        "author_id": entry.author_id,
        "base_rev": entry.base_rev,
        "form_version": entry.form_version,
        "recorded_at": recorded_at.astimezone(UTC).isoformat(),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
