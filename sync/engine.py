"""Idempotent batch ingest: apply a :class:`PushRequest`, one result per entry.

Outcomes (the client drops an entry from its outbox only on APPLIED or
DUPLICATE, and only on a result it actually received):

* APPLIED   - the handler stored it; a ledger row records id, hash and result.
* DUPLICATE - the id is in the ledger with the same content hash (a retry);
  the original ``record`` is returned and nothing is written.
* CONFLICT  - either the handler raised :class:`Conflict` after storing a
  conflict copy (kept, and recorded in the ledger so a retry gets CONFLICT
  again), or the id is in the ledger with *different* content.  In the latter
  case the engine does not call the handler and writes nothing: the server
  keeps its version and returns the original ``record``, and the client keeps
  its own version in the outbox, shown as "needs attention", so it is not
  lost.  Both versions therefore exist.
* REJECTED  - the handler raised :class:`Rejected` (or the kind is unknown).
  Its writes are rolled back and no ledger row is written, so a retry after
  the problem is fixed on the server can still apply.

Any other exception from a handler propagates: ``store.batch()`` rolls the
whole batch back, the HTTP layer answers 5xx and the client retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import Conflict, Rejected
from .protocol import (
    MAX_ENTRIES_PER_BATCH,
    PROTOCOL_VERSION,
    Entry,
    EntryResult,
    PushRequest,
    Status,
    payload_hash,
)
from .registry import Registry
from .store import LedgerRow, Store

__all__ = ["REUSED_ID_REASON", "apply_push"]

log = logging.getLogger("sync")

REUSED_ID_REASON = "This entry id was already used for different content; both versions are kept."


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _from_ledger(entry: Entry, digest: str, row: LedgerRow) -> EntryResult:
    """Result for an entry whose id the ledger already holds. Writes nothing."""
    original = row.result
    if digest != row.payload_hash:
        return EntryResult(
            id=entry.id, status=Status.CONFLICT, reason=REUSED_ID_REASON, record=original.record
        )
    if row.status is Status.CONFLICT:
        # Same content that conflicted before: the same answer again.
        return EntryResult(
            id=entry.id,
            status=Status.CONFLICT,
            reason=original.reason,
            record=original.record,
        )
    return EntryResult(id=entry.id, status=Status.DUPLICATE, record=original.record)


def _apply_new(
    store: Store, registry: Registry, entry: Entry, digest: str, received_at: datetime
) -> tuple[EntryResult, LedgerRow | None]:
    """Run the handler for an id the ledger does not hold yet.

    The ``with store.entry_scope()`` block is left normally on success and on
    :class:`Conflict` (so the handler's writes, including its conflict copy,
    and the ledger row are kept) and by an exception on :class:`Rejected` (so
    the scope rolls back the handler's writes).  Any other exception leaves
    both the scope and this function, and the batch rolls back.
    """
    try:
        with store.entry_scope():
            handler = registry.get(entry.kind)  # UnknownKind is a Rejected
            try:
                record = handler(entry)
            except Conflict as exc:
                result = EntryResult(
                    id=entry.id, status=Status.CONFLICT, reason=exc.reason, record=exc.record
                )
            else:
                if not isinstance(record, dict):
                    raise TypeError(f"handler for {entry.kind!r} returned {type(record).__name__}, not dict")
                result = EntryResult(id=entry.id, status=Status.APPLIED, record=record)
            row = LedgerRow(
                entry_id=entry.id,
                payload_hash=digest,
                status=result.status,
                result=result,
                received_at=received_at,
            )
            store.add_ledger(row, entry)
    except Rejected as exc:
        return (
            EntryResult(id=entry.id, status=Status.REJECTED, reason=exc.reason, errors=exc.errors),
            None,
        )
    return result, row


def apply_push(
    store: Store,
    request: PushRequest,
    registry: Registry,
    *,
    now: Callable[[], datetime] | None = None,
) -> list[EntryResult]:
    """Apply every entry of ``request``; return one result per entry, in order.

    ``now`` gives the server's receipt time stamped on ledger rows (default:
    the current UTC time).
    """
    if request.protocol_version != PROTOCOL_VERSION:
        raise ValueError(f"unsupported protocol version {request.protocol_version}")
    if len(request.entries) > MAX_ENTRIES_PER_BATCH:
        raise ValueError(f"a batch holds at most {MAX_ENTRIES_PER_BATCH} entries")
    clock = now or _utcnow
    received_at = clock()
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("now() must return a timezone-aware datetime")

    results: list[EntryResult] = []
    with store.batch():
        unique_ids = list(dict.fromkeys(e.id for e in request.entries))
        # Ledger rows seen in this batch: prefetched, then updated as entries
        # apply, so a repeated id later in the batch sees the earlier one.
        seen: dict[str, LedgerRow] = store.get_ledger_many(unique_ids)
        for index, entry in enumerate(request.entries):
            digest = payload_hash(entry)
            existing = seen.get(entry.id)
            try:
                if existing is not None:
                    result = _from_ledger(entry, digest, existing)
                else:
                    result, row = _apply_new(store, registry, entry, digest, received_at)
                    if row is not None:
                        seen[entry.id] = row
            except BaseException as exc:
                # Never log the payload or the exception text (it may quote it).
                log.error(
                    "sync batch aborted at entry %s (index %d, kind %s): %s",
                    entry.id,
                    index,
                    entry.kind,
                    type(exc).__name__,
                )
                raise
            log.info("sync entry %s kind %s -> %s", entry.id, entry.kind, result.status.value)
            results.append(result)
    log.info(
        "sync batch from device %s: %d entries, %s",
        request.device_id,
        len(results),
        {s.value: sum(r.status is s for r in results) for s in Status},
    )
    return results
