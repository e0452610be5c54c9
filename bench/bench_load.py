"""50 concurrent staff clients on loopback (design.md §6: p99 ≤ 200 ms, 0 errors, 0 lost entries).

A LiveServer (gunicorn as in production: 3 worker processes x 4 threads by default, a fresh SQLite file with the
app's settings, or a fresh PostgreSQL database when TEST_DATABASE_URL is set; `flask db upgrade`) with 30
children on the ward today. 50 clients, each its own staff account and session (signed in through the login form
before the clock starts; CSRF token from GET /api/session), each on one keep-alive connection with cookies and
`Accept-Encoding: gzip, br` like a phone's browser, mixing page views, plain form posts (no JavaScript),
sign-ins and sync batches:

* 30 PTs: GET /today (20 %), GET an assessment form (25 %), POST /api/sync with one new assessment (30 %),
  POST the assessment form itself (20 %, a plain form post, 303), sign out and in again (5 %);
* 20 nurses: GET /ward (45 %), GET a child's monitoring page (20 %), POST the observations form (30 %, a plain
  form post, 303), sign out and in again (5 %).

Passwords are hashed with the production argon2 profile (`--argon2 cheapest` for the tests' one), so a sign-in
costs what it costs in production.

Each client waits a random think time between requests (uniform, mean `--think`, default 1 s: staff tapping
through pages); `--think 0` runs them flat out to find the server's capacity. Reports requests/s, latency
percentiles (whole request as the client sees it), errors, and checks that every entry the server
acknowledged (applied or duplicate) exists exactly once in the database.

    .venv/bin/python bench/bench_load.py [--seconds 60] [--clients 50] [--think 1.0] [--workers 3] [--threads 4]
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_load.py
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    BENCH_PASSWORD,
    Browserish,
    Failures,
    Row,
    assessment_payload,
    build_world,
    emit,
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
        self.form_saved: set[str] = set()  # assessment entry ids saved through the plain form (303)
        self.observations = 0  # observations saved through the plain form (303)

    def record(self, kind: str, ms: float) -> None:
        with self.lock:
            self.latency[kind].append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


def _form_body(fields: dict[str, str], csrf: str) -> bytes:
    return urlencode({**fields, "csrf_token": csrf}).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}


def _pick(rng: random.Random, mix: list[tuple[float, str]]) -> str:
    roll = rng.random()
    for share, kind in mix:
        if roll < share:
            return kind
        roll -= share
    return mix[-1][1]


PT_MIX = [(0.20, "GET /today"), (0.25, "GET form"), (0.30, "POST /api/sync (1 entry)"),
          (0.20, "POST assessment form"), (0.05, "sign-in")]
NURSE_MIX = [(0.45, "GET /ward"), (0.20, "GET monitoring"), (0.30, "POST observations form"), (0.05, "sign-in")]


def client_loop(
    client: Browserish,
    role: str,
    username: str,
    user_id: int,
    trials: list[tuple[int, int, int, int]],
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
        trial_id, day, gmfcs, day_id = trials[rng.randrange(len(trials))]
        kind = _pick(rng, NURSE_MIX if role == "nurse" else PT_MIX)
        t0 = time.perf_counter()
        try:
            if kind.startswith("GET"):
                path = {"GET /today": "/today", "GET /ward": "/ward", "GET monitoring": f"/days/{day_id}/monitoring",
                        "GET form": f"/trials/{trial_id}/days/{day}/{rng.choice(['baseline', 'post-dose'])}"}[kind]
                status, _ = client.get(path)
                ok = status == 200
            elif kind == "sign-in":
                status, _ = client.request("POST", "/logout", body=_form_body({}, client.csrf), headers=FORM)
                ok = status == 303
                if ok:
                    t0 = time.perf_counter()  # time the sign-in itself (the form, the POST, the new token)
                    client.cookies.clear()
                    client.sign_in(username, BENCH_PASSWORD)  # raises on anything but success
            elif kind == "POST assessment form":
                phase = rng.choice(["baseline", "post_dose"])
                entry_id = str(uuid.uuid4())
                fields = {**assessment_payload(trial_id, day, phase, gmfcs, rng), "entry_id": entry_id}
                slug = "baseline" if phase == "baseline" else "post-dose"
                status, _ = client.request("POST", f"/trials/{trial_id}/days/{day}/{slug}",
                                           body=_form_body(fields, client.csrf), headers=FORM)
                ok = status == 303
                if ok:
                    with stats.lock:
                        stats.form_saved.add(entry_id)
            elif kind == "POST observations form":
                fields = {"trial_day_id": str(day_id), "entry_id": str(uuid.uuid4()),
                          "heart_rate": str(rng.randint(70, 120)), "resp_rate": str(rng.randint(18, 30)),
                          "spo2": str(rng.randint(95, 100)), "sedation_score": "0", "pain_score": "1"}
                status, _ = client.request("POST", f"/days/{day_id}/observations",
                                           body=_form_body(fields, client.csrf), headers=FORM)
                ok = status == 303
                if ok:
                    with stats.lock:
                        stats.observations += 1
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
        except Exception as exc:  # a timeout, a dropped connection, a refused sign-in: an error; the client goes on
            stats.record(kind, (time.perf_counter() - t0) * 1000)
            stats.error(f"{kind} -> {type(exc).__name__}: {str(exc)[:60]}")
            client.close()
            if kind == "sign-in" and not client.csrf:
                return
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
    parser.add_argument("--argon2", choices=["production", "cheapest"], default="production",
                        help="argon2 profile of the passwords (production: RFC_9106_LOW_MEMORY)")
    opts = parser.parse_args()
    profile = "RFC_9106_LOW_MEMORY" if opts.argon2 == "production" else "CHEAPEST"
    print(f"machine at start: {machine()}", file=sys.stderr)
    failures = Failures()
    n_pts = round(opts.clients * 0.6)
    pts = [f"pt{i:02d}" for i in range(n_pts)]
    nurses = [f"nurse{i:02d}" for i in range(opts.clients - n_pts)]
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
        url, drop = create_database(Path(tmp))
        server = LiveServer(url, Path(tmp), workers=opts.workers, threads=opts.threads)
        server.env["PASSWORD_HASH_PROFILE"] = profile  # an unknown user costs what a known one does
        try:
            server.flask("db", "upgrade")
            app = make_app(url, PASSWORD_HASH_PROFILE=profile)
            world = build_world(app, 30, pts=pts, nurses=nurses)
            with app.app_context():
                from sqlalchemy import select

                from server.extensions import db
                from server.trials.models import TrialDay

                today_ids = {(t, n): i for i, t, n in db.session.execute(
                    select(TrialDay.id, TrialDay.trial_id, TrialDay.day_number))}
                trials = [(t, n, g, today_ids[(t, n)]) for t, n, g in world.trials]
                db.engine.dispose()
            server.start()
            clients: list[tuple[Browserish, str, str, int]] = []
            for username in pts + nurses:
                c = Browserish(server.port)
                c.sign_in(username, BENCH_PASSWORD)
                clients.append((c, "pt" if username.startswith("pt") else "nurse", username, world.staff[username]))
            start = threading.Event()
            stop_at = [0.0]
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(c, role, name, uid, trials, stats, start, stop_at, opts.think, i),
                    daemon=True,
                )
                for i, (c, role, name, uid) in enumerate(clients)
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
            for c, _, _, _ in clients:
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
                form_found = conn.execute(
                    text("SELECT count(DISTINCT entry_id) FROM assessments WHERE entry_id IN :ids").bindparams(
                        bindparam("ids", expanding=True)),
                    {"ids": list(stats.form_saved) or ["-"]},
                ).scalar()
                observations = conn.execute(text("SELECT count(*) FROM observations")).scalar() - world.observations
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
        ledger == total - len(stats.form_saved) and ledger <= len(sent),
        f"{total} assessments, {ledger} ledger rows, for {len(sent)} entries sent and {len(stats.form_saved)} forms",
    )
    failures.check(
        form_found == len(stats.form_saved) and observations == stats.observations,
        f"forms answered 303: {len(stats.form_saved)} assessments ({form_found} found), "
        f"{stats.observations} observations ({observations} found)",
    )
    p99 = pct(everything, 99) if everything else float("nan")
    database = os.environ.get("TEST_DATABASE_URL") or "sqlite"  # emit() keeps only the dialect's name
    emit(f"load.{opts.clients}_clients.p99", round(p99, 1), "ms", BUDGET_P99_MS, database=database)
    emit(f"load.{opts.clients}_clients.p50", round(pct(everything, 50), 1) if everything else float("nan"), "ms",
         None, database=database)
    emit(f"load.{opts.clients}_clients.requests_per_s", round(n_req / elapsed, 1), "1/s", None, database=database)
    emit(f"load.{opts.clients}_clients.errors", n_err, "count", 0, database=database)
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
        Row(f"  plain form posts saved: {len(stats.form_saved)} assessments, {stats.observations} observations",
            f"{form_found + observations} found"),
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
        Row("  (one argon2 check with the production profile, in this process)", f"{argon2_login_cost():.0f} ms")
    )
    rows.append(Row("  machine at the end", machine()))
    served = f"gunicorn {opts.workers} workers x {opts.threads} threads"
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print_table(
        f"{opts.clients} staff clients ({len(pts)} PTs, {len(nurses)} nurses), {opts.seconds:g} s, think "
        f"time {opts.think:g} s, {served}, {database}, 30 children, argon2 {opts.argon2}",
        rows,
    )
    failures.exit()


if __name__ == "__main__":
    main()
