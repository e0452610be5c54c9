"""The pages and the ingest after a busy unit's years, against the same on an empty database (SQLite, PostgreSQL).

Two databases per engine, both migrated (`flask db upgrade`) with the same staff and the same ward today
(`--ward` children on trial days 1-3, their doses, observations and a baseline each, written through the app's
services, as `bench_render.py` does). The large one holds, before the ward, the history of `--scale` x 10,000
finished trials: patients, three trial days each, plans and doses (a few corrected), the team's decisions,
~1,000,000 assessments (repeats and corrected versions among them) with their sync ledger rows, 500,000
nursing observations and 2,000,000 audit rows, dated over the past five years. The history is written with
SQLAlchemy Core multi-row INSERTs (executemany), not through the services, so it takes minutes, and is kept
between runs in `bench/.cache/scale/` (SQLite: a file; PostgreSQL: a template database), keyed by scale, fill
version and migration head (`--refill` writes it again).

Then, per database, `--requests` requests per page through the Flask test client (after warm-up), p50: the
PT's home (/today), the baseline assessment form, the ward (/ward, nurse), the comparison
(/trials/<id>/assessments/compare), the trial summary (/trials/<id>/summary, when the route exists); the
ingest of 1,000 entries as the phone sends them (outbox-core.js: 500 a request, gzip; POST /api/sync), p50 of
`--rounds`; then the audit viewer (/admin/audit: no filter, by trial, by person and action, by dates: after the
ingest, so each filter has a page of events on both databases); the SQL statements per request.

Figures (JSON lines): per engine and page the p50 on each database and the ratio large / empty (budget 1.5).

    .venv/bin/python bench/bench_scale.py --scale 0.01            # a quick run: 100 trials, 10,000 assessments
    .venv/bin/python bench/bench_scale.py                         # the full size (SQLite, then PostgreSQL)
    .venv/bin/python bench/bench_scale.py --engines sqlite --requests 20
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Failures,
    Row,
    World,
    add_staff,
    assessment_entries,
    assessment_payload,
    build_world,
    client_sign_in,
    emit,
    machine,
    make_app,
    migrate,
    phone_batch_size,
    print_table,
    push_bodies,
)
from tests.querycount import counting

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "scale"
FILL_VERSION = 1  # bump when the history's shape changes: cached fills are then made again
BUDGET_RATIO = 1.5
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"

# The full size (scale 1.0): a busy unit's years.
TRIALS = 10_000
ASSESSMENTS_PER_TRIAL = 100  # 1,000,000: each day and phase assessed again and again, some corrected
OBSERVATIONS_PER_TRIAL = 50  # 500,000
AUDIT_ROWS_PER_TRIAL = 200  # 2,000,000 in all (a create row per record, and the trials' and days' updates)
STAFF = [(f"pt{i}", ["pt"]) for i in range(1, 9)] + [(f"nurse{i}", ["nurse"]) for i in range(1, 17)]
STAFF += [("pt", ["pt"]), ("nurse", ["nurse"]), ("surgeon", ["surgeon"]), ("surgeon2", ["surgeon"])]
STAFF += [("admin", ["admin"])]
CHUNK = 5000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the history, bulk-inserted --------------------------------------------------------------------------


def _shaped_values(n: int) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """`n` assessments' values as the form's schema stores them (values, not_tested, notes), made once."""
    from server.assessments.schemas import schema_for

    rng = random.Random(11)
    out = []
    for i in range(n):
        payload = assessment_payload(1, 1, "baseline", 1 + i % 5, rng)
        data = schema_for(payload).load(payload)
        out.append((data["values"], data["not_tested"], data["notes"]))
    return out


class Ids:
    """Explicit primary keys for the bulk rows, after whatever the table holds already."""

    def __init__(self, conn: Any, tables: list[Any]) -> None:
        from sqlalchemy import func, select

        self.next = {t.name: (conn.execute(select(func.max(t.c.id))).scalar() or 0) + 1 for t in tables}

    def take(self, table: str, n: int = 1) -> int:
        first = self.next[table]
        self.next[table] = first + n
        return first


def fill_history(url: str, scale: float, staff: dict[str, int]) -> dict[str, int]:
    """Write `scale` x the busy unit's history; returns the row counts written per table."""
    from sqlalchemy import create_engine, event, text

    from server.assessments.models import Assessment, AssessmentPlan
    from server.audit.models import AuditEvent
    from server.decisions.models import DayDecision
    from server.dosing.models import DoseAdministration, DosePlanChange, Observation
    from server.sync_api.models import SyncLedger
    from server.trials.models import Patient, Trial, TrialDay

    tables = {m.__tablename__: m.__table__ for m in (Patient, Trial, TrialDay, AssessmentPlan, Assessment,
                                                      DoseAdministration, DosePlanChange, Observation,
                                                      DayDecision, AuditEvent)}  # fmt: skip
    ledger = SyncLedger.__table__
    n_trials = max(1, round(TRIALS * scale))
    pts = [v for k, v in staff.items() if k.startswith("pt")]
    nurses = [v for k, v in staff.items() if k.startswith("nurse")]
    surgeons = [v for k, v in staff.items() if k.startswith("surgeon")]
    values = _shaped_values(200)
    from server.dosing.vitals import age_band, age_in_months

    def normal_rr(born: date, on: date) -> int:  # the middle of the child's age band: no flag
        low, high = age_band(age_in_months(born, on)).resp_rate
        return (low + high) // 2

    rng = random.Random(2024)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _bulk(dbapi_connection: Any, _record: Any) -> None:  # a bulk load: durable at the end (the commit)
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA cache_size=-1000000")  # 1 GB: the random-key indexes stay in memory

    counts = dict.fromkeys([*tables, "sync_ledger"], 0)
    today = date.today()
    span_days = 5 * 365
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in counts}

    with engine.begin() as conn:
        ids = Ids(conn, [t for t in tables.values()])

        def add(table: str, row: dict[str, Any]) -> None:
            pending[table].append(row)
            counts[table] += 1
            if len(pending[table]) >= CHUNK:
                flush_all()

        def flush_all() -> None:  # parents first (foreign keys are checked at each INSERT)
            for name, rows in pending.items():
                if rows:
                    conn.execute(tables[name].insert() if name in tables else ledger.insert(), rows)
                    pending[name] = []

        def audit(
            at: datetime,
            actor: int | None,
            action: str,
            entity: str,
            entity_id: int | str,
            trial_id: int | None,
            patient_id: int | None,
            after: dict[str, Any] | None,
            before: dict[str, Any] | None = None,
            via: str = "web",
            device: str | None = None,
        ) -> None:
            add(
                "audit_events",
                {
                    "id": ids.take("audit_events"),
                    "at": at,
                    "actor_id": actor,
                    "device_id": device,
                    "via": via,
                    "action": action,
                    "entity_type": entity,
                    "entity_id": str(entity_id),
                    "before": before,
                    "after": after,
                    "trial_id": trial_id,
                    "patient_id": patient_id,
                },
            )

        n_patients = max(1, round(n_trials * 0.8))
        patient_ids = []
        births: list[date] = []
        for i in range(n_patients):
            pid = ids.take("patients")
            patient_ids.append(pid)
            born = today - timedelta(days=rng.randint(3 * 365, 17 * 365))
            births.append(born)
            created = datetime.now(UTC) - timedelta(days=span_days + 30 - i * span_days // n_patients)
            add(
                "patients",
                {
                    "id": pid,
                    "first_name": f"Hist{i}",
                    "last_name": f"Child{i:06d}",
                    "date_of_birth": born,
                    "mrn": f"HIST-{i:07d}",
                    "weight_kg": round(rng.uniform(12, 60), 1),
                    "weight_measured_on": created.date(),
                    "gmfcs_level": 1 + i % 5,
                    "diagnosis": "Bilateral spastic cerebral palsy",
                    "tone_type": "spastic",
                    "revision": 1,
                    "created_at": created,
                },
            )
            audit(created, surgeons[0], "create", "Patient", pid, None, pid, {"mrn": f"HIST-{i:07d}"})
        for i in range(n_trials):
            patient_id = patient_ids[i % n_patients]
            born = births[i % n_patients]
            start = today - timedelta(days=span_days + 30 - i * span_days // n_trials)
            created = datetime.combine(start - timedelta(days=2), datetime.min.time(), UTC)
            trial_id = ids.take("trials")
            surgeon, pt, nurse = surgeons[i % len(surgeons)], pts[i % len(pts)], nurses[i % len(nurses)]
            add(
                "trials",
                {
                    "id": trial_id,
                    "patient_id": patient_id,
                    "status": "completed",
                    "bed": str(1 + i % 20),
                    "start_date": start,
                    "catheter_placed_at": created,
                    "small_child": False,
                    "outcome": rng.choice(["candidate", "not_candidate", "inconclusive"]),
                    "outcome_reason": "Tone lower at 75 mcg; goals met.",
                    "revision": 3,
                    "created_by_id": surgeon,
                    "created_at": created,
                },
            )
            audit(created, surgeon, "create", "Trial", trial_id, trial_id, patient_id, {"status": "planned"})
            add(
                "assessment_plans",
                {
                    "id": ids.take("assessment_plans"),
                    "trial_id": trial_id,
                    "items": ["mas.hip_adductors", "mas.knee_flexors", "tardieu.hamstrings"],
                    "revision": 1,
                    "chosen_by_id": pt,
                    "updated_at": created,
                },
            )
            audit_left = AUDIT_ROWS_PER_TRIAL - 3
            per_day_assessments = ASSESSMENTS_PER_TRIAL // 3
            per_day_observations = OBSERVATIONS_PER_TRIAL // 3 + (1 if OBSERVATIONS_PER_TRIAL % 3 else 0)
            for day_number in (1, 2, 3):
                day_id = ids.take("trial_days")
                day = start + timedelta(days=day_number - 1)
                given = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
                dose = (25, 50, 75)[day_number - 1]
                add(
                    "trial_days",
                    {
                        "id": day_id,
                        "trial_id": trial_id,
                        "day_number": day_number,
                        "date": day,
                        "planned_dose_mcg": dose,
                        "planned_at": given,
                        "revision": 2,
                        "dose_status": "planned",
                        "dose_status_reason": None,
                    },
                )
                audit(
                    given - timedelta(hours=20),
                    surgeon,
                    "update",
                    "TrialDay",
                    day_id,
                    trial_id,
                    patient_id,
                    {"planned_dose_mcg": str(dose)},
                    {"planned_dose_mcg": None},
                )
                add(
                    "dose_plan_changes",
                    {
                        "id": ids.take("dose_plan_changes"),
                        "trial_day_id": day_id,
                        "action": "plan",
                        "outcome": "applied",
                        "base_revision": 1,
                        "revision": 2,
                        "planned_dose_mcg": dose,
                        "planned_at": given,
                        "reason": None,
                        "override_reason": None,
                        "author_id": surgeon,
                        "created_at": given - timedelta(hours=20),
                    },
                )
                dose_id = ids.take("dose_administrations")
                dose_row = {
                    "id": dose_id,
                    "trial_day_id": day_id,
                    "version": 1,
                    "supersedes_id": None,
                    "status": "given",
                    "correction_reason": None,
                    "given_at": given,
                    "dose_mcg": dose,
                    "volume_ml": dose / 50,
                    "concentration_mcg_per_ml": 50,
                    "route": "catheter",
                    "given_by_id": surgeon,
                    "checked_by_id": nurse,
                    "override_reason": None,
                    "recorded_by_id": surgeon,
                    "created_at": given,
                }
                add("dose_administrations", dose_row)
                audit(
                    given,
                    surgeon,
                    "create",
                    "DoseAdministration",
                    dose_id,
                    trial_id,
                    patient_id,
                    {"dose_mcg": str(dose), "status": "given"},
                )
                if i % 50 == 0 and day_number == 2:  # now and then a dose record corrected
                    fixed = ids.take("dose_administrations")
                    add(
                        "dose_administrations",
                        {
                            **dose_row,
                            "id": fixed,
                            "version": 2,
                            "supersedes_id": dose_id,
                            "correction_reason": "Time typed wrong.",
                            "given_at": given + timedelta(minutes=10),
                            "created_at": given + timedelta(hours=1),
                        },
                    )
                add(
                    "day_decisions",
                    {
                        "id": ids.take("day_decisions"),
                        "trial_day_id": day_id,
                        "revision": 1,
                        "effect": "good",
                        "next_step": "escalate" if day_number < 3 else "end",
                        "next_dose_mcg": dose + 25 if day_number < 3 else None,
                        "rationale": "Tone a little lower; no adverse effects.",
                        "team_present": ["surgeon", "pt", "nurse"],
                        "parents_present": True,
                        "parents_view": None,
                        "decided_by_id": surgeon,
                        "decided_at": given + timedelta(hours=8),
                        "updated_at": given + timedelta(hours=8),
                        "effect_onset_hours": 2,
                        "effect_duration_hours": 6,
                    },
                )
                for k in range(per_day_assessments):
                    phase = "baseline" if k % 2 == 0 else "post_dose"
                    at = given + timedelta(minutes=(-60 if phase == "baseline" else 240) + k)
                    vals, not_tested, notes = values[(i * 7 + day_number * 3 + k) % len(values)]
                    aid = ids.take("assessments")
                    entry_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    corrected = k >= 2 and k % 8 == 2  # a new version of the one before the one before
                    add(
                        "assessments",
                        {
                            "id": aid,
                            "trial_id": trial_id,
                            "trial_day_id": day_id,
                            "phase": phase,
                            "author_id": pt,
                            "recorded_at": at,
                            "received_at": at + timedelta(seconds=30),
                            "entry_id": entry_id,
                            "device_id": f"phone-{pt}",
                            "form_version": 1,
                            "values": vals,
                            "not_tested": not_tested,
                            "notes": notes,
                            "version": 2 if corrected else 1,
                            "first_version_id": aid - 2 if corrected else None,
                            "supersedes_id": aid - 2 if corrected else None,
                            "correction_reason": "Typo in the hamstrings." if corrected else None,
                            "saved_before_dose_record": False,
                            "is_repeat": k >= 2 and not corrected,
                            "timing_confirmed": False,
                        },
                    )
                    add(
                        "sync_ledger",
                        {
                            "entry_id": entry_id,
                            "kind": "assessments.record",
                            "author_id": pt,
                            "device_id": f"phone-{pt}",
                            "recorded_at": at,
                            "received_at": at + timedelta(seconds=30),
                            "payload_hash": entry_id.replace("-", "") * 2,
                            "status": "applied",
                            "result": {
                                "id": entry_id,
                                "status": "applied",
                                "record": {"type": "assessment", "id": aid},
                            },
                        },
                    )
                    if audit_left > 0:
                        audit(
                            at,
                            pt,
                            "create",
                            "Assessment",
                            aid,
                            trial_id,
                            patient_id,
                            {"phase": phase, "values": "[redacted]"},
                            via="sync",
                            device=f"phone-{pt}",
                        )
                        audit_left -= 1
                for k in range(per_day_observations):
                    at = given + timedelta(minutes=15 * k)
                    oid = ids.take("observations")
                    add(
                        "observations",
                        {
                            "id": oid,
                            "trial_day_id": day_id,
                            "entry_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            "taken_at": at,
                            "recorded_at": at,
                            "received_at": at + timedelta(seconds=5),
                            "author_id": nurse,
                            "device_id": f"phone-{nurse}",
                            "heart_rate": 96,
                            "resp_rate": normal_rr(born, day),
                            "spo2": 98,
                            "bp_systolic": 102,
                            "bp_diastolic": 62,
                            "temperature_c": 36.8,
                            "sedation_score": 0,
                            "pain_score": 1,
                            "effects": [],
                            "notes": None,
                        },
                    )
                    if audit_left > 0:
                        audit(
                            at,
                            nurse,
                            "create",
                            "Observation",
                            oid,
                            trial_id,
                            patient_id,
                            {"heart_rate": "[redacted]"},
                            via="sync",
                            device=f"phone-{nurse}",
                        )
                        audit_left -= 1
            closed = datetime.combine(start + timedelta(days=3), datetime.min.time(), UTC)
            while audit_left > 0:  # reads and exports of the trial, and its status changes
                audit(
                    closed,
                    surgeon,
                    "update" if audit_left % 2 else "read",
                    "Trial",
                    trial_id,
                    trial_id,
                    patient_id,
                    {"status": "completed"},
                    {"status": "active"},
                )
                audit_left -= 1
            if (i + 1) % max(1, n_trials // 10) == 0:
                log(f"  history: {i + 1:,} of {n_trials:,} trials")
        flush_all()
        if engine.dialect.name == "postgresql":
            for name in tables:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return counts


# ---- databases: fresh, cached --------------------------------------------------------------------------------


def _head() -> str:
    versions = sorted((HERE.parent / "server" / "migrations" / "versions").glob("*.py"))
    return hashlib.sha1("".join(p.read_text() for p in versions).encode()).hexdigest()[:10]


def _cache_key(scale: float) -> str:
    return f"s{scale:g}-f{FILL_VERSION}-m{_head()}".replace(".", "_")


@dataclass
class Target:
    engine: str  # "sqlite" or "postgresql"
    base_url: str  # PostgreSQL: the server's maintenance database


class Databases:
    """Fresh databases for one engine: `empty()` and `large()` (the cached history, copied)."""

    def __init__(self, target: Target, tmp: Path) -> None:
        self.target, self.tmp = target, tmp
        self.dropped: list[Callable[[], None]] = []

    def _pg_admin(self) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(self.target.base_url).set(drivername="postgresql+psycopg")
        return url, create_engine(url, isolation_level="AUTOCOMMIT")

    def _pg_create(self, name: str, template: str | None = None) -> str:
        from sqlalchemy import text

        url, admin = self._pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        admin.dispose()
        return str(url.set(database=name).render_as_string(hide_password=False))

    def _pg_exists(self, name: str) -> bool:
        from sqlalchemy import text

        _, admin = self._pg_admin()
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        admin.dispose()
        return found is not None

    def empty(self) -> str:
        if self.target.engine == "sqlite":
            return f"sqlite:///{self.tmp / 'empty.sqlite'}"
        return self._pg_create("itb_scale_empty")

    def large(self, scale: float, refill: bool) -> tuple[str, dict[str, int] | None]:
        """A database holding the history (made, or copied from the cache) and the staff; migrated."""
        key = _cache_key(scale)
        CACHE.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] | None = None
        if self.target.engine == "sqlite":
            cached = CACHE / f"history-{key}.sqlite"
            if refill or not cached.exists():
                for old in CACHE.glob("history-*.sqlite"):
                    old.unlink()
                building = self.tmp / "building.sqlite"
                counts = _make_history(f"sqlite:///{building}", scale)
                shutil.move(building, cached)
            work = self.tmp / "large.sqlite"
            shutil.copyfile(cached, work)
            return f"sqlite:///{work}", counts
        template = f"itb_scale_hist_{key}"
        if refill or not self._pg_exists(template):
            counts = _make_history(self._pg_create(template), scale)
        return self._pg_create("itb_scale", template=template), counts


def _make_history(url: str, scale: float) -> dict[str, int]:
    app = make_app(url)
    migrate(app)
    world = add_staff(app, STAFF)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()
    t0 = time.perf_counter()
    counts = fill_history(url, scale, world.staff)
    log(f"  history written in {time.perf_counter() - t0:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return counts


# ---- measuring -----------------------------------------------------------------------------------------------


@dataclass
class Figure:
    p50_ms: float
    queries: int
    status: int


def _pages(app: Any, world: World) -> dict[str, tuple[str, str]]:
    """page name -> (who, path)."""
    trial_id, day, _ = world.trials[0]
    pages = {
        "today": ("pt", "/today"),
        "assessment_form": ("pt", f"/trials/{trial_id}/days/{day}/baseline"),
        "ward": ("nurse", "/ward"),
        "comparison": ("pt", f"/trials/{trial_id}/assessments/compare"),
        "audit": ("admin", "/admin/audit"),
        "audit_by_trial": ("admin", f"/admin/audit?trial_id={trial_id}"),
        "audit_by_person_action": ("admin", f"/admin/audit?user_id={world.staff['pt']}&action=create"),
        "audit_by_dates": ("admin", f"/admin/audit?since={(date.today() - timedelta(days=400)).isoformat()}"
                                    f"&until={date.today().isoformat()}"),
    }  # fmt: skip
    rules = {r.rule for r in app.url_map.iter_rules()}
    if "/trials/<int:trial_id>/summary" in rules:
        pages["trial_summary"] = ("surgeon", f"/trials/{trial_id}/summary")
    else:
        log("  (no route /trials/<id>/summary on this branch: the trial summary is not measured)")
    return pages


@dataclass
class Site:
    """One database with the ward today, and a signed-in test client per role."""

    label: str
    app: Any
    world: World
    clients: dict[str, Any]
    tokens: dict[str, str]
    pages: dict[str, tuple[str, str]]

    def get(self, name: str) -> tuple[int, float]:
        who, path = self.pages[name]
        t0 = time.perf_counter()
        status = self.clients[who].get(path).status_code
        return status, (time.perf_counter() - t0) * 1000

    def ingest(self, seed: int) -> tuple[int, float]:
        """1,000 entries as the phone sends them (outbox-core.js: 500 a request, gzip): (applied, milliseconds)."""
        entries = assessment_entries(self.world.staff["pt"], self.world.trials, 1000, seed=seed)
        bodies, encoding = push_bodies(entries, phone_batch_size())
        headers = {**encoding, "X-CSRFToken": self.tokens["pt"], "X-Device-Id": "bench-phone-1"}
        t0 = time.perf_counter()
        answers = [self.clients["pt"].post("/api/sync", data=b, headers=headers) for b in bodies]
        elapsed = (time.perf_counter() - t0) * 1000
        return sum(r["status"] == "applied" for a in answers for r in (a.get_json() or {}).get("results", [])), elapsed

    def close(self) -> None:
        from server.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def open_site(url: str, label: str, failures: Failures, *, make_staff: bool) -> Site:
    app = make_app(url)
    migrate(app)
    world = add_staff(app, STAFF) if make_staff else World()
    with app.app_context():
        from sqlalchemy import select

        from server.auth.models import User
        from server.extensions import db

        world.staff = {u.username: u.id for u in db.session.scalars(select(User))}
        db.session.remove()
    build_world(app, WARD, world=world, first_mrn=5000)
    clients = {who: app.test_client() for who in ("pt", "nurse", "admin", "surgeon")}
    tokens = {who: client_sign_in(c, who) for who, c in clients.items()}
    # A baseline for every child today (the form and the comparison then have something to show).
    baselines = assessment_entries(world.staff["pt"], world.trials, len(world.trials), seed=3)
    for e, (_, day_today, _) in zip(baselines, world.trials, strict=True):
        e["payload"]["day_number"], e["payload"]["phase"] = str(day_today), "baseline"
        e["payload"].pop("repeat", None)
    res = clients["pt"].post("/api/sync", data=json.dumps({"protocol_version": 1, "device_id": "bench",
                                                           "entries": baselines}),
                             content_type="application/json", headers={"X-CSRFToken": tokens["pt"]})  # fmt: skip
    failures.check(res.status_code == 200, f"{label}: the ward's baselines answered {res.status_code}")
    # Statistics for the planner on both databases, as autovacuum would have them by now (the large one's were
    # taken before the ward was written; the empty one has none).
    with app.app_context():
        from server.extensions import db

        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        db.session.remove()
    return Site(label, app, world, clients, tokens, _pages(app, world))


def compare(empty: Site, large: Site, n: int, rounds: int, failures: Failures) -> dict[str, tuple[Figure, Figure]]:
    """Each page on both databases, requests alternating between them (so both meet the same machine load); the
    ingest between the other pages and the audit viewer's (below)."""
    out: dict[str, tuple[Figure, Figure]] = {}
    audit = [name for name in empty.pages if name.startswith("audit")]
    for name in [name for name in empty.pages if name not in audit]:
        out[name] = _page(empty, large, name, n, failures)
    # The ingest before the audit viewer: its 3,000 entries (by the PT, on the ward's trials) give both databases
    # at least a page of events for every filter, so each page shows as many rows on both (before it, the empty
    # database's "one person's creations" held none: the comparison measured an empty table against a full one,
    # not a short log against a long one). After the other pages, which it would fill with repeats.
    ingest: dict[str, list[float]] = {empty.label: [], large.label: []}
    for r in range(rounds):
        for site in (empty, large) if r % 2 == 0 else (large, empty):
            applied, ms = site.ingest(seed=100 + r)
            failures.check(applied == 1000, f"{site.label}: ingest round {r + 1} applied {applied} of 1000")
            ingest[site.label].append(ms)
    ingested = (Figure(statistics.median(ingest[empty.label]), 0, 200),
                Figure(statistics.median(ingest[large.label]), 0, 200))  # fmt: skip
    log(f"  ingest of 1,000 (as the phone sends them): p50 {ingested[0].p50_ms:.0f} / {ingested[1].p50_ms:.0f} ms "
        "(empty / large)")
    for name in audit:
        out[name] = _page(empty, large, name, n, failures)
    out["ingest_1000"] = ingested
    return out


def _page(empty: Site, large: Site, name: str, n: int, failures: Failures) -> tuple[Figure, Figure]:
    figures = []
    times: dict[str, list[float]] = {empty.label: [], large.label: []}
    for site in (empty, large):
        for _ in range(3):
            site.get(name)
    for _ in range(n):
        for site in (empty, large):
            status, ms = site.get(name)
            failures.check(status == 200, f"{site.label}: GET {site.pages[name][1]} answered {status}")
            times[site.label].append(ms)
    for site in (empty, large):
        with counting(site.app) as seen:
            site.get(name)
        figures.append(Figure(statistics.median(times[site.label]), len(seen), 200))
    log(
        f"  {name}: p50 {figures[0].p50_ms:.1f} / {figures[1].p50_ms:.1f} ms (empty / large), "
        f"{figures[0].queries} / {figures[1].queries} SQL statements"
    )
    return figures[0], figures[1]


WARD = 20


def main() -> None:
    global WARD
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (0.01: a quick run)")
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite, postgresql or both (comma)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SCALE_PG_URL", PG_DEFAULT),
        help="a PostgreSQL server's maintenance database; itb_scale is made there",
    )
    parser.add_argument("--requests", type=int, default=15, help="requests per page (p50)")
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds of 1,000 entries (p50)")
    parser.add_argument("--ward", type=int, default=WARD, help="children on the ward today")
    parser.add_argument("--refill", action="store_true", help="write the history again, not from the cache")
    opts = parser.parse_args()
    WARD = opts.ward
    log(f"machine at start: {machine()}")
    failures = Failures()
    engines = [e.strip() for e in opts.engines.split(",") if e.strip()]
    for engine in engines:
        target = Target(engine, opts.pg_url)
        with tempfile.TemporaryDirectory(prefix="itb-scale-") as tmp:
            dbs = Databases(target, Path(tmp))
            log(f"{engine}: the large database (scale {opts.scale:g})…")
            t0 = time.perf_counter()
            large_url, counts = dbs.large(opts.scale, opts.refill)
            log(f"  ready in {time.perf_counter() - t0:.0f} s" + (" (from the cache)" if counts is None else ""))
            large = open_site(large_url, f"{engine} large", failures, make_staff=False)
            empty = open_site(dbs.empty(), f"{engine} empty", failures, make_staff=True)
            try:
                figures = compare(empty, large, opts.requests, opts.rounds, failures)
            finally:
                large.close()
                empty.close()
        rows = []
        for name, (a, b) in figures.items():
            ratio = b.p50_ms / a.p50_ms if a.p50_ms else float("nan")
            unit = "ms"
            emit(f"scale.{engine}.{name}.empty.p50", round(a.p50_ms, 2), unit, None, database=engine)
            emit(f"scale.{engine}.{name}.large.p50", round(b.p50_ms, 2), unit, None, database=engine)
            emit(f"scale.{engine}.{name}.large_over_empty", round(ratio, 3), "ratio", BUDGET_RATIO, database=engine)
            if name != "ingest_1000":
                emit(f"scale.{engine}.{name}.large.queries", b.queries, "statements", a.queries, database=engine)
            rows.append(Row(f"{name}: empty / large p50, statements", f"{a.p50_ms:.1f} / {b.p50_ms:.1f} ms, "
                            f"{a.queries} / {b.queries}", f"≤ {BUDGET_RATIO}x", ratio <= BUDGET_RATIO))  # fmt: skip
        rows.append(Row("  machine at the end", machine()))
        print_table(f"Scale ({engine}): {opts.scale:g} x 10,000 finished trials against an empty database", rows)
    failures.exit()


if __name__ == "__main__":
    main()
