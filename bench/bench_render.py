"""Server time to render the PT assessment form and the ward schedule with 30 active trials (design.md §6:
p50 ≤ 15 ms for the form, ≤ 30 ms for the ward).

The Flask app on a fresh SQLite file (migrations, the app's own settings), 30 children on the ward today (a
third each on trial day 1, 2 and 3, with the doses given so far and their observations, and a baseline
assessment each), requested through the Flask test client: ~200 requests per page after a warm-up, cycling
over the children. The time is the whole request in-process (routing, session, queries, template); no network.
Pages are timed uncompressed (brotli at flask-compress's level 4 adds about 0.1 ms to these pages); the
compressed sizes are shown for information.

    .venv/bin/python bench/bench_render.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
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
    pct,
    print_table,
)
from tests.dbutil import create_database

WARMUP = 10


def measure(get: Callable[[int], tuple[int, int]], n: int, failures: Failures, label: str) -> tuple[list[float], int]:
    for i in range(WARMUP):
        get(i)
    times: list[float] = []
    size = 0
    for i in range(n):
        t0 = time.perf_counter()
        status, size = get(i)
        times.append((time.perf_counter() - t0) * 1000)
        failures.check(status == 200, f"{label}: answered {status}")
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(f"machine at start: {machine()}", file=sys.stderr)
    failures = Failures()
    n = args.requests
    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
        url, drop = create_database(Path(tmp))
        try:
            app = make_app(url)
            migrate(app)
            world = build_world(app, 30)
            pt, nurse = app.test_client(), app.test_client()
            csrf = client_sign_in(pt, "pt")
            client_sign_in(nurse, "nurse")
            # A baseline for every child today, so the post-dose form has something to show beside each field.
            baselines = assessment_entries(world.staff["pt"], world.trials, 30, seed=3)
            for e, (_, day_today, _) in zip(baselines, world.trials, strict=True):
                e["payload"]["day_number"], e["payload"]["phase"] = str(day_today), "baseline"
            res = pt.post(
                "/api/sync",
                data=json.dumps({"protocol_version": 1, "device_id": "bench", "entries": baselines}),
                content_type="application/json",
                headers={"X-CSRFToken": csrf},
            )
            failures.check(
                res.status_code == 200 and all(r["status"] == "applied" for r in res.get_json()["results"]),
                "baselines were not all applied",
            )
            trials = world.trials
            compressed = {"Accept-Encoding": "gzip, br"}

            def form(phase: str, headers: dict[str, str] | None = None) -> Callable[[int], tuple[int, int]]:
                def get(i: int) -> tuple[int, int]:
                    trial_id, day, _ = trials[i % len(trials)]
                    r = pt.get(f"/trials/{trial_id}/days/{day}/{phase}", headers=headers or {})
                    return r.status_code, len(r.data)

                return get

            def page(
                client,
                path: str,
                headers: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
            ) -> Callable[[int], tuple[int, int]]:
                def get(_: int) -> tuple[int, int]:
                    r = client.get(path, headers=headers or {})
                    return r.status_code, len(r.data)

                return get

            with app.app_context():
                from server.dosing.services import ward_schedule
                from server.extensions import db
                from server.web import clock

                ward_rows = len(ward_schedule(clock.today()))
                db.session.remove()
            failures.check(ward_rows == 30, f"the ward schedule lists {ward_rows} children, expected 30")

            runs = [
                ("GET assessment form (baseline)", form("baseline"), 15.0),
                ("GET ward schedule /ward, 30 children", page(nurse, "/ward"), 30.0),
                ("GET post-dose form (baseline beside fields)", form("post-dose"), None),
                ("GET /today (PT's list)", page(pt, "/today"), None),
            ]
            rows: list[Row] = []
            for label, get, budget in runs:
                times, size = measure(get, n, failures, label)
                p50, p95 = pct(times, 50), pct(times, 95)
                key = label.split(" (")[0].removeprefix("GET ").replace(" ", "_").replace("/", "")
                emit(f"render.{key}.p50", round(p50, 2), "ms", budget)
                emit(f"render.{key}.p95", round(p95, 2), "ms", None)
                rows.append(
                    Row(
                        f"{label}: p50",
                        f"{p50:.1f} ms",
                        f"≤ {budget:g} ms" if budget else "",
                        p50 <= budget if budget else None,
                    )
                )
                rows.append(
                    Row(f"  p95 / max ({n} requests, {size / 1024:.1f} KB body)", f"{p95:.1f} / {max(times):.0f} ms")
                )
            br_form = pt.get(f"/trials/{trials[0][0]}/days/{trials[0][1]}/baseline", headers=compressed)
            br_ward = nurse.get("/ward", headers=compressed)
            rows.append(
                Row(
                    f"  (compressed, {br_form.headers.get('Content-Encoding')}: form / ward)",
                    f"{len(br_form.data) / 1024:.1f} / {len(br_ward.data) / 1024:.1f} KB",
                )
            )
            with app.app_context():
                db.engine.dispose()
        finally:
            drop()
    skipped = f", dosing history refused for {world.dosing_skipped} children" if world.dosing_skipped else ""
    print_table(
        f"Server render time, 30 active trials ({world.doses} doses, {world.observations} observations "
        f"on record{skipped}), Flask test client",
        rows,
    )
    failures.exit()


if __name__ == "__main__":
    main()
