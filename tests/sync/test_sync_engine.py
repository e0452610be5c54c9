"""Engine tests with MemoryStore and toy handlers (no Flask)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import (
    REUSED_ID_REASON,
    Conflict,
    Entry,
    EntryResult,
    LedgerRow,
    MemoryStore,
    Outcome,
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
    assert result == EntryResult(id=e.id, status=Status.CONFLICT, reason=REUSED_ID_REASON, record=first.record)
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


def test_logs_ids_and_statuses_but_never_payloads(store: MemoryStore, caplog: pytest.LogCaptureFixture) -> None:
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


# --- batch fast path -----------------------------------------------------------------------------

NOTE_REJECTED = "Write some text. Correct it and save again."
NOTE_ERRORS = {"text": ["Missing."]}
NOTE_STALE = "Someone added a note while you were offline; both versions are kept."


@dataclass
class Spy:
    """The entry ids each toy handler of :func:`make_batch_registry` was called with."""

    note: list[str] = field(default_factory=list)  # the single notes.add handler, per entry
    notes: list[list[str]] = field(default_factory=list)  # the notes.add batch handler, per call
    tally: list[str] = field(default_factory=list)


def make_batch_registry(store: MemoryStore, spy: Spy, *, batch: bool = True) -> Registry:
    """``notes.add`` has a single handler and, if ``batch``, an equivalent batch handler; ``tally`` has a
    single handler only and answers how many records it saw when it ran.

    A note is rejected while its payload has ``reject`` (until ``rule_relaxed`` is set), conflicts when
    its ``base_rev`` is not the current note revision (its conflict copy is kept), and crashes on
    ``boom``.  Each applied note bumps the revision, so outcomes depend on the order notes apply in.
    """

    def note(entry: Entry) -> dict[str, Any]:
        spy.note.append(entry.id)
        # Writes first, then checks: the engine rolls the draft back on Rejected.
        store.records[f"draft:{entry.id}"] = dict(entry.payload)
        if entry.payload.get("boom"):
            raise Boom("database went away")
        if entry.payload.get("reject") and not store.records.get("rule_relaxed"):
            raise Rejected(NOTE_REJECTED, NOTE_ERRORS)
        del store.records[f"draft:{entry.id}"]
        rev = store.records.get("rev", 0)
        if entry.base_rev is not None and entry.base_rev != rev:
            store.records[f"conflict_copy:{entry.id}"] = dict(entry.payload)
            raise Conflict(NOTE_STALE, {"type": "note", "conflict_copy": entry.id})
        store.records["rev"] = rev + 1
        store.records[f"note:{entry.id}"] = dict(entry.payload)
        return {"type": "note", "id": entry.id, "rev": rev + 1}

    def notes(entries: Sequence[Entry]) -> list[Outcome]:
        spy.notes.append([e.id for e in entries])
        relaxed = bool(store.records.get("rule_relaxed"))
        rev = store.records.get("rev", 0)
        outcomes: list[Outcome] = []
        for entry in entries:  # each entry is checked before anything is written for it
            if entry.payload.get("boom"):
                raise Boom("database went away")  # after the earlier entries' writes
            if entry.payload.get("reject") and not relaxed:
                outcomes.append(Rejected(NOTE_REJECTED, NOTE_ERRORS))
            elif entry.base_rev is not None and entry.base_rev != rev:
                store.records[f"conflict_copy:{entry.id}"] = dict(entry.payload)
                outcomes.append(Conflict(NOTE_STALE, {"type": "note", "conflict_copy": entry.id}))
            else:
                rev += 1
                store.records["rev"] = rev
                store.records[f"note:{entry.id}"] = dict(entry.payload)
                outcomes.append({"type": "note", "id": entry.id, "rev": rev})
        return outcomes

    def tally(entry: Entry) -> dict[str, Any]:
        spy.tally.append(entry.id)
        seen = len(store.records)
        store.records[f"tally:{entry.id}"] = seen
        return {"type": "tally", "seen": seen}

    registry = Registry()
    registry.register("notes.add", note, many=notes if batch else None)
    registry.register("tally", tally)
    return registry


def note_entry(
    payload: dict[str, Any] | None = None, *, entry_id: str | None = None, base_rev: int | None = None
) -> Entry:
    return make_entry("notes.add", {"text": "hi"} if payload is None else payload, entry_id=entry_id, base_rev=base_rev)


def push_with(store: MemoryStore, registry: Registry, *entries: Entry) -> list[EntryResult]:
    request = PushRequest(protocol_version=1, device_id="phone-1", entries=list(entries))
    return apply_push(store, request, registry, now=lambda: SERVER_NOW)


def record_ledger_writes(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Spy on ``store.add_ledger_many``: the entry ids of each call."""
    writes: list[list[str]] = []
    original = store.add_ledger_many

    def add_ledger_many(rows: list[tuple[LedgerRow, Entry]]) -> None:
        writes.append([row.entry_id for row, _ in rows])
        original(rows)

    monkeypatch.setattr(store, "add_ledger_many", add_ledger_many)
    return writes


def relax_rule(store: MemoryStore) -> None:
    with store.batch():
        store.records["rule_relaxed"] = True


@pytest.fixture
def spy() -> Spy:
    return Spy()


@pytest.fixture
def batched(store: MemoryStore, spy: Spy) -> Registry:
    return make_batch_registry(store, spy)


def test_registry_get_many() -> None:
    registry = Registry()

    def one(entry: Entry) -> dict[str, Any]:
        return {}

    def many(entries: Sequence[Entry]) -> list[Outcome]:
        return [{} for _ in entries]

    registry.register("a.kind", one, many=many)
    registry.register("b.kind", one)
    assert registry.get_many("a.kind") is many
    assert registry.get("a.kind") is one
    assert registry.get_many("b.kind") is None
    assert registry.get_many("unknown") is None


def test_batch_run_is_applied_by_one_call_of_the_batch_handler(
    store: MemoryStore, spy: Spy, batched: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = record_ledger_writes(store, monkeypatch)
    entries = [note_entry({"text": f"n{i}"}) for i in range(3)]
    results = push_with(store, batched, *entries)
    assert spy.notes == [[e.id for e in entries]]
    assert spy.note == []
    assert results == [
        EntryResult(id=e.id, status=Status.APPLIED, record={"type": "note", "id": e.id, "rev": n})
        for n, e in enumerate(entries, start=1)
    ]
    assert writes == [[e.id for e in entries]]  # one ledger write for the run
    for e, result in zip(entries, results, strict=True):
        assert store.ledger[e.id] == LedgerRow(
            entry_id=e.id,
            payload_hash=payload_hash(e),
            status=Status.APPLIED,
            result=result,
            received_at=SERVER_NOW,
        )
        assert store.ledger_entries[e.id] == e
    assert store.records == {"rev": 3, **{f"note:{e.id}": dict(e.payload) for e in entries}}
    assert (store.commits, store.rollbacks) == (1, 0)

    records_before, ledger_before = dict(store.records), dict(store.ledger)
    again = push_with(store, batched, *entries)
    assert again == [EntryResult(id=r.id, status=Status.DUPLICATE, record=r.record) for r in results]
    assert len(spy.notes) == 1
    assert spy.note == []
    assert writes == [[e.id for e in entries]]
    assert (store.records, store.ledger) == (records_before, ledger_before)


def test_batch_rejected_outcome_writes_nothing_and_a_later_retry_applies(
    store: MemoryStore, spy: Spy, batched: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = record_ledger_writes(store, monkeypatch)
    first, bad, last = note_entry({"text": "a"}), note_entry({"text": "", "reject": True}), note_entry({"text": "c"})
    results = push_with(store, batched, first, bad, last)
    assert spy.notes == [[first.id, bad.id, last.id]]
    assert statuses(results) == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert results[1] == EntryResult(id=bad.id, status=Status.REJECTED, reason=NOTE_REJECTED, errors=NOTE_ERRORS)
    assert results[2].record == {"type": "note", "id": last.id, "rev": 2}
    assert writes == [[first.id, last.id]]
    assert set(store.ledger) == {first.id, last.id}
    assert set(store.records) == {"rev", f"note:{first.id}", f"note:{last.id}"}

    # No ledger row, so each resend is tried again; still rejected while the rule holds.
    assert statuses(push_with(store, batched, bad)) == [Status.REJECTED]
    assert spy.notes[-1] == [bad.id]
    assert bad.id not in store.ledger
    relax_rule(store)
    [result] = push_with(store, batched, bad)
    assert result == EntryResult(id=bad.id, status=Status.APPLIED, record={"type": "note", "id": bad.id, "rev": 3})
    assert store.ledger[bad.id].status is Status.APPLIED
    assert store.records[f"note:{bad.id}"] == {"text": "", "reject": True}
    assert len(spy.notes) == 3
    assert statuses(push_with(store, batched, bad)) == [Status.DUPLICATE]
    assert len(spy.notes) == 3
    assert spy.note == []


def test_batch_conflict_outcome_is_kept_and_answered_again_on_resend(
    store: MemoryStore, spy: Spy, batched: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = record_ledger_writes(store, monkeypatch)
    ok = note_entry({"text": "first"}, base_rev=0)
    stale = note_entry({"text": "mine"}, base_rev=0)
    after = note_entry({"text": "then"}, base_rev=1)
    results = push_with(store, batched, ok, stale, after)
    assert spy.notes == [[ok.id, stale.id, after.id]]
    assert statuses(results) == [Status.APPLIED, Status.CONFLICT, Status.APPLIED]
    conflict = results[1]
    assert conflict == EntryResult(
        id=stale.id,
        status=Status.CONFLICT,
        reason=NOTE_STALE,
        record={"type": "note", "conflict_copy": stale.id},
    )
    assert results[2].record == {"type": "note", "id": after.id, "rev": 2}
    assert store.records[f"conflict_copy:{stale.id}"] == {"text": "mine"}
    assert f"note:{stale.id}" not in store.records
    assert writes == [[ok.id, stale.id, after.id]]
    row = store.ledger[stale.id]
    assert row.status is Status.CONFLICT
    assert row.result == conflict
    assert row.payload_hash == payload_hash(stale)

    records_before, ledger_before = dict(store.records), dict(store.ledger)
    [again] = push_with(store, batched, stale)
    assert again == conflict
    assert len(spy.notes) == 1
    assert (store.records, store.ledger) == (records_before, ledger_before)


def test_batch_repeat_in_one_request_is_never_passed_twice(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    e, f = note_entry({"text": "e"}), note_entry({"text": "f"})
    changed = note_entry({"text": "changed"}, entry_id=e.id)
    results = push_with(store, batched, e, f, e, changed, f)
    assert spy.notes == [[e.id, f.id]]
    first = EntryResult(id=e.id, status=Status.APPLIED, record={"type": "note", "id": e.id, "rev": 1})
    second = EntryResult(id=f.id, status=Status.APPLIED, record={"type": "note", "id": f.id, "rev": 2})
    assert results == [
        first,
        second,
        EntryResult(id=e.id, status=Status.DUPLICATE, record=first.record),
        EntryResult(id=e.id, status=Status.CONFLICT, reason=REUSED_ID_REASON, record=first.record),
        EntryResult(id=f.id, status=Status.DUPLICATE, record=second.record),
    ]
    assert store.records == {"rev": 2, f"note:{e.id}": {"text": "e"}, f"note:{f.id}": {"text": "f"}}

    # New entries after the repeat still go through the batch handler, once each.
    g = note_entry({"text": "g"})
    h = note_entry({"text": "h"})
    results = push_with(store, batched, g, g, h, g)
    assert statuses(results) == [Status.APPLIED, Status.DUPLICATE, Status.APPLIED, Status.DUPLICATE]
    later = spy.notes[1:]
    assert all(len(call) == len(set(call)) for call in later)
    assert sorted(i for call in later for i in call) == sorted([g.id, h.id])
    assert spy.note == []


def test_batch_in_request_repeat_of_a_rejected_entry_is_tried_again(
    store: MemoryStore, spy: Spy, batched: Registry
) -> None:
    bad = note_entry({"reject": True})
    fixed = note_entry({"text": "fixed"}, entry_id=bad.id)
    results = push_with(store, batched, bad, bad, fixed, fixed)
    assert statuses(results) == [Status.REJECTED, Status.REJECTED, Status.APPLIED, Status.DUPLICATE]
    assert spy.notes == [[bad.id], [bad.id], [bad.id]]
    assert store.ledger[bad.id].payload_hash == payload_hash(fixed)
    # The same answers as the per-entry path.
    other = MemoryStore()
    assert push_with(other, make_batch_registry(other, Spy(), batch=False), bad, bad, fixed, fixed) == results


def test_an_entry_of_another_kind_waits_for_the_pending_run(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    n1, n2, n3 = note_entry({"text": "1"}), note_entry({"text": "2"}), note_entry({"text": "3"})
    count = make_entry("tally", {})
    results = push_with(store, batched, n1, n2, count, n3)
    assert spy.notes == [[n1.id, n2.id], [n3.id]]
    assert spy.tally == [count.id]
    # "rev", note:n1 and note:n2 were written before the tally ran.
    assert results[2] == EntryResult(id=count.id, status=Status.APPLIED, record={"type": "tally", "seen": 3})
    assert [r.record for r in results] == [
        {"type": "note", "id": n1.id, "rev": 1},
        {"type": "note", "id": n2.id, "rev": 2},
        {"type": "tally", "seen": 3},
        {"type": "note", "id": n3.id, "rev": 3},
    ]


def test_ledger_hits_do_not_split_a_run(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    old_note, old_count = note_entry({"text": "old"}), make_entry("tally", {})
    push_with(store, batched, old_note, old_count)
    spy.notes.clear()
    spy.tally.clear()
    n1, n2, n3 = note_entry({"text": "1"}), note_entry({"text": "2"}), note_entry({"text": "3"})
    reused = make_entry("tally", {"x": 1}, entry_id=old_count.id)
    results = push_with(store, batched, n1, old_note, n2, old_count, reused, n3)
    assert spy.notes == [[n1.id, n2.id, n3.id]]
    assert spy.tally == []
    assert statuses(results) == [
        Status.APPLIED,
        Status.DUPLICATE,
        Status.APPLIED,
        Status.DUPLICATE,
        Status.CONFLICT,
        Status.APPLIED,
    ]
    assert [results[i].record for i in (0, 2, 5)] == [
        {"type": "note", "id": n.id, "rev": rev} for n, rev in ((n1, 2), (n2, 3), (n3, 4))
    ]
    assert results[4].reason == REUSED_ID_REASON


def test_unknown_kind_between_batch_entries(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    n1, n2 = note_entry({"text": "1"}), note_entry({"text": "2"})
    unknown = make_entry("dosing.change")
    results = push_with(store, batched, n1, unknown, n2)
    assert statuses(results) == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert results[1].reason == "Unknown entry kind 'dosing.change'. Update the app."
    assert sorted(i for call in spy.notes for i in call) == sorted([n1.id, n2.id])
    assert set(store.ledger) == {n1.id, n2.id}


def test_batch_handler_exception_rolls_back_the_whole_batch(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    kept = note_entry({"text": "kept"})
    push_with(store, batched, kept)
    snapshot = (dict(store.records), dict(store.ledger), dict(store.ledger_entries))
    count = make_entry("tally", {})
    a, boom, b = note_entry({"text": "a"}), note_entry({"text": "b", "boom": True}), note_entry({"text": "c"})
    with pytest.raises(Boom):
        push_with(store, batched, count, a, boom, b)
    # The tally was applied and the batch handler wrote "a" before it crashed: all of it is rolled back.
    assert spy.tally == [count.id]
    assert spy.notes[-1] == [a.id, boom.id, b.id]
    assert (store.records, store.ledger, store.ledger_entries) == snapshot
    assert (store.commits, store.rollbacks) == (1, 1)
    # The client retries later (without the crashing entry, say).
    assert statuses(push_with(store, batched, count, a, b)) == [Status.APPLIED] * 3
    assert store.records["rev"] == 3


def test_a_crashing_run_stops_the_entries_after_it(store: MemoryStore, spy: Spy, batched: Registry) -> None:
    boom, count = note_entry({"boom": True}), make_entry("tally", {})
    with pytest.raises(Boom):
        push_with(store, batched, boom, count)
    assert spy.tally == []
    assert (store.records, store.ledger) == ({}, {})
    assert store.rollbacks == 1


def test_an_error_from_a_batch_handler_aborts_the_batch(store: MemoryStore) -> None:
    def many(entries: Sequence[Entry]) -> list[Outcome]:
        for e in entries:
            store.records[f"note:{e.id}"] = True
        raise Boom("database went away")

    registry = Registry()
    registry.register("notes.add", lambda entry: pytest.fail("single handler called"), many=many)
    with pytest.raises(Boom):
        push_with(store, registry, note_entry(), note_entry())
    assert (store.records, store.ledger, store.ledger_entries) == ({}, {}, {})
    assert (store.commits, store.rollbacks) == (0, 1)


@pytest.mark.parametrize(
    "exc",
    [Rejected(NOTE_REJECTED), Conflict(NOTE_STALE, {"type": "note"})],
    ids=["raised-rejected", "raised-conflict"],
)
def test_a_batch_handler_raising_rejected_or_conflict_falls_back_to_one_at_a_time(
    store: MemoryStore, exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    # Only a *returned* Rejected/Conflict is a per-entry outcome. A raised one breaks the contract: the
    # run's writes are rolled back and each entry goes through the single handler, so one bad entry
    # never turns the whole request into an error the phone would retry for ever.
    def many(entries: Sequence[Entry]) -> list[Outcome]:
        for e in entries:
            store.records[f"half:{e.id}"] = True
        raise exc

    def single(entry: Entry) -> dict[str, Any]:
        if entry.payload.get("reject"):
            raise Rejected(NOTE_REJECTED)
        store.records[f"note:{entry.id}"] = True
        return {"type": "note", "id": entry.id}

    registry = Registry()
    registry.register("notes.add", single, many=many)
    good, bad, other = note_entry(), note_entry({"reject": True}), note_entry()
    with caplog.at_level(logging.WARNING, logger="sync"):
        results = push_with(store, registry, good, bad, other)
    assert statuses(results) == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert store.records == {f"note:{good.id}": True, f"note:{other.id}": True}  # no half-written rows
    assert set(store.ledger) == {good.id, other.id}
    assert (store.commits, store.rollbacks) == (1, 0)
    assert "applying 3 entries one at a time" in caplog.text


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda entries: [], "one outcome per entry"),
        (lambda entries: [{"type": "note"} for _ in entries[1:]], "one outcome per entry"),
        (lambda entries: [{"type": "note"} for _ in [*entries, 0]], "one outcome per entry"),
        (lambda entries: tuple({"type": "note"} for _ in entries), "one outcome per entry"),
        (lambda entries: None, "one outcome per entry"),
        (lambda entries: [{"type": "note"}, None], "returned NoneType, not dict"),
        (lambda entries: [{"type": "note"}, [("type", "note")]], "returned list, not dict"),
        (lambda entries: [{"type": "note"}, ValueError("not an outcome")], "returned ValueError, not dict"),
    ],
    ids=["none", "too-few", "too-many", "tuple", "not-a-list", "none-outcome", "list-outcome", "other-exception"],
)
def test_batch_handler_bad_answer_is_a_type_error_and_rolls_back(
    store: MemoryStore, answer: Callable[[Sequence[Entry]], Any], message: str
) -> None:
    def many(entries: Sequence[Entry]) -> list[Outcome]:
        for e in entries:
            store.records[f"note:{e.id}"] = True
        return answer(entries)  # type: ignore[no-any-return]  # deliberately wrong answers

    registry = Registry()
    registry.register("notes.add", lambda entry: pytest.fail("single handler called"), many=many)
    with pytest.raises(TypeError, match=message):
        push_with(store, registry, note_entry(), note_entry())
    assert (store.records, store.ledger, store.ledger_entries) == ({}, {}, {})
    assert (store.commits, store.rollbacks) == (0, 1)


def test_batch_abort_is_logged_without_the_payload(
    store: MemoryStore, batched: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Patient is very tired today"
    caplog.set_level(logging.DEBUG, logger="sync")
    ok = note_entry({"text": secret})
    push_with(store, batched, ok)
    assert f"{ok.id} kind notes.add -> applied" in caplog.text
    first = note_entry({"text": secret})
    with pytest.raises(Boom):
        push_with(store, batched, make_entry("tally", {}), first, note_entry({"text": secret, "boom": True}))
    # The engine cannot tell which entry of a run crashed: it names the run's range and first entry.
    assert f"aborted in a run of 2 notes.add entries (indexes 1-2, first {first.id}): Boom" in caplog.text
    assert secret not in caplog.text
    assert "database went away" not in caplog.text


# A small id pool so that ids repeat (same or other content) within and across requests.
POOL = [str(uuid.UUID(int=n, version=4)) for n in range(1, 7)]
NOTE_PAYLOADS: list[dict[str, Any]] = [
    {"text": "a"},
    {"text": "b"},
    {"text": "a", "reject": True},
    {"text": "b", "reject": True},
]


@st.composite
def mixed_entries(draw: st.DrawFn) -> Entry:
    kind = draw(st.sampled_from(["notes.add", "notes.add", "notes.add", "tally", "dosing.change"]))
    return make_entry(
        kind,
        draw(st.sampled_from(NOTE_PAYLOADS)) if kind == "notes.add" else {},
        entry_id=draw(st.sampled_from(POOL)),
        base_rev=draw(st.sampled_from([None, None, 0, 1, 2, 3])),
    )


@st.composite
def mixed_requests(draw: st.DrawFn) -> list[Entry]:
    entries = draw(st.lists(mixed_entries(), min_size=1, max_size=8))
    if draw(st.integers(0, 3)) == 0:  # sometimes a crash somewhere in the request
        crash_id = draw(st.sampled_from([*POOL, str(uuid.UUID(int=99, version=4))]))
        entries.insert(draw(st.integers(0, len(entries))), note_entry({"boom": True}, entry_id=crash_id))
    return entries


def push_or_crash(store: MemoryStore, registry: Registry, entries: list[Entry]) -> list[EntryResult] | str:
    try:
        return push_with(store, registry, *entries)
    except Boom:
        return "crashed"


@settings(max_examples=100, deadline=None)
@given(requests=st.lists(mixed_requests(), min_size=1, max_size=4), relax_before=st.integers(0, 4))
def test_batch_handlers_give_the_same_results_and_writes_as_single_handlers(
    requests: list[list[Entry]], relax_before: int
) -> None:
    single_store, batch_store = MemoryStore(), MemoryStore()
    single_spy, batch_spy = Spy(), Spy()
    single = make_batch_registry(single_store, single_spy, batch=False)
    batched = make_batch_registry(batch_store, batch_spy)
    for n, entries in enumerate(requests):
        if n == relax_before:
            relax_rule(single_store)
            relax_rule(batch_store)
        expected = push_or_crash(single_store, single, entries)
        assert push_or_crash(batch_store, batched, entries) == expected
        assert batch_store.records == single_store.records
        assert batch_store.ledger == single_store.ledger
        assert batch_store.ledger_entries == single_store.ledger_entries
        assert (batch_store.commits, batch_store.rollbacks) == (single_store.commits, single_store.rollbacks)
    assert single_spy.notes == []
    assert batch_spy.note == []  # every note went through the batch handler
    assert batch_spy.tally == single_spy.tally
    assert all(len(call) == len(set(call)) for call in batch_spy.notes)
