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
* REJECTED  - the handler raised :class:`Rejected` (or the kind is unknown),
  or the entry holds a value out of bounds (:func:`sync.protocol.implausible`:
  a phone clock far ahead or before 2000, an integer too big for the
  database, a NUL character), checked before anything else, so such an entry
  never reaches the ledger, the hash or a handler.  Its writes are rolled
  back and no ledger row is written, so a retry after the problem is fixed
  can still apply.

Concurrency: when the store reports a :class:`Clash` (another transaction
stored the same entry id, or something the entry's writes collide with,
meanwhile), the entry is answered from the ledger as it now stands
(duplicate / conflict), or applied again so the handler meets what the other
transaction wrote.  A run of the fast path that clashes is applied one entry
at a time.  Only an entry that keeps clashing lets the Clash propagate.

Any other exception from a handler propagates: ``store.batch()`` rolls the
whole batch back, the HTTP layer answers 5xx and the client retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .errors import Clash, Conflict, Rejected
from .protocol import (
    MAX_CLOCK_AHEAD,
    MAX_ENTRIES_PER_BATCH,
    PROTOCOL_VERSION,
    Entry,
    EntryResult,
    PushRequest,
    Status,
    implausible,
    payload_hash,
)
from .registry import BatchHandler, Registry
from .store import LedgerRow, Store

__all__ = ["REUSED_ID_REASON", "apply_push"]

log = logging.getLogger("sync")

REUSED_ID_REASON = "This entry id was already used for different content; both versions are kept."
CLASH_ATTEMPTS = 3  # tries of one entry that keeps meeting concurrent writes, before the batch gives up


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


def _ledger_row(entry: Entry, digest: str, result: EntryResult, received_at: datetime) -> LedgerRow:
    return LedgerRow(
        entry_id=entry.id, payload_hash=digest, status=result.status, result=result, received_at=received_at
    )


def _applied(entry: Entry, record: object) -> EntryResult:
    if not isinstance(record, dict):
        raise TypeError(f"handler for {entry.kind!r} returned {type(record).__name__}, not dict")
    return EntryResult(id=entry.id, status=Status.APPLIED, record=record)


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
                result = _applied(entry, handler(entry))
            except Conflict as exc:
                result = EntryResult(
                    id=entry.id, status=Status.CONFLICT, reason=exc.reason, record=exc.record
                )
            row = _ledger_row(entry, digest, result, received_at)
            store.add_ledger_many([(row, entry)])
    except Rejected as exc:
        return (
            EntryResult(id=entry.id, status=Status.REJECTED, reason=exc.reason, errors=exc.errors),
            None,
        )
    return result, row


def _apply_one(
    store: Store,
    registry: Registry,
    entry: Entry,
    digest: str,
    received_at: datetime,
    *,
    clashed: bool = False,
) -> tuple[EntryResult, LedgerRow | None]:
    """`_apply_new`, answered from the ledger instead once a concurrent transaction has stored the entry.

    ``clashed``: the entry already met a :class:`Clash` (in a run of the fast path), so the ledger is read first.
    """
    for attempt in range(CLASH_ATTEMPTS):
        if clashed or attempt:
            row = store.get_ledger(entry.id)
            if row is not None:
                return _from_ledger(entry, digest, row), row
        try:
            return _apply_new(store, registry, entry, digest, received_at)
        except Clash:
            log.info("sync entry %s kind %s clashed with a concurrent write (try %d)", entry.id, entry.kind,
                     attempt + 1)
    raise Clash(f"entry {entry.id} kept clashing with concurrent writes")


def _apply_run(
    store: Store, many: BatchHandler, run: list[tuple[Entry, str]], received_at: datetime
) -> list[tuple[EntryResult, LedgerRow | None]]:
    """Apply new entries of one kind through the kind's batch handler, in one scope, with one ledger write.

    The batch handler answers a Rejected for an entry it wrote nothing for (its contract), so no per-entry
    rollback is needed; any exception leaves the scope and aborts the batch, as on the per-entry path.
    """
    entries = [entry for entry, _ in run]
    out: list[tuple[EntryResult, LedgerRow | None]] = []
    with store.entry_scope():
        outcomes = many(entries)
        if not isinstance(outcomes, list) or len(outcomes) != len(entries):
            raise TypeError(f"the batch handler for {entries[0].kind!r} must return one outcome per entry")
        rows: list[tuple[LedgerRow, Entry]] = []
        for (entry, digest), outcome in zip(run, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                result = EntryResult(
                    id=entry.id, status=Status.REJECTED, reason=outcome.reason, errors=outcome.errors
                )
                out.append((result, None))
                continue
            if isinstance(outcome, Conflict):
                result = EntryResult(
                    id=entry.id, status=Status.CONFLICT, reason=outcome.reason, record=outcome.record
                )
            else:
                result = _applied(entry, outcome)
            row = _ledger_row(entry, digest, result, received_at)
            rows.append((row, entry))
            out.append((result, row))
        store.add_ledger_many(rows)
    return out


def _aborted(entry: Entry, index: int, exc: BaseException) -> None:
    # Never log the payload or the exception text (it may quote it).
    log.error(
        "sync batch aborted at entry %s (index %d, kind %s): %s",
        entry.id,
        index,
        entry.kind,
        type(exc).__name__,
    )


def apply_push(
    store: Store,
    request: PushRequest,
    registry: Registry,
    *,
    now: Callable[[], datetime] | None = None,
    max_clock_ahead: timedelta = MAX_CLOCK_AHEAD,
) -> list[EntryResult]:
    """Apply every entry of ``request``; return one result per entry, in order.

    ``now`` gives the server's receipt time stamped on ledger rows (default:
    the current UTC time); an entry saved more than ``max_clock_ahead`` after
    it (by the phone's clock) is rejected.
    """
    if request.protocol_version != PROTOCOL_VERSION:
        raise ValueError(f"unsupported protocol version {request.protocol_version}")
    if len(request.entries) > MAX_ENTRIES_PER_BATCH:
        raise ValueError(f"a batch holds at most {MAX_ENTRIES_PER_BATCH} entries")
    clock = now or _utcnow
    received_at = clock()
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("now() must return a timezone-aware datetime")

    entries = request.entries
    results: list[EntryResult | None] = [None] * len(entries)
    # New entries of one kind that has a batch handler, waiting to be applied together: (index, entry, hash).
    run: list[tuple[int, Entry, str]] = []
    run_ids: set[str] = set()

    def done(index: int, result: EntryResult) -> None:
        results[index] = result
        log.info("sync entry %s kind %s -> %s", result.id, entries[index].kind, result.status.value)

    with store.batch():
        unique_ids = list(dict.fromkeys(e.id for e in entries))
        # Ledger rows seen in this batch: prefetched, then updated as entries
        # apply, so a repeated id later in the batch sees the earlier one.
        seen: dict[str, LedgerRow] = store.get_ledger_many(unique_ids)

        def apply_run() -> None:
            if not run:
                return
            many = registry.get_many(run[0][1].kind)
            assert many is not None
            try:
                try:
                    applied = _apply_run(store, many, [(e, d) for _, e, d in run], received_at)
                except (Rejected, Conflict) as exc:
                    # A batch handler must *return* these per entry; one that raised broke its contract.
                    # Its writes are rolled back with the run's scope; apply the run one entry at a time.
                    log.warning(
                        "batch handler for %s raised %s: applying %d entries one at a time",
                        run[0][1].kind,
                        type(exc).__name__,
                        len(run),
                    )
                    applied = [_apply_one(store, registry, e, d, received_at) for _, e, d in run]
                except Clash:
                    # Another transaction stored some of these meanwhile: its writes are rolled back with the
                    # run's scope; each entry is answered from the ledger or applied on its own.
                    log.info("a run of %d %s entries clashed with a concurrent write: one at a time",
                             len(run), run[0][1].kind)
                    applied = [_apply_one(store, registry, e, d, received_at, clashed=True) for _, e, d in run]
            except BaseException as exc:
                # Which entry of the run failed is unknown here: name the run's range.
                log.error(
                    "sync batch aborted in a run of %d %s entries (indexes %d-%d, first %s): %s",
                    len(run),
                    run[0][1].kind,
                    run[0][0],
                    run[-1][0],
                    run[0][1].id,
                    type(exc).__name__,
                )
                raise
            for (index, entry, _), (result, row) in zip(run, applied, strict=True):
                if row is not None:
                    seen[entry.id] = row
                done(index, result)
            run.clear()
            run_ids.clear()

        for index, entry in enumerate(entries):
            refused = implausible(entry, now=received_at, max_clock_ahead=max_clock_ahead)
            if refused is not None:  # writes nothing, so it need not wait for the run
                done(index, EntryResult(id=entry.id, status=Status.REJECTED, reason=refused[0], errors=refused[1]))
                continue
            digest = payload_hash(entry)
            if entry.id in run_ids:  # a repeat of an entry still waiting in the run: apply the run first
                apply_run()
            existing = seen.get(entry.id)
            if existing is not None:  # writes nothing, so it need not wait for the run
                done(index, _from_ledger(entry, digest, existing))
                continue
            many = registry.get_many(entry.kind)
            if run and (many is None or entry.kind != run[0][1].kind):
                apply_run()  # entries apply in request order: a later entry may depend on an earlier one
            if many is not None:
                run.append((index, entry, digest))
                run_ids.add(entry.id)
                continue
            try:
                result, row = _apply_one(store, registry, entry, digest, received_at)
            except BaseException as exc:
                _aborted(entry, index, exc)
                raise
            if row is not None:
                seen[entry.id] = row
            done(index, result)
        apply_run()
    final = [r for r in results if r is not None]
    assert len(final) == len(entries)
    log.info(
        "sync batch from device %s: %d entries, %s",
        request.device_id,
        len(final),
        {s.value: sum(r.status is s for r in final) for s in Status},
    )
    return final
