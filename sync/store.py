"""What the engine needs from storage: a ledger of handled entry ids and scopes."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .protocol import Entry, EntryResult, Status

__all__ = ["LedgerRow", "Store"]


@dataclass(frozen=True)
class LedgerRow:
    """One handled entry id.  Only APPLIED and CONFLICT outcomes are recorded.

    ``received_at`` is the server time the entry was handled (audit trail);
    the engine always sets it.
    """

    entry_id: str
    payload_hash: str
    status: Status
    result: EntryResult
    received_at: datetime | None = None


class Store(Protocol):
    """Storage used by :func:`sync.engine.apply_push`.

    A SQL adapter maps ``batch()`` to one transaction committed once at the
    end (rolled back on any exception, so a crashed server commits nothing and
    the client simply retries) and ``entry_scope()`` to a SAVEPOINT that is
    rolled back when an exception leaves the ``with`` block and released
    otherwise.  The ledger's entry_id must be unique (primary key).  When the
    database refuses the scope's writes because a concurrent transaction
    stored the same thing (a unique constraint), ``entry_scope()`` rolls the
    scope back and raises :class:`sync.errors.Clash`; ``get_ledger`` must
    then see what that transaction committed.
    """

    def batch(self) -> AbstractContextManager[None]: ...

    def entry_scope(self) -> AbstractContextManager[None]: ...

    def get_ledger(self, entry_id: str) -> LedgerRow | None: ...

    def get_ledger_many(self, entry_ids: list[str]) -> dict[str, LedgerRow]: ...

    def add_ledger_many(self, rows: list[tuple[LedgerRow, Entry]]) -> None:
        """Record handled entries (each row with the entry as received); one write for a whole run."""
        ...
