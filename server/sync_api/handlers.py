"""Which entry kinds may be sent, by whom, and the feature handler that applies each.

Each feature owns its handler (`server/<feature>/offline.py`); this table only wires them, adding the three
things every kind needs: a role check, the audit actor (the entry's author and device, via "sync"), and a
kept copy of any version that ends in a conflict.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from sync import BatchHandler, Conflict, Entry, Outcome, Registry, Rejected, payload_hash

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
# kind -> "module:function" of its batch fast path (sync.BatchHandler), for kinds sent by the hundred
MANY: dict[str, str] = {
    "assessments.record": "server.assessments.offline:handle_record_many",
}
ROLE_REFUSED = "Your role does not allow this kind of entry. Ask the team lead to check your roles."


def _load(path: str) -> Any:
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


def _allowed(author_id: int, roles: tuple[str, ...]) -> bool:
    author = db.session.get(User, author_id)
    return author is not None and author.active and author.has_role(*roles)


def _wrap(kind: str, handler: Callable[[Entry], dict[str, Any]], roles: tuple[str, ...]):
    def apply(entry: Entry) -> dict[str, Any]:
        if not _allowed(entry.author_id, roles):
            raise Rejected(ROLE_REFUSED)
        with acting_as(Actor(user_id=entry.author_id, device_id=entry.device_id, via="sync")):
            try:
                return handler(entry)
            except Conflict as exc:
                keep_conflict(entry, exc.reason, exc.record)
                raise

    apply.__name__ = f"apply_{kind.replace('.', '_')}"
    return apply


def _wrap_many(kind: str, many: BatchHandler, roles: tuple[str, ...]) -> BatchHandler:
    """`_wrap` for a batch handler: the same role check, audit actor and kept conflict copies, per entry.
    Entries are passed on in stretches of consecutive entries with the same author and device (never regrouped,
    so they still apply in request order), each under its own audit actor."""
    def apply_many(entries: Sequence[Entry]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(entries)
        stretches: list[tuple[tuple[int, str], list[int]]] = []
        for n, entry in enumerate(entries):
            who = (entry.author_id, entry.device_id)
            if stretches and stretches[-1][0] == who:
                stretches[-1][1].append(n)
            else:
                stretches.append((who, [n]))
        for (author_id, device_id), positions in stretches:
            if not _allowed(author_id, roles):
                for n in positions:
                    outcomes[n] = Rejected(ROLE_REFUSED)
                continue
            with acting_as(Actor(user_id=author_id, device_id=device_id, via="sync")):
                answered = many([entries[n] for n in positions])
                if len(answered) != len(positions):
                    raise TypeError(f"the batch handler for {kind!r} must return one outcome per entry")
                for n, outcome in zip(positions, answered, strict=True):
                    if isinstance(outcome, Conflict):
                        keep_conflict(entries[n], outcome.reason, outcome.record)
                    outcomes[n] = outcome
        return outcomes  # type: ignore[return-value]  # every slot is filled above

    apply_many.__name__ = f"apply_many_{kind.replace('.', '_')}"
    return apply_many


def build_registry(extra: dict[str, tuple[Callable[[Entry], dict[str, Any]], tuple[str, ...]]] | None = None
                   ) -> Registry:
    registry = Registry()
    for kind, (path, roles) in KINDS.items():
        handler = _load(path)
        if handler is not None:
            many = _load(MANY[kind]) if kind in MANY else None
            registry.register(kind, _wrap(kind, handler, roles),
                              many=_wrap_many(kind, many, roles) if many is not None else None)
    for kind, (handler, roles) in (extra or {}).items():
        registry.register(kind, _wrap(kind, handler, roles))
    return registry
