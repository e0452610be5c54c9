"""Ingest of a 1,000-entry sync batch, durably (design.md §6: ≤ 0.5 s, ≥ 2,000 entries/s).

1. Through the real path: POST /api/sync on the Flask app (test client, signed in as a PT), as two requests of
   500 (the protocol's MAX_ENTRIES_PER_BATCH), on a fresh SQLite file with the app's own settings (WAL,
   synchronous=FULL, one transaction per batch, one SAVEPOINT per entry). Then checks that exactly 1,000
   assessments exist and that sending everything again answers 1,000 duplicates and writes nothing.
2. The engine alone: one `sync.apply_push` of all 1,000 entries with `SqlStore`, in an app context, on another
   fresh database (the per-call limit of 500 is raised for this measurement only).

With TEST_DATABASE_URL set (a PostgreSQL server, as for `make test-pg`) the same runs on a fresh PostgreSQL
database too. `--profile` prints where the time of the single 1,000-entry apply goes.

    .venv/bin/python bench/bench_sync_ingest.py [--entries 1000] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Failures,
    Row,
    assessment_entries,
    build_world,
    client_sign_in,
    emit,
    machine,
    make_app,
    migrate,
    print_table,
)
from tests.dbutil import create_database

BUDGET_S = 0.5  # for 1,000 entries
BUDGET_RATE = 2000


def _judged(row: Row, pg: bool) -> Row:
    """The budget is set for SQLite (design.md §6); PostgreSQL figures are printed for information."""
    return Row(row.what, row.figure, "(SQLite's)", None) if pg and row.ok is not None else row


def _fresh(tmp: Path, pg: bool):  # type: ignore[no-untyped-def]
    if pg:
        return create_database(tmp)
    saved = os.environ.pop("TEST_DATABASE_URL", None)
    try:
        return create_database(tmp)
    finally:
        if saved is not None:
            os.environ["TEST_DATABASE_URL"] = saved


def _counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from server.assessments.models import Assessment
    from server.extensions import db
    from server.sync_api.models import SyncLedger

    with app.app_context():
        assessments = db.session.scalar(select(func.count()).select_from(Assessment))
        distinct = db.session.scalar(select(func.count(func.distinct(Assessment.entry_id))))
        ledger = db.session.scalar(select(func.count()).select_from(SyncLedger))
        db.session.remove()
    return int(assessments or 0), int(distinct or 0), int(ledger or 0)


def _sqlite_settings(app) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from server.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return db.engine.dialect.name
        journal = db.session.execute(text("PRAGMA journal_mode")).scalar()
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            db.session.execute(text("PRAGMA synchronous")).scalar(), "?"
        )
        db.session.remove()
    return f"sqlite journal_mode={journal} synchronous={sync}"


def http_path(tmp: Path, pg: bool, n: int, failures: Failures) -> list[Row]:
    url, drop = _fresh(tmp, pg)
    try:
        app = make_app(url)
        migrate(app)
        world = build_world(app, 30)
        settings = _sqlite_settings(app)
        pt = world.staff["pt"]
        entries = assessment_entries(pt, world.trials, n)
        chunks = [entries[i : i + 500] for i in range(0, n, 500)]
        bodies = [json.dumps({"protocol_version": 1, "device_id": "bench-phone-1", "entries": c}) for c in chunks]
        client = app.test_client()
        csrf = client_sign_in(client, "pt")
        headers = {"X-CSRFToken": csrf, "X-Device-Id": "bench-phone-1"}

        def send(label: str, expect: str) -> list[float]:
            times = []
            for chunk, body in zip(chunks, bodies, strict=True):
                t0 = time.perf_counter()
                res = client.post("/api/sync", data=body, content_type="application/json", headers=headers)
                times.append(time.perf_counter() - t0)
                if not failures.check(
                    res.status_code == 200,
                    f"{label}: POST /api/sync answered {res.status_code}: {res.get_data(as_text=True)[:300]}",
                ):
                    continue
                results = res.get_json()["results"]
                statuses = Counter(r["status"] for r in results)
                failures.check(
                    statuses == Counter({expect: len(chunk)}),
                    f"{label}: expected {len(chunk)} {expect}, got {dict(statuses)}; first other: "
                    f"{next((r for r in results if r['status'] != expect), None)}",
                )
                failures.check(
                    [r["id"] for r in results] == [e["id"] for e in chunk],
                    f"{label}: results not one per entry, in order",
                )
            return times

        first = send("first send", "applied")
        assessments, distinct, ledger = _counts(app)
        failures.check(
            assessments == n and distinct == n and ledger == n,
            f"after the first send: {assessments} assessments ({distinct} distinct entry ids), "
            f"{ledger} ledger rows; expected {n} of each",
        )
        again = send("resend", "duplicate")
        after = _counts(app)
        failures.check(after == (n, n, n), f"the resend wrote something: now {after}, expected {(n, n, n)}")
        with app.app_context():
            from server.extensions import db

            db.engine.dispose()
    finally:
        drop()
    total = sum(first)
    database = "postgresql" if pg else "sqlite"
    emit(
        f"ingest.test_client.{n}_entries.batch_{len(chunks[0])}",
        round(total, 4),
        "s",
        BUDGET_S * n / 1000,
        database=database,
    )
    emit(f"ingest.test_client.{n}_entries.resend_duplicates", round(sum(again), 4), "s", None, database=database)
    rows = [
        Row(
            f"[{settings}] {len(chunks)} x POST /api/sync of {len(chunks[0])}",
            " + ".join(f"{t * 1000:.0f}" for t in first) + " ms",
        )
    ]
    rows.append(
        Row(
            f"  {n} entries via HTTP, total",
            f"{total:.3f} s",
            f"≤ {BUDGET_S * n / 1000:g} s",
            total <= BUDGET_S * n / 1000,
        )
    )
    rows.append(Row("  rate", f"{n / total:,.0f} /s", f"≥ {BUDGET_RATE:,} /s", n / total >= BUDGET_RATE))
    rows.append(
        Row(
            f"  check: {n} assessments, {n} ledger rows, resend = {n} duplicates",
            "ok" if not failures.items else "FAILED",
        )
    )
    rows.append(Row("  resend (all duplicates), total", f"{sum(again):.3f} s"))
    return rows


def direct_apply(tmp: Path, pg: bool, n: int, failures: Failures, profile: bool) -> list[Row]:
    import sync.engine
    from server.extensions import db
    from server.sync_api.handlers import build_registry
    from server.sync_api.store import SqlStore
    from server.web import clock
    from sync import EntrySchema, PushRequest, Status, apply_push

    url, drop = _fresh(tmp, pg)
    try:
        app = make_app(url)
        migrate(app)
        world = build_world(app, 30)
        entries = assessment_entries(world.staff["pt"], world.trials, n, seed=2)
        with app.app_context():
            t0 = time.perf_counter()
            loaded = EntrySchema(many=True).load(entries)
            t_load = time.perf_counter() - t0
            request = PushRequest(protocol_version=1, device_id="bench-phone-1", entries=loaded)
            registry = build_registry()
            previous = sync.engine.MAX_ENTRIES_PER_BATCH
            sync.engine.MAX_ENTRIES_PER_BATCH = max(previous, n)  # this measurement only
            profiler = None
            try:
                if profile:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                t0 = time.perf_counter()
                results = apply_push(SqlStore(), request, registry, now=clock.now)
                t_apply = time.perf_counter() - t0
                if profiler is not None:
                    profiler.disable()
            finally:
                sync.engine.MAX_ENTRIES_PER_BATCH = previous
            statuses = Counter(r.status for r in results)
            failures.check(statuses == Counter({Status.APPLIED: n}), f"direct apply: {dict(statuses)}")
            db.session.remove()
            db.engine.dispose()
        counts = _counts(app)
        failures.check(counts == (n, n, n), f"direct apply: {counts} (assessments, distinct, ledger)")
    finally:
        drop()
    if profiler is not None:
        import pstats

        print(f"\nProfile of apply_push({n} entries), top 25 by cumulative time:", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    emit(
        f"ingest.apply_push.{n}_entries.one_call",
        round(t_apply, 4),
        "s",
        BUDGET_S * n / 1000,
        database="postgresql" if pg else "sqlite",
    )
    return [
        Row(
            f"  apply_push of {n} in one call (engine + SqlStore)",
            f"{t_apply:.3f} s",
            f"≤ {BUDGET_S * n / 1000:g} s",
            t_apply <= BUDGET_S * n / 1000,
        ),
        Row("  rate", f"{n / t_apply:,.0f} /s", f"≥ {BUDGET_RATE:,} /s", n / t_apply >= BUDGET_RATE),
        Row(f"  (EntrySchema load of {n}, before the apply)", f"{t_load * 1000:.0f} ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="profile the single apply_push call")
    args = parser.parse_args()
    print(f"machine at start: {machine()}", file=sys.stderr)
    failures = Failures()
    targets = [("SQLite", False)]
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        targets.append(("PostgreSQL", True))
    for name, pg in targets:
        with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
            rows = http_path(Path(tmp), pg, args.entries, failures)
            rows += direct_apply(Path(tmp), pg, args.entries, failures, args.profile)
            rows = [_judged(row, pg) for row in rows]
        print_table(f"Sync ingest, {args.entries} assessments.record entries (30 trials), {name}", rows)
    failures.exit()


if __name__ == "__main__":
    main()
