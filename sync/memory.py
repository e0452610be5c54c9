"""In-memory :class:`~sync.store.Store`: the reference implementation and test double.

It has real rollback semantics: ``batch()`` and ``entry_scope()`` take a
snapshot of ``records`` and the ledger on entry and restore it if an
exception leaves the ``with`` block.  Test handlers write into ``records``
so their writes are undone together with the scope.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .protocol import Entry
from .store import LedgerRow

__all__ = ["MemoryStore"]

_Snapshot = tuple[dict[str, Any], dict[str, LedgerRow], dict[str, Entry]]


class MemoryStore:
    def __init__(self) -> None:
        self.records: dict[str, Any] = {}
        self.ledger: dict[str, LedgerRow] = {}
        #: The entry as received, per ledger row (the audit trail a SQL store keeps).
        self.ledger_entries: dict[str, Entry] = {}
        self.commits = 0
        self.rollbacks = 0
        self._in_batch = False
        self._scope_depth = 0

    def _snapshot(self) -> _Snapshot:
        return (
            copy.deepcopy(self.records),
            dict(self.ledger),  # LedgerRow and Entry are frozen: a shallow copy is enough
            dict(self.ledger_entries),
        )

    def _restore(self, snap: _Snapshot) -> None:
        self.records, self.ledger, self.ledger_entries = snap

    @contextmanager
    def batch(self) -> Iterator[None]:
        if self._in_batch:
            raise RuntimeError("MemoryStore.batch() does not nest")
        snap = self._snapshot()
        self._in_batch = True
        try:
            yield
        except BaseException:
            self._restore(snap)
            self.rollbacks += 1
            raise
        else:
            self.commits += 1
        finally:
            self._in_batch = False

    @contextmanager
    def entry_scope(self) -> Iterator[None]:
        if not self._in_batch:
            raise RuntimeError("MemoryStore.entry_scope() must be used inside batch()")
        snap = self._snapshot()
        self._scope_depth += 1
        try:
            yield
        except BaseException:
            self._restore(snap)
            raise
        finally:
            self._scope_depth -= 1

    def get_ledger(self, entry_id: str) -> LedgerRow | None:
        return self.ledger.get(entry_id)

    def get_ledger_many(self, entry_ids: list[str]) -> dict[str, LedgerRow]:
        return {i: self.ledger[i] for i in entry_ids if i in self.ledger}

    def add_ledger_many(self, rows: list[tuple[LedgerRow, Entry]]) -> None:
        for row, entry in rows:
            self._add_ledger(row, entry)

    def _add_ledger(self, row: LedgerRow, entry: Entry) -> None:
        if not self._in_batch:
            raise RuntimeError("MemoryStore.add_ledger_many() must be used inside batch()")
        if row.entry_id in self.ledger:
            # Mirrors the SQL adapter's primary key on entry_id.
            raise ValueError(f"ledger already holds entry {row.entry_id}")
        if row.entry_id != entry.id:
            raise ValueError("ledger row and entry disagree on the entry id")
        self.ledger[row.entry_id] = row
        self.ledger_entries[row.entry_id] = entry
