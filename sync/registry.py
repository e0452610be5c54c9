"""Maps an entry kind (e.g. "assessments.record") to the function that applies it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .errors import Conflict, Rejected, UnknownKind
from .protocol import Entry

__all__ = ["BatchHandler", "Handler", "Outcome", "Registry"]

#: What a batch handler answers for one entry: its ``record`` (applied), or the Conflict / Rejected it met.
Outcome = dict[str, Any] | Conflict | Rejected


class Handler(Protocol):
    """Applies one entry using the same service code as the online form.

    Returns the ``record`` dict (small server ids, e.g. ``{"type":
    "assessment", "id": 12}``) on success.  Raises :class:`sync.Rejected`
    (its writes are rolled back) or :class:`sync.Conflict` (after storing a
    conflict copy, which is kept).  Any other exception aborts the batch.
    """

    def __call__(self, entry: Entry) -> dict[str, Any]: ...


class BatchHandler(Protocol):
    """Optional fast path: applies a run of entries of one kind together (e.g. one INSERT for all).

    Returns one outcome per entry, in order: the ``record`` dict (applied), a :class:`sync.Conflict` (its
    conflict copy stored) or a :class:`sync.Rejected`.  It must give the outcomes that calling the single
    :class:`Handler` on each entry in turn would give (server ids may be handed out in another order, so it
    suits kinds whose entries of one batch do not depend on each other), and it must check every entry
    before writing anything for it, so that a rejected entry leaves no write (the engine cannot roll back
    one entry of a run).  The engine never passes the same id twice in one run.

    A raised (not returned) Rejected or Conflict breaks this contract: the engine rolls the run back and
    applies its entries one at a time with the single handler.  Any other exception aborts the batch.
    """

    def __call__(self, entries: Sequence[Entry]) -> list[Outcome]: ...


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._many: dict[str, BatchHandler] = {}

    def register(self, kind: str, handler: Handler, *, many: BatchHandler | None = None) -> None:
        """Register ``handler`` for ``kind`` (and its batch fast path, if it has one).  Registering a kind
        twice is a bug."""
        if not kind:
            raise ValueError("kind must be a non-empty string")
        if kind in self._handlers:
            raise ValueError(f"a handler for kind {kind!r} is already registered")
        self._handlers[kind] = handler
        if many is not None:
            self._many[kind] = many

    def get_many(self, kind: str) -> BatchHandler | None:
        """The batch fast path for ``kind``, or None (the engine then calls the handler per entry)."""
        return self._many.get(kind)

    def get(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise UnknownKind(kind) from None

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers
