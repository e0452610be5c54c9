"""Schema tests for the sync wire protocol (no Flask)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from sync import (
    MAX_ENTRIES_PER_BATCH,
    PROTOCOL_VERSION,
    Entry,
    EntryResult,
    EntryResultSchema,
    EntrySchema,
    PushRequest,
    PushRequestSchema,
    PushResponse,
    PushResponseSchema,
    Status,
    payload_hash,
)

ENTRY_ID = "3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c"


def raw_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": ENTRY_ID,
        "kind": "assessments.record",
        "payload": {"patient_id": 7, "scale": "MAS", "scores": {"knee_l": 2}, "note": "Schön"},
        "author_id": 3,
        "device_id": "phone-ward-2",
        "recorded_at": "2024-05-02T09:15:00+02:00",
        "base_rev": None,
        "form_version": 1,
    }
    entry.update(overrides)
    return entry


def raw_request(*entries: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "protocol_version": PROTOCOL_VERSION,
        "device_id": "phone-ward-2",
        "entries": list(entries) or [raw_entry()],
    }
    body.update(overrides)
    return body


def load(body: Any) -> PushRequest:
    result: PushRequest = PushRequestSchema().load(body)
    return result


def load_errors(body: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as info:
        PushRequestSchema().load(body)
    messages = info.value.messages
    assert isinstance(messages, dict)
    return messages


def entry_errors(**overrides: Any) -> dict[str, Any]:
    """Field errors of entry 0 in a request holding one entry with ``overrides``."""
    errors = load_errors(raw_request(raw_entry(**overrides)))
    assert set(errors) == {"entries"}, errors
    assert set(errors["entries"]) == {0}, errors
    field_errors: dict[str, Any] = errors["entries"][0]
    return field_errors


def without(key: str) -> dict[str, Any]:
    entry = raw_entry()
    del entry[key]
    return entry


# --- valid loads -------------------------------------------------------------------------------


def test_valid_request_loads_into_dataclasses() -> None:
    request = load(raw_request())
    assert isinstance(request, PushRequest)
    assert request.protocol_version == 1
    assert request.device_id == "phone-ward-2"
    [entry] = request.entries
    assert isinstance(entry, Entry)
    assert entry.id == ENTRY_ID
    assert entry.kind == "assessments.record"
    assert entry.payload["scores"] == {"knee_l": 2}
    assert entry.author_id == 3
    assert entry.base_rev is None
    assert entry.form_version == 1
    assert entry.recorded_at == datetime(2024, 5, 2, 7, 15, tzinfo=UTC)
    assert entry.recorded_at.utcoffset() == timedelta(hours=2)


def test_base_rev_is_optional_and_may_be_zero() -> None:
    assert load(raw_request(without("base_rev"))).entries[0].base_rev is None
    assert load(raw_request(raw_entry(base_rev=0))).entries[0].base_rev == 0
    assert load(raw_request(raw_entry(base_rev=12))).entries[0].base_rev == 12


def test_z_suffix_and_empty_payload_are_accepted() -> None:
    entry = load(raw_request(raw_entry(recorded_at="2024-05-02T07:15:00Z", payload={}))).entries[0]
    assert entry.recorded_at == datetime(2024, 5, 2, 7, 15, tzinfo=UTC)
    assert entry.payload == {}


def test_duplicate_ids_inside_one_batch_are_allowed() -> None:
    request = load(raw_request(raw_entry(), raw_entry()))
    assert [e.id for e in request.entries] == [ENTRY_ID, ENTRY_ID]


def test_a_full_batch_is_accepted() -> None:
    entries = [raw_entry(id=str(uuid.uuid4())) for _ in range(MAX_ENTRIES_PER_BATCH)]
    assert len(load(raw_request(*entries)).entries) == MAX_ENTRIES_PER_BATCH


def test_loads_from_json_text() -> None:
    request = PushRequestSchema().loads(json.dumps(raw_request()))
    assert isinstance(request, PushRequest)


# --- malformed requests ------------------------------------------------------------------------


def test_unknown_protocol_version_says_reload() -> None:
    errors = load_errors(raw_request(protocol_version=2))
    assert errors == {
        "protocol_version": ["Unsupported protocol version 2; this server speaks 1. Reload the app."]
    }


def test_unknown_protocol_version_wins_over_other_errors() -> None:
    # A newer client's request shape is not this server's business: one clear message.
    errors = load_errors({"protocol_version": 2, "ops": [], "device_id": ""})
    assert set(errors) == {"protocol_version"}
    assert "Reload the app." in errors["protocol_version"][0]


@pytest.mark.parametrize("version", ["1", 1.0, True, None, 0])
def test_bad_protocol_version_types(version: Any) -> None:
    errors = load_errors(raw_request(protocol_version=version))
    assert set(errors) == {"protocol_version"}


@pytest.mark.parametrize("field", ["protocol_version", "device_id", "entries"])
def test_missing_request_fields(field: str) -> None:
    body = raw_request()
    del body[field]
    errors = load_errors(body)
    assert errors == {field: ["Missing data for required field."]}


def test_unknown_request_field() -> None:
    errors = load_errors(raw_request(cursor="abc"))
    assert errors == {"cursor": ["Unknown field."]}


@pytest.mark.parametrize("body", [[], "x", 5, None])
def test_request_must_be_an_object(body: Any) -> None:
    with pytest.raises(ValidationError):
        PushRequestSchema().load(body)


def test_empty_batch() -> None:
    errors = load_errors(raw_request(entries=[]))
    assert errors == {"entries": [f"A batch must hold 1 to {MAX_ENTRIES_PER_BATCH} entries."]}


def test_too_many_entries() -> None:
    entries = [raw_entry(id=str(uuid.uuid4())) for _ in range(MAX_ENTRIES_PER_BATCH + 1)]
    errors = load_errors(raw_request(*entries))
    assert errors == {"entries": [f"A batch must hold 1 to {MAX_ENTRIES_PER_BATCH} entries."]}


@pytest.mark.parametrize("entries", [{"a": 1}, "x", [1], [None], [[]]])
def test_entries_must_be_a_list_of_objects(entries: Any) -> None:
    errors = load_errors(raw_request(entries=entries))
    assert set(errors) == {"entries"}


@pytest.mark.parametrize("device_id", ["", "x" * 65, 5, None])
def test_bad_request_device_id(device_id: Any) -> None:
    errors = load_errors(raw_request(device_id=device_id))
    assert set(errors) == {"device_id"}


# --- malformed entries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["id", "kind", "payload", "author_id", "device_id", "recorded_at", "form_version"]
)
def test_missing_entry_fields(field: str) -> None:
    errors = load_errors(raw_request(without(field)))
    assert errors == {"entries": {0: {field: ["Missing data for required field."]}}}


def test_unknown_entry_field() -> None:
    assert entry_errors(op_id="x") == {"op_id": ["Unknown field."]}


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-a-uuid",
        "",
        "3f1c2a9e8b7d4c6e9a5b1d2e3f4a5b6c",  # no hyphens
        "{3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c}",
        "urn:uuid:3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c",
        "3F1C2A9E-8B7D-4C6E-9A5B-1D2E3F4A5B6C",  # upper case is refused, not rewritten
        "3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c\n",
        "3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6g",
    ],
)
def test_bad_uuid(bad_id: str) -> None:
    errors = entry_errors(id=bad_id)
    assert list(errors) == ["id"]
    assert "UUID" in errors["id"][0]


@pytest.mark.parametrize("bad_id", [12, None, ["x"]])
def test_id_must_be_a_string(bad_id: Any) -> None:
    assert list(entry_errors(id=bad_id)) == ["id"]


@pytest.mark.parametrize("kind", ["", "k" * 65])
def test_bad_kind_length(kind: str) -> None:
    assert entry_errors(kind=kind) == {"kind": ["Must be 1 to 64 characters long."]}


@pytest.mark.parametrize("kind", [None, 5, ["a"]])
def test_bad_kind_type(kind: Any) -> None:
    assert list(entry_errors(kind=kind)) == ["kind"]


def test_kind_of_64_characters_is_fine() -> None:
    assert load(raw_request(raw_entry(kind="k" * 64))).entries[0].kind == "k" * 64


@pytest.mark.parametrize("payload", [[], "text", 5, None, [["a", 1]]])
def test_payload_must_be_an_object(payload: Any) -> None:
    assert list(entry_errors(payload=payload)) == ["payload"]


@pytest.mark.parametrize("author_id", [0, -1])
def test_author_id_must_be_positive(author_id: int) -> None:
    assert entry_errors(author_id=author_id) == {"author_id": ["Must be 1 or more."]}


@pytest.mark.parametrize("author_id", ["3", 3.0, 3.5, True, None])
def test_author_id_must_be_an_integer(author_id: Any) -> None:
    assert list(entry_errors(author_id=author_id)) == ["author_id"]


@pytest.mark.parametrize("device_id", ["", "d" * 65, 5, None])
def test_bad_entry_device_id(device_id: Any) -> None:
    assert list(entry_errors(device_id=device_id)) == ["device_id"]


def test_naive_datetime_is_refused() -> None:
    assert entry_errors(recorded_at="2024-05-02T09:15:00") == {"recorded_at": ["Not a valid aware datetime."]}


@pytest.mark.parametrize("recorded_at", ["yesterday", "", "2024-13-02T09:15:00Z", 1714641300, None])
def test_bad_datetime(recorded_at: Any) -> None:
    assert list(entry_errors(recorded_at=recorded_at)) == ["recorded_at"]


def test_date_without_time_is_refused() -> None:
    # fromisoformat turns it into a naive midnight, which is refused as naive.
    assert list(entry_errors(recorded_at="2024-05-02")) == ["recorded_at"]


@pytest.mark.parametrize("base_rev", [-1])
def test_base_rev_must_not_be_negative(base_rev: int) -> None:
    assert entry_errors(base_rev=base_rev) == {"base_rev": ["Must be 0 or more."]}


@pytest.mark.parametrize("base_rev", ["1", 1.5, False])
def test_base_rev_must_be_an_integer(base_rev: Any) -> None:
    assert list(entry_errors(base_rev=base_rev)) == ["base_rev"]


@pytest.mark.parametrize("form_version", [0, -3])
def test_form_version_must_be_positive(form_version: int) -> None:
    assert entry_errors(form_version=form_version) == {"form_version": ["Must be 1 or more."]}


@pytest.mark.parametrize("form_version", ["1", 1.0, None, True])
def test_form_version_must_be_an_integer(form_version: Any) -> None:
    assert list(entry_errors(form_version=form_version)) == ["form_version"]


def test_errors_name_the_entry_index() -> None:
    good = raw_entry()
    bad = raw_entry(id=str(uuid.uuid4()), author_id=0)
    errors = load_errors(raw_request(good, good, bad))
    assert errors == {"entries": {2: {"author_id": ["Must be 1 or more."]}}}


def test_entry_schema_on_its_own() -> None:
    entry = EntrySchema().load(raw_entry())
    assert isinstance(entry, Entry)


# --- responses -----------------------------------------------------------------------------------


def test_push_response_dump() -> None:
    server_time = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    response = PushResponse(
        results=[
            EntryResult(id="a", status=Status.APPLIED, record={"type": "assessment", "id": 12}),
            EntryResult(id="b", status=Status.REJECTED, reason="Fix it.", errors={"x": ["bad"]}),
        ],
        server_time=server_time,
    )
    dumped = PushResponseSchema().dump(response)
    assert dumped == {
        "protocol_version": 1,
        "server_time": "2024-05-02T10:00:00+00:00",
        "results": [
            {
                "id": "a",
                "status": "applied",
                "reason": None,
                "errors": None,
                "record": {"type": "assessment", "id": 12},
            },
            {"id": "b", "status": "rejected", "reason": "Fix it.", "errors": {"x": ["bad"]}, "record": None},
        ],
    }
    json.dumps(dumped)  # JSON-ready
    assert PushResponseSchema().load(dumped) == response


def test_entry_result_round_trip() -> None:
    result = EntryResult(id="a", status=Status.CONFLICT, reason="Both kept.", record={"id": 1})
    assert EntryResultSchema().load(EntryResultSchema().dump(result)) == result


def test_status_values() -> None:
    assert [s.value for s in Status] == ["applied", "duplicate", "conflict", "rejected"]
    assert Status("duplicate") is Status.DUPLICATE
    assert isinstance(Status.APPLIED, str)


# --- payload_hash ------------------------------------------------------------------------------


def entry(**overrides: Any) -> Entry:
    loaded: Entry = EntrySchema().load(raw_entry(**overrides))
    return loaded


def test_hash_is_sha256_hex_and_stable() -> None:
    digest = payload_hash(entry())
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert payload_hash(entry()) == digest


def test_hash_ignores_key_order_device_and_id() -> None:
    a = entry(payload={"a": 1, "b": {"c": 2, "d": 3}})
    b = entry(
        payload={"b": {"d": 3, "c": 2}, "a": 1},
        device_id="another-phone",
        id="00000000-0000-4000-8000-000000000000",
    )
    assert payload_hash(a) == payload_hash(b)


def test_hash_matches_documented_canonical_form() -> None:
    import hashlib

    e = entry(payload={"note": "Schön", "n": 1})
    canonical = json.dumps(
        {
            "author_id": 3,
            "base_rev": None,
            "form_version": 1,
            "kind": "assessments.record",
            "payload": {"n": 1, "note": "Schön"},
            "recorded_at": "2024-05-02T07:15:00+00:00",
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert payload_hash(e) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_hash_treats_the_same_instant_as_the_same_content() -> None:
    a = entry(recorded_at="2024-05-02T09:15:00+02:00")
    b = entry(recorded_at="2024-05-02T07:15:00Z")
    assert payload_hash(a) == payload_hash(b)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "plans.update"},
        {"payload": {"patient_id": 8}},
        {"author_id": 4},
        {"base_rev": 0},
        {"form_version": 2},
        {"recorded_at": "2024-05-02T09:15:01+02:00"},
    ],
)
def test_hash_changes_with_content(change: dict[str, Any]) -> None:
    assert payload_hash(entry(**change)) != payload_hash(entry())


def test_hash_refuses_naive_datetime() -> None:
    e = entry()
    naive = Entry(**{**e.__dict__, "recorded_at": datetime(2024, 5, 2, 9, 15)})
    with pytest.raises(ValueError, match="timezone-aware"):
        payload_hash(naive)


def test_entry_is_frozen() -> None:
    e = entry()
    with pytest.raises(AttributeError):
        e.kind = "x"  # type: ignore[misc]
    assert copy.copy(e) == e


# --- the entry schema's own field loop -----------------------------------------------------------------------

ODD: list[Any] = [None, "", " ", 0, -1, 1, 2**31, 2**63, True, False, 1.0, 1.5, "1", "x" * 65, "a\x00b", [], {},
                  ["a"], {"a": 1}, {1: "a"}, "2024-05-02T09:15:00", "2024-05-02", "yesterday", ENTRY_ID.upper()]


def _varied_entries() -> list[Any]:
    """Valid entries, each field of an entry set to each odd value in turn, unknown and missing fields, and
    entries that are not objects."""
    entries: list[Any] = [raw_entry(), raw_entry(id=str(uuid.uuid4()), base_rev=0, author_id=9, form_version=2,
                                                  kind="dosing.observe", device_id="p" * 64)]
    for name in raw_entry():
        entries += [raw_entry(**{name: value}) for value in ODD]
        entries.append(without(name))
    entries += [{**raw_entry(), "extra": 1}, {**raw_entry(), 1: 2}, [], "entry", None, 7]
    return entries


def _answer(schema: Any, value: Any, **kwargs: Any) -> Any:
    try:
        return "loaded", schema.load(value, **kwargs)
    except ValidationError as err:
        return "refused", err.messages


def test_the_entry_schemas_own_loop_gives_marshmallows_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`EntrySchema._deserialize` (no per-field closure, remembered values for kind, author, device and form
    version) loads and refuses exactly as marshmallow's own loop: each entry alone, and in a request (errors by
    entry index), twice (the second time from what was remembered)."""
    entries = _varied_entries()
    schema = EntrySchema()
    ours = [_answer(schema, e) for e in entries]
    assert [_answer(schema, e) for e in entries] == ours
    assert [_answer(EntrySchema(), e, partial=()) for e in entries] == ours  # `partial` takes marshmallow's loop
    assert sum(kind == "loaded" for kind, _ in ours) > 10 and sum(kind == "refused" for kind, _ in ours) > 100
    body = raw_request(*entries)
    body["entries"] = [*entries[:MAX_ENTRIES_PER_BATCH]]
    fast = _answer(PushRequestSchema(), body)
    monkeypatch.setattr(EntrySchema, "_deserialize", EntrySchema.__mro__[1]._deserialize)
    assert _answer(PushRequestSchema(), body) == fast


def test_result_and_response_bodies_are_the_schemas_dumps() -> None:
    """`result_body` and `response_body` (the ledger row's result and the answer, built directly) equal
    marshmallow's dumps, key order included (the ledger stores the JSON text)."""
    from sync import response_body, result_body

    results = [EntryResult(id=ENTRY_ID, status=status, reason=reason, errors=errors, record=record)
               for status in Status
               for reason in (None, "", "Refused: ✓ «x»")
               for errors in (None, {}, {"mas.hip.left": ["Choose a grade."], "_form": ["a", "b"]}, {1: ["x"]})
               for record in (None, {"type": "assessment", "id": 12}, {2: None})]
    schema = EntryResultSchema()
    for result in results:
        assert list(result_body(result).items()) == list(schema.dump(result).items())
    from zoneinfo import ZoneInfo

    for when in (datetime(2026, 12, 6, 14, 0, 1, 123, tzinfo=UTC),
                 datetime(2026, 12, 6, 15, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Madrid"))):
        response = PushResponse(results=results, server_time=when)
        assert response_body(response) == PushResponseSchema().dump(response)
        assert json.dumps(response_body(response)) == json.dumps(PushResponseSchema().dump(response))
