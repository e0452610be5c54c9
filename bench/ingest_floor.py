"""The floor under our sync ingest: the same three rows per entry, written with nothing else in the way.

A WSGI app (no Flask, no SQLAlchemy, no sign-in) that `bench_pouchdb_compare.py --floor` serves with gunicorn as
the app is served, on the app's own SQLite file (WAL, synchronous=FULL). `POST /push` takes the phone's push (gzip
JSON, as `/api/sync` does) and, for every entry, writes what our ingest writes: an assessment row, its audit row and
its ledger row, with the stdlib `sqlite3` (three `executemany`, one `BEGIN IMMEDIATE` ... `COMMIT` a request), and
answers one result per entry. Nothing is checked: no envelope, no bounds, no trial, no repeat rule, no role.

With `FLOOR_VALIDATE=1` each payload is also loaded by the app's marshmallow assessment schema (`schema_for` and
`load_form`, as `server/assessments/offline.py` does), and the values it answers are the ones stored: the cost of
marshmallow alone, on top of the floor.

This is a measuring instrument, not a design: it shows how much of PouchDB's time any ingest in Python on this
SQLite file must spend before it validates anything (bench/README.md, "bench_pouchdb_compare.py").
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import orjson

_local = threading.local()
_days: dict[tuple[int, int], int] = {}
VALIDATE = os.environ.get("FLOOR_VALIDATE") == "1"

ASSESSMENT = (
    'INSERT INTO assessments (id, trial_id, trial_day_id, phase, author_id, recorded_at, received_at, entry_id, '
    'device_id, form_version, "values", not_tested, notes, version, first_version_id, supersedes_id, '
    "correction_reason, saved_before_dose_record, is_repeat, timing_confirmed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, NULL, NULL, 0, ?, 0)"
)
AUDIT = (
    'INSERT INTO audit_events (at, actor_id, device_id, via, action, entity_type, entity_id, "before", "after", '
    "trial_id, patient_id) VALUES (?, ?, ?, 'sync', 'create', 'Assessment', ?, NULL, ?, ?, ?)"
)
LEDGER = (
    "INSERT INTO sync_ledger (entry_id, kind, author_id, device_id, recorded_at, received_at, payload_hash, "
    "status, result) VALUES (?, ?, ?, ?, ?, ?, ?, 'applied', ?)"
)


def _connection() -> sqlite3.Connection:
    con: sqlite3.Connection | None = getattr(_local, "con", None)
    if con is None:
        con = _local.con = sqlite3.connect(os.environ["FLOOR_DB"], isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("PRAGMA busy_timeout=10000")
        if not _days:
            _days.update({(t, d): i for i, t, d in con.execute("SELECT id, trial_id, day_number FROM trial_days")})
            _days.update({(t, -1): p for t, p in con.execute("SELECT id, patient_id FROM trials")})
    return con


def _values(payload: dict[str, Any]) -> dict[str, Any]:
    if VALIDATE:
        from server.assessments.schemas import schema_for
        from server.web.forms import load_form

        data, errors = load_form(schema_for(payload), payload)  # type: ignore[arg-type]
        if data is None:
            raise ValueError(errors)
        return dict(data["values"])
    return {k: v for k, v in payload.items() if "." in k}


def _push(body: bytes) -> bytes:
    request = orjson.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con = _connection()
    con.execute("BEGIN IMMEDIATE")
    try:
        first = con.execute("SELECT coalesce(max(id), 0) + 1 FROM assessments").fetchone()[0]
        assessments, audits, ledger, results = [], [], [], []
        for pk, entry in enumerate(request["entries"], start=first):
            payload = entry["payload"]
            trial_id = int(payload["trial_id"])
            values = orjson.dumps(_values(payload)).decode()
            assessments.append((pk, trial_id, _days[(trial_id, int(payload["day_number"]))], payload["phase"],
                                entry["author_id"], entry["recorded_at"], now, entry["id"], entry["device_id"],
                                entry["form_version"], values, "{}", payload.get("notes"),
                                payload.get("repeat") == "1"))
            audits.append((now, entry["author_id"], entry["device_id"], str(pk), orjson.dumps({
                "id": pk, "trial_id": trial_id, "phase": payload["phase"], "entry_id": entry["id"],
                "recorded_at": entry["recorded_at"], "values": "[redacted]"}).decode(), trial_id,
                _days[(trial_id, -1)]))
            record = {"type": "assessment", "id": pk}
            ledger.append((entry["id"], entry["kind"], entry["author_id"], entry["device_id"], entry["recorded_at"],
                           now, "0" * 64, orjson.dumps({"id": entry["id"], "status": "applied",
                                                       "record": record}).decode()))
            results.append({"id": entry["id"], "status": "applied", "record": record})
        con.executemany(ASSESSMENT, assessments)
        con.executemany(AUDIT, audits)
        con.executemany(LEDGER, ledger)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return orjson.dumps({"results": results, "server_time": now})


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/push":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        out = _push(body)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
