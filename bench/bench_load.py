"""50 concurrent staff clients on loopback (design.md §6: p99 ≤ 200 ms, 0 errors, 0 lost entries).

A LiveServer (gunicorn as in production: 3 worker processes x 4 threads by default, fresh SQLite file with the
app's settings, `flask db upgrade`) with 30 children on the ward today. 50 clients, each its own staff account
and session (signed in through the login form before the clock starts; CSRF token from GET /api/session), each
on one keep-alive connection with cookies and `Accept-Encoding: gzip, br` like a phone's browser:

* 30 PTs: GET /today (25 %), GET an assessment form (35 %), POST /api/sync with one new assessment (40 %);
* 20 nurses: GET /ward.

Each client waits a random think time between requests (uniform, mean `--think`, default 1 s: staff tapping
through pages); `--think 0` runs them flat out to find the server's capacity. Reports requests/s, latency
percentiles (whole request as the client sees it), errors, and checks that every entry the server
acknowledged (applied or duplicate) exists exactly once in the database.

    .venv/bin/python bench/bench_load.py [--seconds 60] [--clients 50] [--think 1.0] [--workers 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    BENCH_PASSWORD,
    Browserish,
    Failures,
    Row,
    assessment_payload,
    build_world,
    entry,
    machine,
    make_app,
    pct,
    print_table,
)
from e2e.server import LiveServer
from tests.dbutil import create_database

BUDGET_P99_MS = 200.0


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.acked: dict[str, str] = {}  # entry id -> status (applied / duplicate)
        self.sent: set[str] = set()  # every entry id sent at least once

    def record(self, kind: str, ms: float) -> None:
        with self.lock:
            self.latency[kind].append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


def client_loop(
    client: Browserish,
    role: str,
    user_id: int,
    trials: list[tuple[int, int, int]],
    stats: Stats,
    start: threading.Event,
    stop_at: list[float],
    think: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    pending: list[dict] = []  # an entry not acknowledged yet is sent again, as the outbox would
    start.wait()
    time.sleep(rng.uniform(0, think or 0.01))  # spread the first requests
    while time.monotonic() < stop_at[0]:
        trial_id, day, gmfcs = trials[rng.randrange(len(trials))]
        roll = rng.random()
        if role == "nurse":
            kind, path = "GET /ward", "/ward"
        elif roll < 0.25:
            kind, path = "GET /today", "/today"
        elif roll < 0.60:
            kind, path = "GET form", f"/trials/{trial_id}/days/{day}/{rng.choice(['baseline', 'post-dose'])}"
        else:
            kind, path = "POST /api/sync (1 entry)", ""
        t0 = time.perf_counter()
        try:
            if path:
                status, _ = client.get(path)
                ok = status == 200
            else:
                if not pending:
                    phase = rng.choice(["baseline", "post_dose"])
                    pending.append(
                        entry(
                            user_id,
                            assessment_payload(trial_id, day, phase, gmfcs, rng),
                            device_id=f"bench-phone-{user_id}",
                        )
                    )
                e = pending[0]
                with stats.lock:
                    stats.sent.add(e["id"])
                status, body = client.push([e], device_id=e["device_id"])
                result = (body or {}).get("results", [{}])[0] if status == 200 else {}
                ok = status == 200 and result.get("status") in ("applied", "duplicate")
                if ok:
                    pending.pop(0)
                    with stats.lock:
                        stats.acked[e["id"]] = result["status"]
                elif status == 200:
                    stats.error(f"sync entry {result.get('status')}: {result.get('reason')}")
            ms = (time.perf_counter() - t0) * 1000
            stats.record(kind, ms)
            if not ok:
                stats.error(f"{kind} -> HTTP {status}")
        except Exception as exc:  # a timeout or a dropped connection: an error, and the client goes on
            stats.record(kind, (time.perf_counter() - t0) * 1000)
            stats.error(f"{kind} -> {type(exc).__name__}")
            client.close()
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))


def _server_errors(log_path: Path) -> Counter[str]:
    """The last line of each traceback in the server's log (e.g. "sqlite3.OperationalError: database is
    locked"), counted."""
    out: Counter[str] = Counter()
    if not log_path.exists():
        return out
    lines = log_path.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                j += 1
            if j < len(lines):
                sql = next((x.strip() for x in lines[j + 1 : j + 3] if x.startswith("[SQL:")), "")
                out[f"{lines[j].strip()} {sql}".strip()] += 1
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live children, e.g. gunicorn's workers (Linux /proc)."""
    import os

    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def argon2_login_cost() -> float:
    """What one sign-in's password check costs with the production argon2 profile (information)."""
    from argon2 import PasswordHasher, profiles

    hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
    digest = hasher.hash("correct horse battery staple")
    t0 = time.perf_counter()
    hasher.verify(digest, "correct horse battery staple")
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between requests (s)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (as `make run`)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    opts = parser.parse_args()
    print(f"machine at start: {machine()}")
    failures = Failures()
    n_pts = round(opts.clients * 0.6)
    pts = [f"pt{i:02d}" for i in range(n_pts)]
    nurses = [f"nurse{i:02d}" for i in range(opts.clients - n_pts)]
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
        url, drop = create_database(Path(tmp))
        server = LiveServer(url, Path(tmp), workers=opts.workers, threads=opts.threads)
        try:
            server.flask("db", "upgrade")
            app = make_app(url)
            world = build_world(app, 30, pts=pts, nurses=nurses)
            with app.app_context():
                from server.extensions import db

                db.engine.dispose()
            server.start()
            clients: list[tuple[Browserish, str, int]] = []
            for username in pts + nurses:
                c = Browserish(server.port)
                c.sign_in(username, BENCH_PASSWORD)
                clients.append((c, "pt" if username.startswith("pt") else "nurse", world.staff[username]))
            start = threading.Event()
            stop_at = [0.0]
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(c, role, uid, world.trials, stats, start, stop_at, opts.think, i),
                    daemon=True,
                )
                for i, (c, role, uid) in enumerate(clients)
            ]
            for t in threads:
                t.start()
            assert server.proc is not None
            cpu0, self0 = _cpu_seconds(server.proc.pid), time.process_time()
            t0 = time.monotonic()
            stop_at[0] = t0 + opts.seconds
            start.set()
            for t in threads:
                t.join(timeout=opts.seconds + 60)
            elapsed = time.monotonic() - t0
            server_cpu = (_cpu_seconds(server.proc.pid) - cpu0) / elapsed
            client_cpu = (time.process_time() - self0) / elapsed
            for c, _, _ in clients:
                c.close()
            server.stop()
            from sqlalchemy import bindparam, create_engine, text

            engine = create_engine(url)
            acked = list(stats.acked)
            sent = list(stats.sent)
            with engine.connect() as conn:
                total = conn.execute(text("SELECT count(*) FROM assessments")).scalar()
                found, distinct = conn.execute(
                    text(
                        "SELECT count(*), count(DISTINCT entry_id) FROM assessments WHERE entry_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": acked or ["-"]},
                ).one()
                ledger = conn.execute(text("SELECT count(*) FROM sync_ledger")).scalar()
            engine.dispose()
            server_errors = _server_errors(server.log_path)
        finally:
            server.stop()
            drop()
    everything = [ms for values in stats.latency.values() for ms in values]
    n_req = len(everything)
    n_err = sum(stats.errors.values())
    lost = len(acked) - found
    doubled = found - distinct
    failures.check(n_err == 0, f"{n_err} errors: {dict(stats.errors.most_common(5))}")
    failures.check(
        lost == 0 and doubled == 0,
        f"{len(acked)} entries acknowledged, {found} found ({distinct} distinct): {lost} lost, {doubled} doubled",
    )
    failures.check(
        total <= len(sent) and ledger == total,
        f"{total} assessments and {ledger} ledger rows for {len(sent)} entries sent",
    )
    p99 = pct(everything, 99) if everything else float("nan")
    rows = [
        Row(f"requests/s ({n_req} in {elapsed:.0f} s)", f"{n_req / elapsed:.1f} /s"),
        Row("latency p50 / p95, all requests", f"{pct(everything, 50):.0f} / {pct(everything, 95):.0f} ms"),
        Row("latency p99, all requests", f"{p99:.0f} ms", f"≤ {BUDGET_P99_MS:g} ms", p99 <= BUDGET_P99_MS),
        Row("errors (HTTP ≥ 400, refused entries, timeouts)", f"{n_err}", "0", n_err == 0),
        Row(
            f"lost acknowledged entries ({len(acked)} acknowledged, {found} in the database)",
            f"{lost}",
            "0",
            lost == 0 and doubled == 0,
        ),
    ]
    rows.append(
        Row("  CPU used: server processes / these 50 clients (1.0 = one core)", f"{server_cpu:.2f} / {client_cpu:.2f}")
    )
    for kind in sorted(stats.latency):
        values = stats.latency[kind]
        rows.append(
            Row(
                f"  {kind}: n={len(values)}, p50 / p95 / p99",
                f"{pct(values, 50):.0f} / {pct(values, 95):.0f} / {pct(values, 99):.0f} ms",
            )
        )
    for what, count in stats.errors.most_common(5):
        rows.append(Row(f"  error: {what}", f"{count}"))
    for what, count in server_errors.most_common(3):
        rows.append(Row(f"  server log: {what[:120]}", f"{count}"))
    rows.append(
        Row("  (sign-in, not timed: one argon2 check with the production profile)", f"{argon2_login_cost():.0f} ms")
    )
    served = f"gunicorn {opts.workers} workers x {opts.threads} threads"
    print_table(
        f"{opts.clients} staff clients ({len(pts)} PTs, {len(nurses)} nurses), {opts.seconds:g} s, think "
        f"time {opts.think:g} s, {served}, SQLite, 30 children",
        rows,
    )
    failures.exit()


if __name__ == "__main__":
    main()
