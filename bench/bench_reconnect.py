"""From the network coming back to every pending entry sent: 50 entries (design.md §6: ≤ 2 s).

A real Chromium (Debian's, the e2e tests' arguments and phone viewport) signs in as the demo PT on a
LiveServer (gunicorn, fresh database, `flask db upgrade` and `flask demo-data`) and waits for the service
worker. Then, per round: the context goes offline; 50 full lower-limb assessments for a demo child are saved
into the outbox with `window.ITBOutbox.enqueue` (what the form's submit handler does); the context goes back
online, which fires the page's `online` event, which flushes the outbox. Measured: from
`context.set_offline(False)` to every one of the 50 entries being "sent" in the outbox (seen from Python,
polling every 20 ms), and from the page's `online` event to the last one marked sent (timed in the page).
Checks afterwards that the server holds exactly 50 new assessments per round, one per entry id.

    .venv/bin/python bench/bench_reconnect.py [--entries 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Failures, Row, assessment_payload, chromium_settings, emit, machine, print_table
from e2e.server import LiveServer
from tests.dbutil import create_database

BUDGET_S = 2.0
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-pass"

# Set once per round, before going back online: note the `online` event and the moment all are sent.
WATCH = """(ids) => {
  const want = new Set(ids);
  const b = window.__bench = {online: null, done: null, checks: 0};
  window.addEventListener("online", () => { if (b.online === null) { b.online = performance.now(); } },
                          {once: true});
  const check = () => {
    if (b.done !== null) { return; }
    b.checks++;
    window.ITBOutbox.all().then(rows => {
      const sent = rows.filter(r => want.has(r.id) && r.status === "sent").length;
      if (sent === want.size && b.done === null) { b.done = performance.now(); clearInterval(b.timer); }
    });
  };
  b.timer = setInterval(check, 10);
  document.addEventListener("outbox:changed", check);
}"""

ENQUEUE = """async ([entries]) => {
  const deviceId = (window.ITB && window.ITB.deviceId) || "bench-phone";
  for (const e of entries) {   // one after another, as a PT saves forms one after another
    await window.ITBOutbox.enqueue(Object.assign({device_id: deviceId, recorded_at: new Date().toISOString(),
                                                  base_rev: null, form_version: 1}, e));
  }
  return deviceId;
}"""

SUMMARY = """() => window.ITB.outboxSummary().then(s => ({pending: s.pending, attention: s.attention,
  phase: s.state.phase, sent: s.entries.filter(e => e.status === "sent").length}))"""


def _poll(page: Any, js: str, arg: Any = None, timeout: float = 30.0, every: float = 0.05) -> Any:
    """page.evaluate goes through the DevTools protocol, which the app's CSP (no eval) allows."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(js, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(js)
        time.sleep(every)


def main() -> None:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import bindparam, create_engine, text

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    print(f"machine at start: {machine()}", file=sys.stderr)
    if not Path(CHROMIUM_PATH).exists():
        sys.exit(f"Chromium not found at {CHROMIUM_PATH}: install Debian's chromium or set CHROMIUM_PATH.")
    failures = Failures()
    n = opts.entries
    walls: list[float] = []
    in_page: list[float] = []
    syncs: list[tuple[int, float]] = []  # per round: POST /api/sync count, their summed duration (ms)
    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
        url, drop = create_database(Path(tmp))
        server = LiveServer(url, Path(tmp))
        engine = None
        try:
            server.flask("db", "upgrade")
            server.flask("demo-data")
            engine = create_engine(url)
            with engine.connect() as conn:
                trial_id, gmfcs = conn.execute(
                    text(
                        "SELECT trials.id, patients.gmfcs_level FROM trials JOIN patients "
                        "ON patients.id = trials.patient_id WHERE patients.mrn = 'DEMO-1001'"
                    )
                ).one()
                pt_id = conn.execute(text("SELECT id FROM users WHERE username = 'pt'")).scalar()
            count_sql = text("SELECT count(*) FROM assessments")
            mine_sql = text(
                "SELECT count(*), count(DISTINCT entry_id) FROM assessments WHERE entry_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True))
            server.start()
            args, phone = chromium_settings()
            rng = random.Random(5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=args)
                ctx = browser.new_context(base_url=server.url, **phone)
                page = ctx.new_page()
                page.on("pageerror", lambda e: failures.items.append(f"JavaScript error: {e}"))
                timings: list[float] = []

                def on_response(response: Any) -> None:
                    if response.url.endswith("/api/sync"):
                        t = response.request.timing
                        timings.append(max(0.0, t["responseEnd"] - t["requestStart"]))

                page.on("requestfinished", lambda r: on_response(r.response()) if r.url.endswith("/api/sync") else None)
                page.goto("/login")
                page.get_by_label("Username").fill("pt")
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(re.compile(r".*/today"))
                _poll(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
                page.wait_for_timeout(1500)  # let the worker's page warm-up finish
                for rnd in range(opts.rounds):
                    with engine.connect() as conn:
                        before = conn.execute(count_sql).scalar()
                    entries = [
                        {
                            "id": str(uuid.uuid4()),
                            "kind": "assessments.record",
                            "author_id": pt_id,
                            "payload": assessment_payload(
                                trial_id, 1, "baseline" if i % 2 else "post_dose", gmfcs, rng
                            ),
                            "label": f"Bench assessment {i + 1}",
                        }
                        for i in range(n)
                    ]
                    ids = [e["id"] for e in entries]
                    ctx.set_offline(True)
                    _poll(page, "() => navigator.onLine === false")
                    page.evaluate(ENQUEUE, [entries])
                    summary = page.evaluate(SUMMARY)
                    failures.check(
                        summary["pending"] == n, f"round {rnd + 1}: {summary['pending']} pending offline, expected {n}"
                    )
                    page.evaluate(WATCH, ids)
                    timings.clear()
                    t0 = time.perf_counter()
                    ctx.set_offline(False)
                    try:
                        _poll(page, "() => window.__bench.done !== null", timeout=60, every=0.02)
                        walls.append(time.perf_counter() - t0)
                    except TimeoutError:
                        failures.items.append(f"round {rnd + 1}: not all {n} entries were sent within 60 s")
                        continue
                    bench = page.evaluate("() => ({online: window.__bench.online, done: window.__bench.done})")
                    if bench["online"] is None:
                        failures.items.append(f"round {rnd + 1}: the page never saw an `online` event")
                    else:
                        in_page.append((bench["done"] - bench["online"]) / 1000)
                    page.wait_for_timeout(300)  # the last requestfinished events
                    syncs.append((len(timings), sum(timings)))
                    summary = page.evaluate(SUMMARY)
                    failures.check(
                        summary["pending"] == 0 and summary["attention"] == 0,
                        f"round {rnd + 1}: after sending, outbox says {summary}",
                    )
                    with engine.connect() as conn:
                        after = conn.execute(count_sql).scalar()
                        mine, distinct = conn.execute(mine_sql, {"ids": ids}).one()
                    failures.check(
                        after - before == n and mine == n and distinct == n,
                        f"round {rnd + 1}: the server gained {after - before} assessments, {mine} with "
                        f"these entry ids ({distinct} distinct); expected exactly {n}",
                    )
                ctx.close()
                browser.close()
        finally:
            if engine is not None:
                engine.dispose()
            server.stop()
            drop()
    rows: list[Row] = []
    if walls:
        worst = max(walls)
        emit(f"reconnect.{n}_entries_sent.median", round(statistics.median(walls), 3), "s", BUDGET_S)
        emit(f"reconnect.{n}_entries_sent.worst", round(worst, 3), "s", BUDGET_S)
        rows.append(
            Row(
                f"set_offline(False) -> all {n} sent, median of {len(walls)} rounds",
                f"{statistics.median(walls):.2f} s",
                f"≤ {BUDGET_S:g} s",
                statistics.median(walls) <= BUDGET_S,
            )
        )
        rows.append(
            Row("  each round", " / ".join(f"{w:.2f}" for w in walls) + " s", f"≤ {BUDGET_S:g} s", worst <= BUDGET_S)
        )
    if in_page:
        rows.append(
            Row(
                "  in the page: `online` event -> last entry marked sent",
                " / ".join(f"{w:.2f}" for w in in_page) + " s",
            )
        )
    if syncs:
        rows.append(
            Row(
                "  POST /api/sync per round: requests, time in them (browser's view)",
                " / ".join(f"{c} req {ms:.0f} ms" for c, ms in syncs),
            )
        )
    rows.append(
        Row(
            f"  check: server has exactly {n} new assessments per round, one per id",
            "ok" if not failures.items else "FAILED",
        )
    )
    print_table(f"Reconnect: {n} entries saved offline, then back online (Chromium, LiveServer, SQLite)", rows)
    failures.exit()


if __name__ == "__main__":
    main()
