"""Maps an entry kind (e.g. "assessments.record") to the function that applies it."""

from __future__ import annotations

from typing import Any, Protocol

from .errors import UnknownKind
from .protocol import Entry

__all__ = ["Handler", "Registry"]


class Handler(Protocol):
    """Applies one entry using the same service code as the online form.

    Returns the ``record`` dict (small server ids, e.g. ``{"type":
    "assessment", "id": 12}``) on success.  Raises :class:`sync.Rejected`
    (its writes are rolled back) or :class:`sync.Conflict` (after storing a
    conflict copy, which is kept).  Any other exception aborts the batch.
    """

    def __call__(self, entry: Entry) -> dict[str, Any]: ...


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """Register ``handler`` for ``kind``.  Registering a kind twice is a bug."""
        if not kind:
            raise ValueError("kind must be a non-empty string")
        if kind in self._handlers:
            raise ValueError(f"a handler for kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def get(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise UnknownKind(kind) from None

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers
