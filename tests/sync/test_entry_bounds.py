"""The plausibility bounds of an entry (sync.protocol.implausible) and a payload_hash that never overflows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import Entry, MemoryStore, PushRequest, Registry, Status, apply_push
from sync.protocol import EARLIEST_RECORDED_AT, MAX_INT, implausible, payload_hash, text_problem

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make(**over: Any) -> Entry:
    fields: dict[str, Any] = {"id": "3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c", "kind": "k", "payload": {"a": "b"},
                              "author_id": 1, "device_id": "d", "recorded_at": NOW, "base_rev": None,
                              "form_version": 1, **over}
    return Entry(**fields)


edge_times = st.datetimes(min_value=datetime.min, max_value=datetime.max,
                          timezones=st.sampled_from([UTC, timezone(timedelta(hours=23, minutes=59)),
                                                     timezone(-timedelta(hours=23, minutes=59))]))


@given(edge_times)
def test_any_aware_time_is_judged_and_hashed_without_raising(when: datetime) -> None:
    entry = make(recorded_at=when)
    verdict = implausible(entry, now=NOW)
    assert (verdict is None) == (EARLIEST_RECORDED_AT <= when <= NOW + timedelta(minutes=10))
    assert len(payload_hash(entry)) == 64


def test_the_window_is_2000_to_the_allowed_minutes_ahead() -> None:
    assert implausible(make(recorded_at=EARLIEST_RECORDED_AT), now=NOW) is None
    assert implausible(make(recorded_at=NOW + timedelta(minutes=10)), now=NOW) is None
    assert implausible(make(recorded_at=NOW + timedelta(minutes=3)), now=NOW, max_clock_ahead=timedelta(minutes=2))
    verdict = implausible(make(recorded_at=datetime(9999, 12, 30, tzinfo=UTC)), now=NOW)
    assert verdict is not None and "clock is wrong" in verdict[0] and set(verdict[1]) == {"recorded_at"}


@pytest.mark.parametrize(("over", "field"), [
    ({"base_rev": MAX_INT + 1}, "base_rev"), ({"form_version": MAX_INT + 1}, "form_version"),
    ({"author_id": 2**63}, "author_id"), ({"device_id": "a\x00"}, "device_id"), ({"kind": "\ud800"}, "kind"),
    ({"payload": {"x": ["ok", "no\x00"]}}, "payload"), ({"payload": {"\x00": 1}}, "payload"),
    ({"payload": {"n": 10**40}}, "payload"), ({"payload": {"x": "no\x00"}}, "payload"),
    ({"payload": {"x\x00": "y"}}, "payload"), ({"payload": {"é": "\ud800"}}, "payload"),
])
def test_values_the_database_cannot_hold_are_named(over: dict[str, Any], field: str) -> None:
    verdict = implausible(make(**over), now=NOW)
    assert verdict is not None and set(verdict[1]) == {field}


ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)


@given(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=10))
def test_a_form_payload_is_refused_exactly_when_a_name_or_a_text_cannot_be_stored(payload: dict[str, str]) -> None:
    """A payload of texts under names (every form's) is checked all at once; a NUL or a lone surrogate anywhere
    in it is still found, and nothing else is refused."""
    verdict = implausible(make(payload=payload), now=NOW)
    assert (verdict is None) == (text_problem("".join(payload) + "".join(payload.values())) is None)


def test_the_engine_rejects_such_an_entry_alone_without_calling_its_handler() -> None:
    store, calls = MemoryStore(), []

    def handler(entry: Entry) -> dict[str, Any]:
        calls.append(entry.id)
        return {"id": 1}

    registry = Registry()
    registry.register("k", handler)
    good = make(id="00000000-0000-4000-8000-000000000001")
    bad = make(id="00000000-0000-4000-8000-000000000002", recorded_at=datetime(1, 1, 1, tzinfo=UTC))
    results = apply_push(store, PushRequest(1, "d", [bad, good]), registry, now=lambda: NOW)
    assert [r.status for r in results] == [Status.REJECTED, Status.APPLIED]
    assert calls == [good.id] and set(store.ledger) == {good.id}
