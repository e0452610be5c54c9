"""Engine tests with MemoryStore and toy handlers (no Flask)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync import (
    REUSED_ID_REASON,
    Conflict,
    Entry,
    EntryResult,
    MemoryStore,
    PushRequest,
    Registry,
    Rejected,
    Status,
    UnknownKind,
    apply_push,
    payload_hash,
)

T0 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
SERVER_NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)


class Boom(RuntimeError):
    pass


def make_registry(store: MemoryStore) -> Registry:
    """Toy handlers that write into ``store.records``."""

    def record(entry: Entry) -> dict[str, Any]:
        n = len(store.records) + 1
        store.records[f"assessment:{n}"] = {"entry_id": entry.id, "payload": entry.payload}
        return {"type": "assessment", "id": n}

    def picky(entry: Entry) -> dict[str, Any]:
        # Writes first, then rejects: the write must be rolled back.
        store.records[f"draft:{entry.id}"] = dict(entry.payload)
        if entry.payload.get("reject") and not store.records.get("rule_relaxed"):
            raise Rejected("Score must be 0 to 4. Correct it and save again.", {"score": ["Too high."]})
        store.records[f"picky:{entry.id}"] = dict(entry.payload)
        return {"type": "picky", "id": entry.id}

    def edit(entry: Entry) -> dict[str, Any]:
        current = store.records.setdefault("plan", {"rev": 0, "text": "v0"})
        if entry.base_rev != current["rev"]:
            store.records[f"conflict_copy:{entry.id}"] = dict(entry.payload)
            raise Conflict(
                "Someone changed this plan while you were offline; both versions are kept.",
                {"type": "plan", "id": 1, "conflict_copy": entry.id},
            )
        store.records["plan"] = {"rev": current["rev"] + 1, "text": entry.payload["text"]}
        return {"type": "plan", "id": 1, "rev": current["rev"] + 1}

    def crash(entry: Entry) -> dict[str, Any]:
        store.records[f"half:{entry.id}"] = True
        raise Boom("database went away")

    registry = Registry()
    registry.register("assessments.record", record)
    registry.register("picky", picky)
    registry.register("plans.update", edit)
    registry.register("crash", crash)
    return registry


def make_entry(
    kind: str = "assessments.record",
    payload: dict[str, Any] | None = None,
    *,
    entry_id: str | None = None,
    base_rev: int | None = None,
    minutes: int = 0,
) -> Entry:
    return Entry(
        id=entry_id or str(uuid.uuid4()),
        kind=kind,
        payload={"score": 2} if payload is None else payload,
        author_id=3,
        device_id="phone-1",
        recorded_at=T0 + timedelta(minutes=minutes),
        base_rev=base_rev,
        form_version=1,
    )


def push(store: MemoryStore, *entries: Entry) -> list[EntryResult]:
    request = PushRequest(protocol_version=1, device_id="phone-1", entries=list(entries))
    return apply_push(store, request, make_registry(store), now=lambda: SERVER_NOW)


def statuses(results: list[EntryResult]) -> list[Status]:
    return [r.status for r in results]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


# --- applied / duplicate -------------------------------------------------------------------------


def test_applied(store: MemoryStore) -> None:
    e = make_entry()
    [result] = push(store, e)
    assert result == EntryResult(id=e.id, status=Status.APPLIED, record={"type": "assessment", "id": 1})
    assert store.records == {"assessment:1": {"entry_id": e.id, "payload": {"score": 2}}}
    row = store.ledger[e.id]
    assert row.status is Status.APPLIED
    assert row.payload_hash == payload_hash(e)
    assert row.result == result
    assert row.received_at == SERVER_NOW
    assert store.ledger_entries[e.id] == e
    assert store.commits == 1


def test_duplicate_on_resend_carries_original_record(store: MemoryStore) -> None:
    e = make_entry()
    [first] = push(store, e)
    [again] = push(store, e)
    assert again == EntryResult(id=e.id, status=Status.DUPLICATE, record=first.record)
    assert len(store.records) == 1
    assert store.ledger[e.id].status is Status.APPLIED


def test_resend_from_another_device_is_still_a_duplicate(store: MemoryStore) -> None:
    e = make_entry()
    push(store, e)
    moved = Entry(**{**e.__dict__, "device_id": "phone-2"})
    assert statuses(push(store, moved)) == [Status.DUPLICATE]


# --- conflict ------------------------------------------------------------------------------------


def test_same_id_other_content_is_a_conflict_and_writes_nothing(store: MemoryStore) -> None:
    e = make_entry(payload={"score": 2})
    [first] = push(store, e)
    records_before = dict(store.records)
    ledger_before = dict(store.ledger)
    other = make_entry(payload={"score": 3}, entry_id=e.id)
    [result] = push(store, other)
    assert result == EntryResult(
        id=e.id, status=Status.CONFLICT, reason=REUSED_ID_REASON, record=first.record
    )
    assert store.records == records_before
    assert store.ledger == ledger_before
    # The original still answers DUPLICATE.
    assert statuses(push(store, e)) == [Status.DUPLICATE]


def test_handler_conflict_keeps_the_conflict_copy_and_is_idempotent(store: MemoryStore) -> None:
    ok = make_entry("plans.update", {"text": "v1"}, base_rev=0)
    stale = make_entry("plans.update", {"text": "mine"}, base_rev=0, minutes=1)
    results = push(store, ok, stale)
    assert statuses(results) == [Status.APPLIED, Status.CONFLICT]
    conflict = results[1]
    assert conflict.reason is not None
    assert "both versions are kept" in conflict.reason
    assert conflict.record == {"type": "plan", "id": 1, "conflict_copy": stale.id}
    # Both versions kept: the server's and the conflict copy.
    assert store.records["plan"] == {"rev": 1, "text": "v1"}
    assert store.records[f"conflict_copy:{stale.id}"] == {"text": "mine"}
    assert store.ledger[stale.id].status is Status.CONFLICT

    records_before = dict(store.records)
    [again] = push(store, stale)
    assert again == conflict
    assert store.records == records_before


def test_conflict_row_with_other_content_reports_reused_id(store: MemoryStore) -> None:
    push(store, make_entry("plans.update", {"text": "v1"}, base_rev=0))
    stale = make_entry("plans.update", {"text": "mine"}, base_rev=0)
    push(store, stale)
    [result] = push(store, make_entry("plans.update", {"text": "edited"}, base_rev=1, entry_id=stale.id))
    assert result.status is Status.CONFLICT
    assert result.reason == REUSED_ID_REASON
    assert store.records["plan"] == {"rev": 1, "text": "v1"}


# --- rejected ------------------------------------------------------------------------------------


def test_rejected_does_not_block_others_and_leaves_no_write(store: MemoryStore) -> None:
    before = make_entry()
    bad = make_entry("picky", {"reject": True})
    after = make_entry("picky", {"reject": False})
    results = push(store, before, bad, after)
    assert statuses(results) == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert results[1] == EntryResult(
        id=bad.id,
        status=Status.REJECTED,
        reason="Score must be 0 to 4. Correct it and save again.",
        errors={"score": ["Too high."]},
    )
    assert f"draft:{bad.id}" not in store.records
    assert f"picky:{bad.id}" not in store.records
    assert f"picky:{after.id}" in store.records
    assert bad.id not in store.ledger
    assert set(store.ledger) == {before.id, after.id}


def test_rejected_then_retry_after_fix_applies(store: MemoryStore) -> None:
    bad = make_entry("picky", {"reject": True})
    assert statuses(push(store, bad)) == [Status.REJECTED]
    assert statuses(push(store, bad)) == [Status.REJECTED]
    # Fixed on the server (e.g. a rule relaxed, a missing patient created).
    with store.batch():
        store.records["rule_relaxed"] = True
    [result] = push(store, bad)
    assert result.status is Status.APPLIED
    assert store.ledger[bad.id].status is Status.APPLIED
    assert statuses(push(store, bad)) == [Status.DUPLICATE]


def test_unknown_kind_is_rejected_with_an_actionable_reason(store: MemoryStore) -> None:
    e = make_entry("dosing.change")
    other = make_entry()
    results = push(store, e, other)
    assert results[0] == EntryResult(
        id=e.id, status=Status.REJECTED, reason="Unknown entry kind 'dosing.change'. Update the app."
    )
    assert results[1].status is Status.APPLIED
    assert e.id not in store.ledger


# --- crashes -------------------------------------------------------------------------------------


def test_exception_rolls_back_the_whole_batch(store: MemoryStore) -> None:
    kept = make_entry()
    push(store, kept)
    snapshot = (dict(store.records), dict(store.ledger))
    a = make_entry()
    b = make_entry("plans.update", {"text": "v1"}, base_rev=0)
    c = make_entry("crash")
    d = make_entry()
    with pytest.raises(Boom):
        push(store, a, b, c, d)
    assert (store.records, store.ledger) == snapshot
    assert store.rollbacks == 1
    # The client retries everything later (without the crashing entry, say).
    assert statuses(push(store, a, b, d)) == [Status.APPLIED] * 3


def test_handler_returning_a_non_dict_aborts_the_batch(store: MemoryStore) -> None:
    registry = Registry()
    registry.register("bad", lambda entry: None)  # type: ignore[arg-type]
    e = make_entry("bad")
    with pytest.raises(TypeError):
        apply_push(store, PushRequest(1, "phone-1", [e]), registry)
    assert store.ledger == {}


# --- in-batch duplicates and ordering ------------------------------------------------------------


def test_in_batch_duplicates(store: MemoryStore) -> None:
    e = make_entry()
    changed = make_entry(payload={"score": 4}, entry_id=e.id)
    results = push(store, e, e, changed, e)
    assert statuses(results) == [Status.APPLIED, Status.DUPLICATE, Status.CONFLICT, Status.DUPLICATE]
    assert results[1].record == results[0].record
    assert results[2].reason == REUSED_ID_REASON
    assert len(store.records) == 1


def test_in_batch_duplicate_of_a_conflict(store: MemoryStore) -> None:
    push(store, make_entry("plans.update", {"text": "v1"}, base_rev=0))
    stale = make_entry("plans.update", {"text": "mine"}, base_rev=0)
    results = push(store, stale, stale)
    assert statuses(results) == [Status.CONFLICT, Status.CONFLICT]
    assert results[0] == results[1]
    assert sum(k.startswith("conflict_copy:") for k in store.records) == 1


def test_in_batch_repeat_of_a_rejected_entry_is_tried_again(store: MemoryStore) -> None:
    bad = make_entry("picky", {"reject": True})
    assert statuses(push(store, bad, bad)) == [Status.REJECTED, Status.REJECTED]


def test_results_keep_request_order(store: MemoryStore) -> None:
    done = make_entry()
    push(store, done)
    entries = [
        make_entry("picky", {"reject": True}),
        done,
        make_entry(),
        make_entry("unknown.kind"),
        make_entry("plans.update", {"text": "v1"}, base_rev=0),
        make_entry("plans.update", {"text": "late"}, base_rev=0),
        make_entry(payload={"score": 9}, entry_id=done.id),
    ]
    results = push(store, *entries)
    assert [r.id for r in results] == [e.id for e in entries]
    assert statuses(results) == [
        Status.REJECTED,
        Status.DUPLICATE,
        Status.APPLIED,
        Status.REJECTED,
        Status.APPLIED,
        Status.CONFLICT,
        Status.CONFLICT,
    ]


def test_prefetches_ledger_once_per_batch(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    original = store.get_ledger_many

    def spy(ids: list[str]) -> dict[str, Any]:
        calls.append(list(ids))
        return original(ids)

    monkeypatch.setattr(store, "get_ledger_many", spy)
    monkeypatch.setattr(store, "get_ledger", lambda _id: pytest.fail("per-entry ledger lookup"))
    a, b = make_entry(), make_entry()
    push(store, a, b, a)
    assert calls == [[a.id, b.id]]


# --- guards, logging, defaults -------------------------------------------------------------------


def test_refuses_other_protocol_versions_and_naive_clocks(store: MemoryStore) -> None:
    registry = make_registry(store)
    with pytest.raises(ValueError, match="protocol version"):
        apply_push(store, PushRequest(2, "phone-1", [make_entry()]), registry)
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_push(
            store,
            PushRequest(1, "phone-1", [make_entry()]),
            registry,
            now=lambda: datetime(2024, 1, 1),
        )
    assert store.ledger == {}


def test_default_clock_is_utc(store: MemoryStore) -> None:
    e = make_entry()
    apply_push(store, PushRequest(1, "phone-1", [e]), make_registry(store))
    received = store.ledger[e.id].received_at
    assert received is not None
    assert received.utcoffset() == timedelta(0)


def test_logs_ids_and_statuses_but_never_payloads(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Patient is very tired today"
    caplog.set_level(logging.DEBUG, logger="sync")
    e = make_entry(payload={"note": secret})
    bad = make_entry("picky", {"reject": True, "note": secret})
    push(store, e, bad)
    with pytest.raises(Boom):
        push(store, make_entry("crash", {"note": secret}))
    text = caplog.text
    assert e.id in text
    assert "applied" in text
    assert "rejected" in text
    assert "Boom" in text
    assert secret not in text
    assert "database went away" not in text
    assert "Score must be" not in text


def test_registry() -> None:
    registry = Registry()

    def handler(entry: Entry) -> dict[str, Any]:
        return {}

    registry.register("b.kind", handler)
    registry.register("a.kind", handler)
    assert registry.kinds() == ["a.kind", "b.kind"]
    assert registry.get("a.kind") is handler
    assert "a.kind" in registry
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a.kind", handler)
    with pytest.raises(UnknownKind) as info:
        registry.get("x")
    assert isinstance(info.value, Rejected)
    assert info.value.reason == "Unknown entry kind 'x'. Update the app."
    assert info.value.kind == "x"


def test_memory_store_scope_outside_batch_is_a_bug(store: MemoryStore) -> None:
    with pytest.raises(RuntimeError, match="inside batch"), store.entry_scope():
        pass


def test_memory_store_scope_rolls_back_on_exception(store: MemoryStore) -> None:
    def failing_scope() -> None:
        with store.entry_scope():
            store.records["a"]["n"] = 2
            store.records["b"] = 1
            raise KeyError("x")

    with store.batch():
        store.records["a"] = {"n": 1}
        with pytest.raises(KeyError):
            failing_scope()
        assert store.records == {"a": {"n": 1}}
        with store.entry_scope():
            store.records["c"] = 3
        with pytest.raises(RuntimeError, match="nest"), store.batch():
            pass
    assert store.records == {"a": {"n": 1}, "c": 3}
    assert (store.commits, store.rollbacks) == (1, 0)


def test_memory_store_batch_rolls_back_on_exception(store: MemoryStore) -> None:
    def failing_batch() -> None:
        with store.batch():
            store.records.clear()
            raise ZeroDivisionError

    with store.batch():
        store.records["a"] = 1
    with pytest.raises(ZeroDivisionError):
        failing_batch()
    assert store.records == {"a": 1}
    assert (store.commits, store.rollbacks) == (1, 1)
