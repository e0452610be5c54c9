"""Exceptions a handler raises to tell the engine how an entry ended."""

from __future__ import annotations

from typing import Any

__all__ = ["Clash", "Conflict", "Rejected", "SyncError", "UnknownKind"]


class SyncError(Exception):
    """Base class for outcomes other than "applied"."""


class Rejected(SyncError):
    """The entry cannot be applied as sent.

    ``reason`` is a sentence a nurse or PT can act on; ``errors`` maps a field
    name to a list of messages.  The engine rolls back whatever the handler
    wrote for this entry and records nothing in the ledger, so the same entry
    can be applied by a later retry once the cause is fixed on the server.
    """

    def __init__(self, reason: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


class Conflict(SyncError):
    """The entry clashes with what the server holds (e.g. a stale base_rev).

    The handler raises this *after* it has stored the losing version as a
    conflict copy: the engine keeps that write and records the entry as a
    conflict, so both versions are kept.  ``record`` names the server
    record(s) concerned (small ids only).
    """

    def __init__(self, reason: str, record: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


class UnknownKind(Rejected):
    """No handler is registered for the entry's kind."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"Unknown entry kind {kind!r}. Update the app.")
        self.kind = kind


class Clash(SyncError):
    """Another transaction wrote, meanwhile, something this entry's writes collide with (a unique constraint:
    the same entry id sent by two phones at once, the same version corrected twice, a trial's first plan).

    A store raises it from ``entry_scope()`` after rolling the scope back.  The engine then reads the ledger
    again (the other transaction has committed by then) and answers from it, or applies the entry once more so
    the handler meets what the other one wrote (a correction then becomes a Conflict).  If entries keep
    clashing, ``apply_push`` lets it propagate: the batch rolls back and the server answers "busy, retry".
    """
