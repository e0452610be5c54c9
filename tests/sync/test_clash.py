"""The engine's answer when the store reports a Clash: another transaction stored the same thing meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from sync import Clash, Entry, EntryResult, LedgerRow, MemoryStore, PushRequest, Registry, Status, apply_push
from sync.protocol import payload_hash

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make(n: int, **payload: Any) -> Entry:
    return Entry(id=f"00000000-0000-4000-8000-{n:012d}", kind="k", payload=payload or {"v": n}, author_id=1,
                 device_id="d", recorded_at=NOW, base_rev=None, form_version=1)


class RacingStore(MemoryStore):
    """A store where, the first time an entry's scope is left, another phone's transaction has just committed
    that entry (ledger row included): the scope is rolled back and a Clash raised, as the SQL store does."""

    def __init__(self, other: dict[str, Entry], clash_forever: bool = False) -> None:
        super().__init__()
        self.other = other
        self.clash_forever = clash_forever

    @contextmanager
    def entry_scope(self) -> Iterator[None]:
        with super().entry_scope():
            yield
            pending = [i for i in self.other if i in self.ledger] or list(self.other)
        for entry_id in pending:
            entry = self.other.pop(entry_id, None) if not self.clash_forever else self.other.get(entry_id)
            if entry is None:
                continue
            self.ledger.pop(entry_id, None)
            if not self.clash_forever:
                result = EntryResult(id=entry_id, status=Status.APPLIED, record={"id": 99})
                self.ledger[entry_id] = LedgerRow(entry_id, payload_hash(entry), Status.APPLIED, result, NOW)
            raise Clash("unique violation")


def registry(many: bool) -> Registry:
    reg = Registry()

    def one(entry: Entry) -> dict[str, Any]:
        return {"id": 1}

    def batch(entries: Any) -> list[Any]:
        return [{"id": 1} for _ in entries]

    reg.register("k", one, many=batch if many else None)
    return reg


@pytest.mark.parametrize("many", [False, True])
def test_an_entry_stored_meanwhile_by_another_phone_is_a_duplicate(many: bool) -> None:
    entry = make(1)
    store = RacingStore({entry.id: entry})
    [result] = apply_push(store, PushRequest(1, "d", [entry]), registry(many), now=lambda: NOW)
    assert result.status is Status.DUPLICATE and result.record == {"id": 99}


@pytest.mark.parametrize("many", [False, True])
def test_other_content_stored_meanwhile_under_the_same_id_is_a_conflict(many: bool) -> None:
    mine, theirs = make(1, v="mine"), make(1, v="theirs")
    store = RacingStore({theirs.id: theirs})
    [result] = apply_push(store, PushRequest(1, "d", [mine]), registry(many), now=lambda: NOW)
    assert result.status is Status.CONFLICT


def test_an_entry_that_keeps_clashing_lets_the_batch_fail_so_the_phone_retries() -> None:
    entry = make(1)
    store = RacingStore({entry.id: entry}, clash_forever=True)
    with pytest.raises(Clash):
        apply_push(store, PushRequest(1, "d", [entry]), registry(False), now=lambda: NOW)
    assert store.ledger == {} and store.rollbacks == 1
