"""Which entry kinds may be sent, by whom, and the feature handler that applies each.

Each feature owns its handler (`server/<feature>/offline.py`); this table only wires them, adding the three
things every kind needs: a role check, the audit actor (the entry's author and device, via "sync"), and a
kept copy of any version that ends in a conflict.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sync import Conflict, Entry, Registry, Rejected, payload_hash

from ..audit.context import Actor, acting_as
from ..auth.models import User
from ..extensions import db
from .models import SyncConflict

# kind -> ("module:function", roles allowed to send it)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "assessments.record": ("server.assessments.offline:handle_record", ("pt",)),
    "assessments.correct": ("server.assessments.offline:handle_correct", ("pt",)),
    "dosing.observe": ("server.dosing.offline:handle_observe", ("nurse",)),
}


def _load(path: str) -> Callable[[Entry], dict[str, Any]] | None:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    return getattr(module, attr, None)


def keep_conflict(entry: Entry, reason: str, record: dict[str, Any] | None) -> None:
    """Store the version that could not be applied, once per (entry, content)."""
    digest = payload_hash(entry)
    exists = db.session.query(SyncConflict.id).filter_by(entry_id=entry.id, payload_hash=digest).first()
    if exists is None:
        db.session.add(SyncConflict(
            entry_id=entry.id, payload_hash=digest, kind=entry.kind, payload=entry.payload,
            base_rev=entry.base_rev, author_id=entry.author_id, device_id=entry.device_id,
            recorded_at=entry.recorded_at, reason=reason,
            record_type=(record or {}).get("type"), record_id=(record or {}).get("id")))
        db.session.flush()


def _wrap(kind: str, handler: Callable[[Entry], dict[str, Any]], roles: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def apply(entry: Entry) -> dict[str, Any]:
        author = db.session.get(User, entry.author_id)
        if author is None or not author.active or not author.has_role(*roles):
            raise Rejected("Your role does not allow this kind of entry. Ask the team lead to check your roles.")
        with acting_as(Actor(user_id=entry.author_id, device_id=entry.device_id, via="sync")):
            try:
                return handler(entry)
            except Conflict as exc:
                keep_conflict(entry, exc.reason, exc.record)
                raise

    apply.__name__ = f"apply_{kind.replace('.', '_')}"
    return apply


def build_registry(extra: dict[str, tuple[Callable[[Entry], dict[str, Any]], tuple[str, ...]]] | None = None
                   ) -> Registry:
    registry = Registry()
    for kind, (path, roles) in KINDS.items():
        handler = _load(path)
        if handler is not None:
            registry.register(kind, _wrap(kind, handler, roles))
    for kind, (handler, roles) in (extra or {}).items():
        registry.register(kind, _wrap(kind, handler, roles))
    return registry
