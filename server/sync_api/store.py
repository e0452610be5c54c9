"""SQLAlchemy implementation of `sync.Store`: one transaction per batch, one SAVEPOINT per entry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import SessionTransaction

from sync import Clash, Entry, EntryResult, EntryResultSchema, LedgerRow, Status, result_body

from ..extensions import WRITE_REQUEST, db
from ..web import clock
from ..web.errors import is_clash
from .models import SyncLedger

_results = EntryResultSchema()


class SqlStore:
    def __init__(self) -> None:
        self._outer: SessionTransaction | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        session = db.session
        current = session()
        if not (WRITE_REQUEST.get() and current.in_transaction()
                and not (current.new or current.dirty or current.deleted)):
            session.rollback()  # start clean: nothing unsaved from the request may ride along in the batch
            # SQLite: take the write lock up front (BEGIN IMMEDIATE) so concurrent batches queue, not fail.
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        # (Else the request's own transaction, which holds nothing unsaved and began with the write lock
        # (extensions.WRITE_REQUEST): the batch goes on in it, and the user it loaded needs no second query.)
        self._outer = session().get_transaction()
        # The session's identity map holds objects weakly: without this, the trial, day and user loaded
        # for one entry are collected before the next entry needs them, and every entry queries them again.
        kept: list[Any] = []

        def keep(_session: Any, instance: Any) -> None:
            kept.append(instance)

        event.listen(session(), "loaded_as_persistent", keep)
        try:
            yield
        except BaseException:
            session.rollback()
            raise
        finally:
            event.remove(session(), "loaded_as_persistent", keep)
            self._outer = None
        session.commit()

    @contextmanager
    def entry_scope(self) -> Iterator[None]:
        try:
            with db.session.begin_nested():
                yield
        except (IntegrityError, OperationalError) as exc:
            if not is_clash(exc):
                raise
            # The savepoint is rolled back; the batch goes on (sync.Clash: the engine reads the ledger again).
            raise Clash(type(exc.orig).__name__) from exc
        if db.session().get_transaction() is not self._outer:
            # Services flush and never commit; a commit here would break the batch's all-or-nothing promise.
            raise RuntimeError("a handler committed inside a sync batch: services must flush, not commit")

    def get_ledger(self, entry_id: str) -> LedgerRow | None:
        return self.get_ledger_many([entry_id]).get(entry_id)

    def get_ledger_many(self, entry_ids: list[str]) -> dict[str, LedgerRow]:
        rows = db.session.scalars(select(SyncLedger).where(SyncLedger.entry_id.in_(entry_ids))).all()
        return {row.entry_id: _to_row(row) for row in rows}

    def add_ledger_many(self, rows: list[tuple[LedgerRow, Entry]]) -> None:
        """One multi-row INSERT (the ledger is not an audited model: it holds ids and hashes, not clinical data)."""
        if not rows:
            return
        db.session.execute(insert(SyncLedger.__table__), [{
            "entry_id": row.entry_id, "kind": entry.kind, "author_id": entry.author_id,
            "device_id": entry.device_id, "recorded_at": entry.recorded_at,
            "received_at": row.received_at or clock.now(), "payload_hash": row.payload_hash,
            "status": row.status.value, "result": result_body(row.result)} for row, entry in rows])


def _to_row(row: SyncLedger) -> LedgerRow:
    result: EntryResult = _results.load(row.result)
    return LedgerRow(entry_id=row.entry_id, payload_hash=row.payload_hash, status=Status(row.status),
                     result=result, received_at=row.received_at)
