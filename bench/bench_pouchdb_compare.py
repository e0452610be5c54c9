"""Our sync ingest against PouchDB replicating to pouchdb-server: the same 1,000 documents, interleaved.

Ours: the app served as `make run` serves it (gunicorn, 3 workers x 4 threads, gthread, APP_ENV=development) on
a fresh SQLite file (WAL, synchronous=FULL) with `flask db upgrade` and `flask demo-data`; the demo PT signs in
(untimed) and sends 1,000 full lower-limb assessments as the phone's outbox does, `--batch` entries a request
(outbox-core.js's BATCH_SIZE, read from the file), gzip-compressed as the phone sends them (`--plain`: plain JSON),
one after another on one keep-alive connection. Each entry is validated by the
marshmallow schema, checked against the trial, written with its audit rows and ledger row, and committed
durably before the answer. The request bodies are encoded (and compressed) before the clock starts, as the
phone makes them before sending.

PouchDB: pouchdb-server (npm, pinned below) in memory on loopback, and a Node process running PouchDB with
the same 1,000 documents (each entry as a document, `_id` = the entry id) in a local in-memory database;
timed is `local.replicate.to(remote, {batch_size})`, the same batch size: no validation, nothing durable.

Both run `--rounds` times, alternating which goes first, after one warm-up each (not counted); each round
uses fresh entry ids (ours) and a fresh remote database (PouchDB). The npm packages are installed once into
`bench/.cache/pouchdb/` (not in git) with `npm install`; `--install-only` stops there.

Figures (JSON lines, `bench/_common.py:emit`): our 1,000 entries (p50 of the rounds, budget 0.2 s), PouchDB's
(p50), and the ratio ours / PouchDB (p50 of the per-round ratios, budget 0.5). A table goes to stderr.

`--floor` times two more contenders in the same rounds, on the same SQLite file and served the same way:
`bench/ingest_floor.py`, which writes the same three rows per entry (assessment, audit, ledger) with the stdlib
`sqlite3` and checks nothing ("floor"), and the same with each payload loaded by the app's marshmallow assessment
schema ("floor+marshmallow"). They show how much of PouchDB's time is gone before any of our checks run.

    .venv/bin/python bench/bench_pouchdb_compare.py [--rounds 5] [--entries 1000] [--batch N] [--plain] [--floor]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Browserish,
    Failures,
    Row,
    assessment_entries,
    emit,
    machine,
    phone_batch_size,
    print_table,
    push_bodies,
)
from e2e.server import LiveServer, free_port
from tests.dbutil import create_database

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "pouchdb"
NPM_PACKAGES = {"pouchdb-server": "4.2.0", "pouchdb": "9.0.0", "pouchdb-adapter-memory": "7.3.1"}
BUDGET_S = 0.2  # 1,000 entries over HTTP in the phone's batch size, on a quiet machine
BUDGET_RATIO = 0.5  # ours / PouchDB's, same run
# --floor: bench/ingest_floor.py, bare and with the marshmallow assessment schema (label -> FLOOR_VALIDATE)
FLOORS = {"floor": False, "floor+marshmallow": True}
DEMO_PASSWORD = "demo-pass"
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def install_pouchdb(folder: Path = CACHE) -> Path:
    """pouchdb-server, pouchdb and its memory adapter from the npm registry, once, into `folder`."""
    stamp = folder / f".installed-{'-'.join(f'{k}@{v}' for k, v in NPM_PACKAGES.items())}"
    if stamp.exists():
        return folder / "node_modules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"private": True, "name": "itb-bench-pouchdb"}))
    log(f"Installing {', '.join(f'{k}@{v}' for k, v in NPM_PACKAGES.items())} into {folder} (once)…")
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            *(f"{k}@{v}" for k, v in NPM_PACKAGES.items()),
        ],
        cwd=folder,
        check=True,
        timeout=900,
    )
    for old in folder.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return folder / "node_modules"


def _wait_until_up(url: str, proc: subprocess.Popen[Any], what: str) -> None:
    """Until `url` answers 200 (30 s at most, and only while `proc` runs)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as res:
                if res.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


class FloorSide:
    """bench/ingest_floor.py served by gunicorn as the app is (same workers, threads), on the app's SQLite file."""

    def __init__(self, db_path: str, workers: int, *, validate: bool) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", f"--bind=127.0.0.1:{self.port}", f"--workers={workers}",
             "--threads=4", "--worker-class=gthread", "bench.ingest_floor:app"],
            cwd=HERE.parent, env={**os.environ, "FLOOR_DB": db_path, "FLOOR_VALIDATE": "1" if validate else "0"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        _wait_until_up(f"http://127.0.0.1:{self.port}/", self.proc, "the floor server")
        self.client = Browserish(self.port)

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class PouchSide:
    """pouchdb-server in memory on loopback, and a Node process that replicates to it when asked."""

    def __init__(self, modules: Path, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # pouchdb-server writes its config.json and log.txt into its working directory: a temporary one.
        self.server = subprocess.Popen(
            [str(modules / ".bin" / "pouchdb-server"), "--in-memory", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-stdout-logs"],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.client = subprocess.Popen(
            ["node", str(HERE / "pouchdb_push.js")],
            env={**os.environ, "NODE_PATH": str(modules)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        _wait_until_up(self.url + "/", self.server, "pouchdb-server")

    def replicate(self, docs_file: Path, db_name: str, batch: int) -> dict[str, float]:
        assert self.client.stdin is not None and self.client.stdout is not None
        job = {"remote": f"{self.url}/{db_name}", "docs": str(docs_file), "batch_size": batch}
        self.client.stdin.write(json.dumps(job) + "\n")
        self.client.stdin.flush()
        answer: dict[str, float] = json.loads(self.client.stdout.readline())
        if "error" in answer:
            raise RuntimeError(f"PouchDB: {answer['error']}")
        return answer

    def stop(self) -> None:
        for proc in (self.client, self.server):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _demo_trials(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The demo PT's id and the open demo trials as (trial id, today's day number, GMFCS level)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pt = conn.execute(text("SELECT id FROM users WHERE username = 'pt'")).scalar_one()
            rows = conn.execute(
                text(
                    "SELECT trials.id, patients.gmfcs_level, trials.start_date FROM trials JOIN patients "
                    "ON patients.id = trials.patient_id WHERE trials.status = 'active' ORDER BY trials.id"
                )
            ).all()
    finally:
        engine.dispose()
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(os.environ.get("HOSPITAL_TIMEZONE", "Europe/London"))).date()  # the ward's day
    trials = []
    for trial_id, gmfcs, start in rows:
        start_date = start if isinstance(start, date) else date.fromisoformat(str(start))
        trials.append((int(trial_id), max(1, min(3, (today - start_date).days + 1)), int(gmfcs)))
    return int(pt), trials


def _count(url: str, ids: list[str]) -> tuple[int, int]:
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM assessments WHERE entry_id IN :ids), "
                        "(SELECT count(*) FROM sync_ledger WHERE entry_id IN :ids)"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids},
                ).one()
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=None,
                        help="entries a request (default: the phone's, outbox-core.js)")
    parser.add_argument("--plain", action="store_true", help="plain JSON bodies, as a phone that cannot compress")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (make run: 3)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the floor (bench/ingest_floor.py): the same rows written with nothing in the "
                             "way, bare and with the marshmallow assessment schema")
    parser.add_argument("--install-only", action="store_true", help="install the npm packages and stop")
    opts = parser.parse_args()
    modules = install_pouchdb()
    if opts.install_only:
        return
    log(f"machine at start: {machine()}")
    failures = Failures()
    n = opts.entries
    batch = opts.batch or phone_batch_size(plain=opts.plain)
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp_name:
        tmp = Path(tmp_name)
        saved = os.environ.pop("TEST_DATABASE_URL", None)  # SQLite, whatever the environment says
        try:
            url, drop = create_database(tmp)
        finally:
            if saved is not None:
                os.environ["TEST_DATABASE_URL"] = saved
        server = LiveServer(url, tmp, workers=opts.workers, threads=4)
        server.env["APP_ENV"] = "development"  # as `make run`
        pouch: PouchSide | None = None
        client: Browserish | None = None
        floors: dict[str, FloorSide] = {}
        floor_times: dict[str, list[float]] = {label: [] for label in FLOORS} if opts.floor else {}
        try:
            server.flask("db", "upgrade")
            server.flask("demo-data")
            pt, trials = _demo_trials(url)
            server.start()
            pouch = PouchSide(modules, tmp)
            client = Browserish(server.port)
            client.sign_in("pt", DEMO_PASSWORD)

            def push_round(seed: int, side: Browserish, path: str, csrf: str = "") -> float:
                entries = assessment_entries(pt, trials, n, seed=seed)
                bodies, encoding = push_bodies(entries, batch, plain=opts.plain)
                headers = {**encoding, "Accept": "application/json", "X-CSRFToken": csrf,
                           "X-Device-Id": "bench-phone-1"}
                answers = []
                t0 = time.perf_counter()
                for body in bodies:
                    answers.append(side.request("POST", path, body=body, headers=headers))
                elapsed = time.perf_counter() - t0
                statuses: Counter[str] = Counter()
                for status, raw in answers:
                    if failures.check(status == 200, f"POST {path} answered {status}: {raw[:300]!r}"):
                        statuses.update(r["status"] for r in json.loads(raw)["results"])
                failures.check(statuses == Counter({"applied": n}), f"round {seed} ({path}): {dict(statuses)}")
                ids = [e["id"] for e in entries]
                stored = _count(url, ids)
                failures.check(stored == (n, n), f"round {seed} ({path}): {stored} (assessments, ledger rows), "
                               f"not {n}")
                return elapsed

            def ours_round(seed: int) -> float:
                assert client is not None
                return push_round(seed, client, "/api/sync", client.csrf)

            def pouch_round(seed: int) -> float:
                assert pouch is not None
                entries = assessment_entries(pt, trials, n, seed=seed)
                docs = [{"_id": e.pop("id"), **e} for e in entries]
                docs_file = tmp / f"docs-{seed}.json"
                docs_file.write_text(json.dumps(docs))
                answer = pouch.replicate(docs_file, f"round-{seed}", batch)
                failures.check(
                    answer["docs_written"] == n and answer["errors"] == 0 and answer["remote_docs"] == n,
                    f"PouchDB round {seed}: {answer}",
                )
                return answer["ms"] / 1000

            if opts.floor:
                floors = {label: FloorSide(url.removeprefix("sqlite:///"), opts.workers, validate=validate)
                          for label, validate in FLOORS.items()}
            ours_round(1000)  # warm-up: the workers' first requests, PouchDB's JIT
            pouch_round(1000)
            for side in floors.values():
                push_round(1000, side.client, "/push")
            for rnd in range(opts.rounds):
                if rnd % 2 == 0:
                    theirs.append(pouch_round(rnd))
                    ours.append(ours_round(rnd))
                else:
                    ours.append(ours_round(rnd))
                    theirs.append(pouch_round(rnd))
                for label, side in floors.items():
                    floor_times[label].append(push_round(rnd, side.client, "/push"))
                log(f"round {rnd + 1}: ours {ours[-1] * 1000:.0f} ms, PouchDB {theirs[-1] * 1000:.0f} ms"
                    + "".join(f", {label} {t[-1] * 1000:.0f} ms" for label, t in floor_times.items() if t))
        finally:
            for side in floors.values():
                side.stop()
            if client is not None:
                client.close()
            if pouch is not None:
                pouch.stop()
            server.stop()
            drop()
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    p50_ours, p50_theirs, p50_ratio = statistics.median(ours), statistics.median(theirs), statistics.median(ratios)
    what = f"{n} entries in requests of {batch}"
    body = "plain JSON" if opts.plain else "gzip"
    emit(f"ingest.http_sqlite.{n}_entries.batch_{batch}{'.plain' if opts.plain else ''}.p50", p50_ours, "s",
         BUDGET_S * n / 1000)
    emit(f"ingest.pouchdb_server.{n}_docs.batch_{batch}.p50", p50_theirs, "s", None, database="pouchdb-memory")
    emit(f"ingest.ours_over_pouchdb.{n}.batch_{batch}.p50", p50_ratio, "ratio", BUDGET_RATIO)
    rows = [
        Row(f"ours: {what} ({body}; gunicorn, SQLite), p50", f"{p50_ours * 1000:.0f} ms", f"≤ {BUDGET_S * n:g} ms",
            p50_ours <= BUDGET_S * n / 1000),
        Row("  each round", " / ".join(f"{t * 1000:.0f}" for t in ours) + " ms"),
        Row(f"PouchDB → pouchdb-server (memory): {what}, p50", f"{p50_theirs * 1000:.0f} ms"),
        Row("  each round", " / ".join(f"{t * 1000:.0f}" for t in theirs) + " ms"),
        Row("ours / PouchDB, p50 of the rounds", f"{p50_ratio:.2f}", f"≤ {BUDGET_RATIO:g}", p50_ratio <= BUDGET_RATIO),
    ]  # fmt: skip
    for label, times in floor_times.items():
        ratio = statistics.median(a / b for a, b in zip(times, theirs, strict=True))
        name = label.replace("+", "_")
        emit(f"ingest.{name}.{n}_entries.batch_{batch}.p50", statistics.median(times), "s", None)
        emit(f"ingest.{name}_over_pouchdb.{n}.batch_{batch}.p50", ratio, "ratio", None)
        schema = "the assessment schema, " if FLOORS[label] else ""
        rows += [Row(f"{label} (bench/ingest_floor.py: the same rows, {schema}nothing else), p50",
                     f"{statistics.median(times) * 1000:.0f} ms"),
                 Row("  each round", " / ".join(f"{t * 1000:.0f}" for t in times) + " ms"),
                 Row(f"  {label} / PouchDB, p50 of the rounds", f"{ratio:.2f}")]
    rows.append(Row("  machine at the end", machine()))
    print_table(f"Sync ingest against PouchDB, {opts.rounds} interleaved rounds", rows)
    failures.exit()


if __name__ == "__main__":
    main()
