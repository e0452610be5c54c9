"""A JSON body reads the same whichever parser reads it (`server/web/jsonbody.py`): orjson where it gives what
`json.loads` gives, `json.loads` for the rest, so a document is accepted, refused or read exactly as before."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from server.web import jsonbody
from server.web.jsonbody import BoundedJSONProvider, JSONTooDeep, depth_over

ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=20)
INTS = st.integers(min_value=-(2**70), max_value=2**70)  # past 64 bits too, where orjson reads a float
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=16)


def typed(value: Any) -> Any:
    """`value` with every scalar's type kept (1, 1.0 and True differ; -0.0 and 0.0 differ), for comparing."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])  # key order counts too
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


def outcome(read: Any, document: str | bytes) -> Any:
    try:
        return typed(read(document))
    except ValueError as exc:  # (JSONDecodeError, UnicodeDecodeError and JSONTooDeep are ValueErrors)
        return ("refused", type(exc).__name__)


APP = Flask(__name__)  # (the provider holds its app weakly; the limit is MAX_JSON_DEPTH's default, 32)


@pytest.fixture
def provider() -> BoundedJSONProvider:
    return BoundedJSONProvider(APP)


def before(document: str | bytes) -> Any:
    """What the provider answered before orjson read any body: `json.loads`, then the depth check."""
    try:
        value = json.loads(document, parse_constant=jsonbody._refuse_constant)
    except RecursionError:
        raise JSONTooDeep("too deep") from None
    if depth_over(value, 32):
        raise JSONTooDeep("too deep")
    return value


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.booleans(), st.booleans(), st.sampled_from(["", " ", "\n\t", "\r\n  "]))
def test_any_document_reads_as_json_loads_reads_it(value, ascii_only, as_bytes, space) -> None:  # type: ignore[no-untyped-def]
    provider = BoundedJSONProvider(APP)
    document: str | bytes = space + json.dumps(value, ensure_ascii=ascii_only) + space
    if as_bytes:
        try:
            document = document.encode()  # type: ignore[union-attr]
        except UnicodeEncodeError:  # a lone surrogate, written unescaped: not UTF-8, so not a body
            return
    assert outcome(provider.loads, document) == outcome(before, document)


EDGES: list[str | bytes] = [
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
    '{"protocol_version": 1, "n": -99999999999999999999}', "1e400", "-1e400", "[1.5e-320, -0.0, -0, 1E5]",
    "0.1000000000000000055511151231257827021181583404541015625", "NaN", "[Infinity]", "-Infinity",
    '"\\ud800"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"', b'"\xe9"', b"\xef\xbb\xbf{}", "\ufeff{}", b'"\xed\xa0\x80"',
    '{"a": "\\u0000"}', '{"a": "\x00"}', '{"a": 1, "a": 2}', "[1,]", '{"a":1,}', "[1]\x0c", "", " ", "01", "[.5]",
    "[" * 33 + "]" * 33, "[" * 32 + "]" * 32, "[" * 2000 + "]" * 2000, '{"a":' * 40 + "1" + "}" * 40,
    b"\xff\xfe[\x001\x00]\x00", "[1, 2] [3]", '"\x7f"', "true", "null",
]


def _as_bytes(text: str) -> bytes | None:
    try:
        return text.encode()
    except UnicodeEncodeError:
        return None


# Each as text and as the bytes of a request body (only a body's bytes go to orjson).
EDGES += [b for e in EDGES if isinstance(e, str) and (b := _as_bytes(e)) is not None]


@pytest.mark.parametrize("document", EDGES)
def test_each_edge_reads_or_is_refused_as_before(provider, document) -> None:  # type: ignore[no-untyped-def]
    assert outcome(provider.loads, document) == outcome(before, document)


def test_a_long_integer_stays_exact(provider) -> None:  # type: ignore[no-untyped-def]
    """orjson would read it as a float; it must stay the integer sent (a bound check then refuses it)."""
    assert provider.loads(b'{"n": 123456789012345678901234567890, "m": -9223372036854775809}') == {
        "n": 123456789012345678901234567890, "m": -9223372036854775809}
    assert type(provider.loads("[18446744073709551616]")[0]) is int


def test_a_push_is_read_by_orjson(provider, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fast path is taken for an ordinary push (a test that it still is: it is the point of the change)."""
    calls: list[Any] = []
    monkeypatch.setattr(jsonbody.json, "loads", lambda *a, **k: calls.append(a))
    push = {"protocol_version": 1, "device_id": "d1", "entries": [
        {"id": "6f1c0c7e-1f0a-4a43-9d43-2a4a7a1e0b11", "kind": "assessments.record", "author_id": 3,
         "recorded_at": "2026-12-06T10:07:00.123456+00:00", "payload": {"trial_id": "12", "mas.soleus.left": "1+"}}]}
    assert provider.loads(json.dumps(push).encode()) == push
    assert calls == []
