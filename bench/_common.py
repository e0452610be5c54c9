"""Shared pieces for the benchmarks: the app on a fresh database, a realistic ward, realistic assessment
payloads, an HTTP client with cookies, percentiles and the figures table.

Not a benchmark itself (`make bench` runs bench/bench_*.py only).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "bench-pass-123"
APP_CONFIG: dict[str, Any] = {
    "APP_ENV": "test",
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "PASSWORD_HASH_PROFILE": "CHEAPEST",  # sign-in happens outside every timed section
    "HOSPITAL_TIMEZONE": "Europe/London",
}


# ---- figures -----------------------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank, p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Row:
    what: str
    figure: str
    budget: str = ""
    ok: bool | None = None  # None: information only


def machine() -> str:
    """CPU count and load average: other work on the machine moves every figure here."""
    import os

    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)"


def machine_info(database: str = "sqlite") -> dict[str, Any]:
    """The machine as a figure's `machine` key: CPU count, load average now (1 / 5 / 15 min), Python version,
    and the database (its dialect name; a URL is reduced to it, never printed with its credentials)."""
    import os
    import platform

    load = os.getloadavg()
    dialect = database.split(":", 1)[0].split("+", 1)[0] if ":" in database else database
    return {
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "database": "postgresql" if dialect == "postgres" else dialect,
    }


def emit(name: str, value: float, unit: str, budget: float | str | None = None, *, database: str = "sqlite") -> None:
    """Print one figure as one JSON line on stdout: `name`, `value` (in `unit`), `budget` and `machine`.

    `budget`: a number is the most `value` may be (same unit); a string states another bound (e.g. ">= 95");
    None marks a figure given for information. `database`: what the figure ran on (a name, "sqlite" or
    "postgresql", or a SQLAlchemy URL). This is the one way a bench prints a figure for `make bench`.
    """
    figure = {
        "name": name,
        "value": round(value, 6) if isinstance(value, float) else value,
        "unit": unit,
        "budget": budget,
        "machine": machine_info(database),
    }
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def note(text: str) -> None:
    """Words for the person running the benchmark (stderr: not part of the figures)."""
    print(text, file=sys.stderr, flush=True)


def print_table(title: str, rows: Iterable[Row], file: Any = None) -> None:
    """The figures as a table for a person, on stderr (stdout carries the JSON lines of `emit`)."""
    out = file or sys.stderr
    rows = list(rows)
    w1 = max(len(r.what) for r in rows)
    w2 = max(len(r.figure) for r in rows)
    w3 = max([len(r.budget) for r in rows] + [6])
    print(f"\n{title}", file=out)
    print(f"  {'what':<{w1}}  {'figure':>{w2}}  {'budget':<{w3}}  verdict", file=out)
    print(f"  {'-' * w1}  {'-' * w2}  {'-' * w3}  -------", file=out)
    for r in rows:
        verdict = "" if r.ok is None else ("ok" if r.ok else "MISSES")
        print(f"  {r.what:<{w1}}  {r.figure:>{w2}}  {r.budget:<{w3}}  {verdict}", file=out)


class Failures:
    """Functional problems (lost or doubled entries, HTTP errors): the script exits 1 if there is any."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.items.append(message)
        return condition

    def exit(self) -> None:
        if self.items:
            print("\nFUNCTIONAL PROBLEMS:", file=sys.stderr)
            for item in self.items:
                print(f"  - {item}", file=sys.stderr)
            sys.exit(1)


# ---- the app on a fresh database ---------------------------------------------------------------------------


def make_app(database_url: str, **extra: Any) -> Any:
    from server import create_app

    return create_app({**APP_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **extra})


def migrate(app: Any) -> None:
    """The schema the way production gets it: the Alembic migrations (flask db upgrade)."""
    import logging

    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    logging.disable(logging.INFO)  # Alembic's env.py turns INFO logging on; the sync engine logs per entry


@dataclass
class World:
    staff: dict[str, int] = field(default_factory=dict)  # username -> user id
    trials: list[tuple[int, int, int]] = field(default_factory=list)  # (trial id, today's day number, gmfcs)
    doses: int = 0
    observations: int = 0
    dosing_skipped: int = 0


def add_staff(app: Any, accounts: Sequence[tuple[str, Sequence[str]]], world: World | None = None) -> World:
    """Staff accounts (username, roles), password BENCH_PASSWORD, through the app's own service."""
    from server.admin.services import create_staff
    from server.audit.context import Actor, acting_as
    from server.extensions import db

    world = world or World()
    with app.app_context(), acting_as(Actor(user_id=None, via="cli")):
        for username, roles in accounts:
            user = create_staff(
                {"username": username, "display_name": username.title(), "password": BENCH_PASSWORD,
                 "roles": list(roles)}
            )  # fmt: skip
            world.staff[username] = user.id
        db.session.commit()
    return world


def build_world(
    app: Any,
    n_trials: int = 30,
    *,
    pts: Sequence[str] = ("pt",),
    nurses: Sequence[str] = ("nurse",),
    dosing: bool = True,
    world: World | None = None,
    first_mrn: int = 0,
) -> World:
    """Staff and `n_trials` active trials on the ward today (a third each on day 1, 2 and 3), with the doses
    given so far and their observations, written through the app's own services. With `world`, its staff
    (made by `add_staff`, with a "surgeon") are used and no account is made."""
    from server.audit.context import Actor, acting_as
    from server.extensions import db
    from server.trials.services import create_patient, create_trial
    from server.web import clock

    if world is None:
        accounts = [(u, ["pt"]) for u in pts] + [(u, ["nurse"]) for u in nurses] + [("surgeon", ["surgeon"])]
        world = add_staff(app, accounts)
    with app.app_context(), acting_as(Actor(user_id=None, via="cli")):
        today = clock.today()
        rng = random.Random(7)
        for i in range(n_trials):
            gmfcs = 1 + i % 5
            kg = Decimal(str(round(rng.uniform(14, 40), 1)))
            patient = create_patient(
                {
                    "first_name": f"Child{i:02d}",
                    "last_name": f"Bench{i:02d}",
                    "mrn": f"BENCH-{first_mrn + i:04d}",
                    "weight_kg": kg,
                    "gmfcs_level": gmfcs,
                    "tone_type": "spastic",
                    "diagnosis": "Bilateral spastic cerebral palsy",
                    "date_of_birth": date(today.year - 4 - i % 10, 1 + i % 12, 1 + i % 28),
                }
            )
            day_today = 1 + i % 3
            small = kg < 18
            trial = create_trial(
                {
                    "patient_id": patient.id,
                    "start_date": today - timedelta(days=day_today - 1),
                    "bed": str(1 + i),
                    "catheter_placed_at": None,
                    "small_child": small,
                    "day1_dose_mcg": Decimal("25") if small else Decimal("50"),
                    "dose_time": dtime(9, 0),
                },
                created_by_id=world.staff["surgeon"],
            )
            db.session.commit()
            world.trials.append((trial.id, day_today, gmfcs))
            if dosing and nurses:
                _dose_history(world, trial, day_today, small, nurse=world.staff[nurses[0]])
    return world


def _dose_history(world: World, trial: Any, day_today: int, small: bool, *, nurse: int) -> None:
    """Doses given at 09:00 on the days before today (and today, for every other child, once it is past
    09:30), each followed by the protocol's observations up to now."""
    from server.dosing.schedule import observation_offsets
    from server.dosing.services import DosingError, record_dose, record_observation, set_plan
    from server.extensions import db
    from server.protocol import current_protocol
    from server.web import clock
    from server.web.clock import local_to_utc

    now = clock.now()
    surgeon = world.staff["surgeon"]
    slots = [m for m, _ in observation_offsets(current_protocol())]
    doses = ["25", "50", "75"] if small else ["50", "75", "100"]
    last_day = day_today if (trial.id % 2 == 0 and clock.local_now().time() >= dtime(9, 30)) else day_today - 1

    def plan(day: Any) -> None:
        set_plan(
            day.id,
            {
                "dose_mcg": Decimal(doses[day.day_number - 1]),
                "planned_time": dtime(9, 0),
                "base_revision": day.revision,
                "override_reason": None,
            },
            author_id=surgeon,
        )

    try:
        for day in sorted(trial.days, key=lambda d: d.day_number):
            if day.day_number > last_day:
                if day.day_number == day_today and day.day_number > 1:  # today's dose, planned
                    plan(day)
                break
            if day.day_number > 1:
                plan(day)
            record_dose(
                day.id,
                {
                    "given_time": dtime(9, 0),
                    "dose_mcg": Decimal(doses[day.day_number - 1]),
                    "override_reason": None,
                    "route": "catheter",
                    "given_by_id": surgeon,
                    "checked_by_id": nurse,
                },
                recorded_by_id=surgeon,
                now=now,
            )
            world.doses += 1
            given = local_to_utc(day.date, dtime(9, 0))
            for minutes in slots:
                at = given + timedelta(minutes=minutes)
                if at > now:
                    break
                record_observation(
                    {
                        "trial_day_id": day.id,
                        "taken_at": None,
                        "effects": [],
                        "notes": None,
                        "heart_rate": 96,
                        "resp_rate": 22,
                        "spo2": 98,
                        "bp_systolic": 102,
                        "bp_diastolic": 62,
                        "temperature_c": Decimal("36.8"),
                        "sedation_score": 0,
                        "pain_score": 1,
                    },
                    author_id=nurse,
                    entry_id=str(uuid.uuid4()),
                    recorded_at=at,
                    now=now,
                )
                world.observations += 1
        db.session.commit()
    except DosingError:
        db.session.rollback()
        world.dosing_skipped += 1


# ---- realistic entries -------------------------------------------------------------------------------------

MAS_GRADES = ["0", "1", "1+", "2", "3"]


def assessment_payload(trial_id: int, day_number: int, phase: str, gmfcs: int, rng: random.Random) -> dict[str, str]:
    """A full lower-limb assessment as the form sends it (one string per field): MAS for the 7 lower-limb
    muscle groups, Tardieu R1/R2/quality for hamstrings and gastrocnemius, 4 ROM angles, both sides, and the
    walking test (GMFCS I-III) or standing/transfers/sitting (IV-V), plus a note."""
    from server.assessments.instruments import DEFAULT_ROM, LOWER_LIMB_MAS

    data = {"trial_id": str(trial_id), "day_number": str(day_number), "phase": phase}
    for item_id in LOWER_LIMB_MAS:
        for side in ("left", "right"):
            data[f"{item_id}.{side}"] = rng.choice(MAS_GRADES)
    for side in ("left", "right"):
        r2 = rng.randint(30, 60)  # popliteal angle: the catch (R1) comes at a larger angle than the full range
        data[f"tardieu.hamstrings.{side}.r1"] = str(r2 + rng.randint(5, 40))
        data[f"tardieu.hamstrings.{side}.r2"] = str(r2)
        data[f"tardieu.hamstrings.{side}.quality"] = str(rng.randint(1, 3))
        r1 = rng.randint(-30, -5)  # ankle dorsiflexion: the catch comes before the full range
        data[f"tardieu.gastrocnemius.{side}.r1"] = str(r1)
        data[f"tardieu.gastrocnemius.{side}.r2"] = str(r1 + rng.randint(5, 30))
        data[f"tardieu.gastrocnemius.{side}.quality"] = str(rng.randint(1, 4))
    for item_id in DEFAULT_ROM:
        for side in ("left", "right"):
            data[f"{item_id}.{side}"] = str(rng.randint(5, 45))
    if gmfcs <= 3:
        data["gait.walk_10m_seconds"] = f"{rng.uniform(8, 30):.1f}"
    else:
        data["function.standing"] = rng.choice(["unable", "with_support"])
        data["function.transfers"] = rng.choice(["dependent", "assisted"])
        data["function.sitting"] = rng.choice(["with_support", "independent"])
    data["notes"] = "Settled, cooperative; same positions as yesterday. Family present."
    return data


def entry(
    author_id: int, payload: dict[str, Any], *, device_id: str = "bench-phone-1", recorded_at: datetime | None = None
) -> dict[str, Any]:
    recorded = (recorded_at or datetime.now(UTC)).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "kind": "assessments.record",
        "payload": payload,
        "author_id": author_id,
        "device_id": device_id,
        "recorded_at": recorded,
        "base_rev": None,
        "form_version": 1,
    }


def assessment_entries(
    author_id: int, trials: Sequence[tuple[int, int, int]], n: int, seed: int = 1
) -> list[dict[str, Any]]:
    """`n` entries spread over the trials, their days and both phases."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        trial_id, day_today, gmfcs = trials[i % len(trials)]
        day = 1 + (i // len(trials)) % day_today
        phase = "baseline" if (i // (len(trials) * 3)) % 2 == 0 else "post_dose"
        # (many per day and phase, so each is marked as a repeat, as the PT's "Add a repeat" form sends it)
        out.append(entry(author_id, {**assessment_payload(trial_id, day, phase, gmfcs, rng), "repeat": "1"}))
    return out


OUTBOX = ROOT / "server" / "static" / "js" / "outbox-core.js"


def phone_batch_size(plain: bool = False) -> int:
    """The entries a phone's push carries, as outbox-core.js sets it: BATCH_SIZE, gzip-compressed; with `plain`,
    PLAIN_BATCH_SIZE (a browser that cannot compress)."""
    name = "PLAIN_BATCH_SIZE" if plain else "BATCH_SIZE"
    found = re.search(rf"\bvar {name} = (\d+);", OUTBOX.read_text())
    if found is None:
        raise RuntimeError(f"{name} not found in {OUTBOX}")
    return int(found.group(1))


def push_bodies(entries: Sequence[dict[str, Any]], batch: int, *, plain: bool = False,
                device_id: str = "bench-phone-1") -> tuple[list[bytes], dict[str, str]]:
    """The request bodies a phone sends for `entries`, `batch` a request (gzip unless `plain`), and the headers
    that say how they are encoded."""
    bodies = [json.dumps({"protocol_version": 1, "device_id": device_id,
                          "entries": list(entries[i : i + batch])}).encode() for i in range(0, len(entries), batch)]
    if plain:
        return bodies, {"Content-Type": "application/json"}
    return [gzip.compress(b, 6) for b in bodies], {"Content-Type": "application/json", "Content-Encoding": "gzip"}


# ---- the app as served, with the demo data -----------------------------------------------------------------


@contextlib.contextmanager
def demo_live_server() -> Iterator[tuple[Any, str]]:
    """A LiveServer (gunicorn, as `make run` serves) on a fresh database made by the migrations, with the demo
    data (`flask demo-data`: the demo accounts, password demo-pass, and four children), started. Yields the
    server and its database URL; stops it and drops the database afterwards."""
    from e2e.server import LiveServer
    from tests.dbutil import create_database

    with tempfile.TemporaryDirectory(prefix="itb-bench-") as tmp:
        url, drop = create_database(Path(tmp))
        server = LiveServer(url, Path(tmp))
        try:
            server.flask("db", "upgrade")
            server.flask("demo-data")
            server.start()
            yield server, url
        finally:
            server.stop()
            drop()


def demo_form_path(database_url: str) -> str:
    """The assessment form of the demo child on trial day 1 (DEMO-1001, baseline)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            trial_id = conn.execute(text("SELECT trials.id FROM trials JOIN patients ON patients.id = "
                                         "trials.patient_id WHERE patients.mrn = 'DEMO-1001'")).scalar()
    finally:
        engine.dispose()
    return f"/trials/{trial_id}/days/1/baseline"


# ---- HTTP against a live server ----------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli

        return bytes(brotli.decompress(body))
    return body


class Browserish:
    """One staff member's connection: keep-alive, cookies, compression, like a phone's browser."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        hdrs = {"Accept-Encoding": "gzip, br", "User-Agent": "itb-bench"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        hdrs.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=hdrs)
                res = conn.getresponse()
                raw = res.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # the server closed an idle keep-alive connection: reconnect once
                if attempt == 2:
                    raise
        for name, value in res.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if res.getheader("Connection", "").lower() == "close":
            self.close()
        return res.status, decode(raw, res.getheader("Content-Encoding"))

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path, headers={"Accept": "text/html"})

    def sign_in(self, username: str, password: str = BENCH_PASSWORD) -> None:
        status, body = self.get("/login")
        match = _CSRF_INPUT.search(body.decode())
        if status != 200 or match is None:
            raise RuntimeError(f"GET /login answered {status}")
        form = f"username={username}&password={password}&csrf_token={match.group(1)}".encode()
        status, _ = self.request(
            "POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            raise RuntimeError(f"sign-in of {username} answered {status}")
        status, body = self.request("GET", "/api/session", headers={"Accept": "application/json"})
        if status != 200:
            raise RuntimeError(f"GET /api/session answered {status}")
        self.csrf = json.loads(body)["csrf_token"]

    def push(self, entries: list[dict[str, Any]], device_id: str = "bench-phone-1") -> tuple[int, Any]:
        body = json.dumps({"protocol_version": 1, "device_id": device_id, "entries": entries}).encode()
        status, raw = self.request(
            "POST",
            "/api/sync",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": self.csrf,
                "X-Device-Id": device_id,
            },
        )
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---- the Flask test client ---------------------------------------------------------------------------------


def client_sign_in(client: Any, username: str, password: str = BENCH_PASSWORD) -> str:
    """Sign a Flask test client in through the real login form; returns the CSRF token for API calls."""
    page = client.get("/login").get_data(as_text=True)
    match = _CSRF_INPUT.search(page)
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    res = client.post("/login", data={"username": username, "password": password, "csrf_token": match.group(1)})
    if res.status_code != 303:
        raise RuntimeError(f"sign-in of {username} answered {res.status_code}")
    return str(client.get("/api/session").get_json()["csrf_token"])


def monotonic_ms() -> float:
    return time.perf_counter() * 1000


def chromium_settings() -> tuple[list[str], dict[str, Any]]:
    """The browser tests' Chromium arguments and phone context (so the benches measure the same browser)."""
    try:
        from e2e.conftest import CHROMIUM_ARGS, PHONE

        return list(CHROMIUM_ARGS), dict(PHONE)
    except ImportError:  # pragma: no cover - the e2e suite's settings, copied
        return (
            [
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-gpu",
                "--no-first-run",
            ],
            {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
        )
