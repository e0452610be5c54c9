"""The text a payload hash is taken of (`sync.protocol.canonical_json`) never changes: whichever encoder writes it,
it is json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) of the content, for any payload.
A retry sent after an upgrade must hash as it did before, or it would be answered as a conflict."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.protocol import canonical_json

# Any text, lone surrogates and control characters included (orjson refuses the former: json.dumps writes it).
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)
INTS = st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits too (orjson refuses them)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTS | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=12)


def reference(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content(payload: Any, author_id: int = 7, base_rev: int | None = None) -> dict[str, Any]:
    return {"kind": "assessments.record", "payload": payload, "author_id": author_id, "base_rev": base_rev,
            "form_version": 1, "recorded_at": "2026-12-06T10:07:00+00:00"}


@settings(max_examples=600)
@given(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=12), INTS, st.none() | INTS)
def test_a_form_payload_of_texts_is_written_as_json_dumps_writes_it(payload, author_id, base_rev) -> None:  # type: ignore[no-untyped-def]
    c = content(payload, author_id, base_rev)
    assert canonical_json(c) == reference(c)


@settings(max_examples=300)
@given(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=6))
def test_any_other_payload_is_written_as_json_dumps_writes_it(payload) -> None:  # type: ignore[no-untyped-def]
    c = content(payload)
    assert canonical_json(c) == reference(c)


def test_the_texts_orjson_and_json_might_write_differently() -> None:
    texts = ['"', "\\", "/", "\x00", "\x1f", "\x7f", "\b\f\n\r\t", "\u2028\u2029", "é", "日本", "😀", "\ud800",
             "\udfff", "</script>", "\ufeff", "Z" * 1000, ""]
    payload = {t: t for t in texts} | {"mas.soleus.left": "1+", "notes": "Settled; \"cooperative\"\n"}
    c = content(payload)
    assert canonical_json(c) == reference(c)
    for t in texts:
        single = content({"k": t})
        assert canonical_json(single) == reference(single), repr(t)
    # The keys' order: by code point, whatever their length or plane.
    keyed = content({"b": "1", "a": "2", "é": "3", "😀": "4", "\uffff": "5", "A": "6", "aa": "7", "": "8"})
    assert canonical_json(keyed) == reference(keyed)
