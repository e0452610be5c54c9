"""Randomized fault run: nothing entered is lost or doubled, under any SEQUENCE of faults (issue 9).

Two phones (a PT saving baselines, a nurse saving observations) make real saves through the forms, at
390x844 in Debian's Chromium, interleaved at random with: the network cut and restored, a slow link (the push
held on its way), the answer lost after the server applied the push, the server SIGKILLed in the middle of a
push or right after applying it (and started again later), reloads (offline: from the phone's cache), the tab
closed and reopened, the browser closed and reopened on the same profile, the session cookie deleted (the
sign-in expires), signing in again, Save pressed again on an unchanged form, and "Sync now".

Each save carries a unique token in its notes. At the end everything is restored, each phone is signed in and
sends what it holds, and the run checks, token by token, that every save the phone confirmed (its entry was in
the phone's outbox) is on the server exactly once with the values typed, that no token is on the server twice,
and that nothing is stuck on a phone. The seed is printed: `make chaos N=200 SEED=<seed>` replays the sequence.

`make test` runs two short fixed seeds; `make chaos N=200` two random seeds of 200 steps each (or SEED=...).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, Route
from playwright.sync_api import Error as PlaywrightError

from e2e.conftest import CHROMIUM_ARGS, CHROMIUM_PATH, DEMO_PASSWORD, PHONE, ServerDb, demo_server, tap_grade
from e2e.server import LiveServer

SHORT_SEEDS = (101, 202)
SHORT_STEPS = 20
MAS_GRADES = ("0", "1", "1+", "2", "3", "4")
ACTIONS = ["save", "save_again", "net_cut", "net_back", "slow_push", "release", "lose_answer", "kill_mid",
           "kill_after", "server_up", "reload", "close_tab", "close_browser", "drop_cookie", "sign_in", "sync_now"]
WEIGHTS = [14, 3, 3, 3, 2, 2, 2, 1, 1, 3, 2, 1, 1, 1, 2, 2]


def _seeds() -> list[int]:
    if os.environ.get("CHAOS_SEED"):
        return [int(s) for s in os.environ["CHAOS_SEED"].split(",")]
    if os.environ.get("CHAOS_STEPS"):
        return [random.SystemRandom().randrange(1, 10**6) for _ in range(2)]
    return list(SHORT_SEEDS)


STEPS = int(os.environ.get("CHAOS_STEPS") or SHORT_STEPS)


@pytest.fixture(scope="module")
def chaos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, list[str]]]]:
    """A server of its own (it is killed and restarted), with demo staff and three children on day 1 today.
    Yields the server and each phone's forms."""
    with demo_server(tmp_path_factory.mktemp("chaos")) as server:
        yield server, _children(server)


def _children(server: LiveServer) -> dict[str, list[str]]:
    """Three children on day 1 today; each phone's forms for them."""
    forms: dict[str, list[str]] = {"pt": [], "nurse": []}
    from server import create_app
    from server.extensions import db
    from server.trials.services import create_patient, create_trial
    from server.web import clock

    app = create_app({"APP_ENV": "test", "SECRET_KEY": server.env["SECRET_KEY"],
                      "SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"],
                      "PASSWORD_HASH_PROFILE": "CHEAPEST"})
    with app.app_context():
        today = clock.today()
        for first in ("Ada", "Ben", "Cai"):
            patient = create_patient({
                "first_name": first, "last_name": "Chaos", "mrn": f"CH-{uuid.uuid4().hex[:8]}",
                "date_of_birth": date(today.year - 8, 3, 1), "weight_kg": Decimal("24.0"), "gmfcs_level": 3,
                "diagnosis": "Bilateral spastic cerebral palsy", "tone_type": "spastic"})
            trial = create_trial({"patient_id": patient.id, "start_date": today, "bed": f"C{first[0]}",
                                  "catheter_placed_at": None, "small_child": False, "day1_dose_mcg": Decimal("50"),
                                  "dose_time": dtime(9, 0)}, created_by_id=None)
            db.session.flush()
            forms["pt"].append(f"/trials/{trial.id}/days/1/baseline?repeat=1")  # many a day: each a repeat
            forms["nurse"].append(f"/days/{trial.days[0].id}/observations")
        db.session.commit()
        db.engine.dispose()
    return forms


@dataclass
class Phone:
    """One member of staff's phone: a browser profile that survives closing the browser."""

    username: str
    forms: list[str]
    profile: Path
    pw: Playwright
    server: LiveServer
    faults: Counter[str]
    ctx: BrowserContext | None = None
    page: Page | None = None
    offline: bool = False
    held: list[Route] = field(default_factory=list)
    push_fault: str | None = None  # what happens to the next push: hold / lose_answer / kill_mid / kill_after
    saved_on: str | None = None  # the URL of the form last saved

    # --- the browser ------------------------------------------------------------------------------------------
    def open(self) -> None:
        self.ctx = self.pw.chromium.launch_persistent_context(
            str(self.profile), executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, base_url=self.server.url,
            offline=self.offline, **PHONE)
        self.ctx.set_default_timeout(15_000)
        self.ctx.route("**/api/sync", self._on_push)
        self.page = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()

    def close(self) -> None:
        self.release()
        if self.ctx is not None:
            with contextlib.suppress(PlaywrightError):
                self.ctx.close()
        self.ctx = self.page = None

    def p(self) -> Page:
        assert self.page is not None
        return self.page

    def goto(self, path: str) -> bool:
        try:
            self.p().goto(path, wait_until="load")
            return True
        except PlaywrightError:
            return False

    def set_offline(self, offline: bool) -> None:
        self.offline = offline
        assert self.ctx is not None
        self.ctx.set_offline(offline)

    # --- pushes on their way: the faults that need the request itself ----------------------------------------
    def _on_push(self, route: Route) -> None:
        fault, self.push_fault = self.push_fault, None
        if fault == "hold":  # a slow link: the push waits until released (or the browser closes)
            self.faults["push held (slow link)"] += 1
            self.held.append(route)
            return
        if fault == "kill_mid":  # the server dies while the push is on its way in
            self.faults["server killed mid-push"] += 1
            self.server.kill()
            with contextlib.suppress(PlaywrightError):
                route.abort("connectionreset")
            return
        if fault in ("lose_answer", "kill_after"):  # the server applies the push; the phone never hears back
            with contextlib.suppress(PlaywrightError):
                route.fetch(timeout=15_000)
            if fault == "kill_after":
                self.faults["server killed after applying"] += 1
                self.server.kill()
            else:
                self.faults["answer lost after apply"] += 1
            with contextlib.suppress(PlaywrightError):
                route.abort("connectionreset")
            return
        with contextlib.suppress(PlaywrightError):
            route.continue_()

    def release(self) -> None:
        held, self.held = self.held, []
        for route in held:
            with contextlib.suppress(PlaywrightError):
                route.continue_()

    # --- reading the phone's outbox -------------------------------------------------------------------------
    def entries(self) -> list[dict[str, Any]]:
        for _ in range(20):
            try:
                return self.p().evaluate("""() => (window.ITBOutbox ? ITBOutbox.all() : Promise.resolve(null))
                    .then(rows => rows && rows.map(r => ({id: r.id, status: r.status, author_id: r.author_id,
                        notes: r.payload && r.payload.notes, reason: r.reason || r.last_error || null})))""") or []
            except PlaywrightError:
                time.sleep(0.25)  # mid-navigation
        raise AssertionError(f"could not read the outbox on {self.username}'s phone")


@dataclass
class Run:
    seed: int
    rng: random.Random
    phones: list[Phone]
    faults: Counter[str]
    confirmed: dict[str, dict[str, str]] = field(default_factory=dict)  # token -> values typed
    saves: int = 0
    last_token: str = ""

    def token(self) -> str:
        self.saves += 1
        return f"chaos-{self.seed}-{self.saves}"


def _signed_in(page: Page) -> bool:
    return bool(page.evaluate("() => !!(document.getElementById('sync-status') && "
                              "document.getElementById('sync-status').dataset.userId)"))


def _sign_in(phone: Phone) -> bool:
    if phone.offline or not phone.server.proc or phone.server.proc.poll() is not None:
        return False
    page = phone.p()
    if not phone.goto("/login"):
        return False
    try:
        if "/login" not in page.url:
            return True
        page.get_by_label("Username").fill(phone.username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
        return True
    except PlaywrightError:
        return False


def _fill_and_save(run: Run, phone: Phone, draw: Draw) -> None:
    """A real save through the form on screen: values typed, Save pressed, confirmed by the phone's outbox."""
    page = phone.p()
    token = run.token()
    phone.saved_on = page.url
    if phone.username == "pt":
        grade = draw.grade
        tap_grade(page, "Hip adductors, Left", grade)
        page.get_by_label("Notes (optional)").fill(token)
        values = {"mas.hip_adductors.left": grade}
        page.get_by_role("button", name="Save baseline").click()
    else:
        rate = draw.rate
        page.get_by_label("Heart rate (/min)").fill(rate)
        page.get_by_label("Notes (catheter site, urine output, tone and strength)").fill(token)
        values = {"heart_rate": rate}
        page.get_by_role("button", name="Save observations").click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(e["notes"] == token for e in phone.entries()):
            run.confirmed[token] = values
            run.faults["saves confirmed"] += 1
            run.last_token = token
            return
        time.sleep(0.1)
    run.faults["saves not confirmed"] += 1


def _on_form(phone: Phone) -> bool:
    try:
        return phone.p().locator("form[data-outbox]").count() == 1
    except PlaywrightError:
        return False


@dataclass
class Draw:
    """Everything one step may use, drawn up front so the sequence replays from the seed whatever happens."""

    target: str
    grade: str
    rate: str
    coin: float


def step(run: Run, phone: Phone, action: str, draw: Draw) -> str:
    """One action on one phone; returns its name as it happened."""
    server, page = phone.server, phone.p()
    if action == "save":
        if not (_on_form(phone) and draw.coin < 0.3):  # usually open a form (perhaps from the cache)
            phone.goto(draw.target)
            if not _on_form(phone) and _sign_in(phone):  # signed out, and the server is reachable: sign in
                phone.goto(draw.target)
        if _on_form(phone):
            try:
                _fill_and_save(run, phone, draw)
                action = f"save#{run.saves}"
            except PlaywrightError:
                run.faults["save interrupted"] += 1
        else:
            action = "save (no form: signed out or not cached)"
    elif action == "save_again":  # Save pressed again on the form just saved, nothing changed
        if _on_form(phone) and phone.saved_on == page.url:
            with contextlib.suppress(PlaywrightError):
                page.locator("form[data-outbox] [type=submit]").click(timeout=5_000)
        else:
            action = "save_again (form gone)"
    elif action == "net_cut":
        phone.set_offline(True)
    elif action == "net_back":
        phone.set_offline(False)
    elif action == "slow_push":
        phone.push_fault = "hold"
        action = "arm slow_push"
    elif action == "release":
        phone.release()
    elif action in ("lose_answer", "kill_mid", "kill_after"):
        phone.push_fault = action
        action = f"arm {action}"
    elif action == "server_up":
        if server.proc is None or server.proc.poll() is not None:
            server.start()
        else:
            action = "server_up (was up)"
    elif action == "reload":
        with contextlib.suppress(PlaywrightError):
            page.reload(wait_until="load")
    elif action == "close_tab":
        with contextlib.suppress(PlaywrightError):
            page.close()
        assert phone.ctx is not None
        phone.page = phone.ctx.new_page()
        phone.goto(draw.target)
    elif action == "close_browser":
        phone.close()
        phone.open()
        phone.goto(draw.target)
    elif action == "drop_cookie":
        assert phone.ctx is not None
        phone.ctx.clear_cookies()
    elif action == "sign_in":
        _sign_in(phone)
    elif action == "sync_now":
        with contextlib.suppress(PlaywrightError):
            button = page.get_by_role("button", name="Sync now")
            if button.count():
                button.click(timeout=3_000)
            else:
                page.evaluate("() => { window.ITB && ITB.flushNow && ITB.flushNow(); }")
    run.faults[action.split("#")[0]] += 1
    return action


def settle(phone: Phone, user_id: int) -> list[dict[str, Any]]:
    """Restore everything for this phone and let it send all it holds; returns its entries."""
    phone.push_fault = None
    phone.release()
    assert phone.ctx is not None
    phone.ctx.unroute_all(behavior="ignoreErrors")
    phone.set_offline(False)
    deadline = time.monotonic() + 90
    while True:
        if not _sign_in(phone):
            time.sleep(0.5)
        else:
            with contextlib.suppress(PlaywrightError):
                phone.p().evaluate("() => ITB.flushNow()")
            mine = [e for e in phone.entries() if e["author_id"] == user_id]
            if all(e["status"] == "sent" for e in mine) or (
                    time.monotonic() > deadline - 60 and all(e["status"] not in ("pending", "sending") for e in mine)):
                return phone.entries()
        if time.monotonic() > deadline:
            return phone.entries()
        time.sleep(0.5)


@pytest.mark.parametrize("seed", _seeds())
def test_random_fault_sequences_lose_and_double_nothing(
        seed: int, chaos_server, playwright_instance: Playwright, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, forms = chaos_server
    if server.proc is None or server.proc.poll() is not None:
        server.start()
    faults: Counter[str] = Counter()
    phones = [Phone(user, forms[user], tmp_path / user, playwright_instance, server, faults)
              for user in ("pt", "nurse")]
    run = Run(seed=seed, rng=random.Random(seed), phones=phones, faults=faults)
    print(f"\nchaos seed={seed} steps={STEPS} (replay: make chaos N={STEPS} SEED={seed})")
    db = ServerDb(server.env["DATABASE_URL"])
    try:
        for phone in phones:  # signed in, forms opened once online so the phone keeps copies for the ward
            phone.open()
            assert _sign_in(phone)
            for path in phone.forms:
                phone.goto(path)
            phone.goto(phone.forms[0])
        trail = []
        for i in range(STEPS):
            phone = run.rng.choice(phones)
            action = run.rng.choices(ACTIONS, weights=WEIGHTS)[0]
            draw = Draw(target=run.rng.choice(phone.forms), grade=run.rng.choice(MAS_GRADES),
                        rate=str(run.rng.randrange(60, 140)), coin=run.rng.random())
            trail.append(f"{i}:{phone.username}:{step(run, phone, action, draw)}")
        if server.proc is None or server.proc.poll() is not None:
            server.start()
        ids = {p.username: int(db.scalar("SELECT id FROM users WHERE username = :u", u=p.username)) for p in phones}
        left = {p.username: settle(p, ids[p.username]) for p in phones}
    finally:
        for phone in phones:
            phone.close()

    like = f"chaos-{seed}-%"
    on_server: Counter[str] = Counter()
    server_values: dict[str, dict[str, str]] = {}
    for notes, values in db.rows("SELECT notes, \"values\" FROM assessments WHERE notes LIKE :n", n=like):
        on_server[notes] += 1
        parsed = values if isinstance(values, dict) else json.loads(values)
        server_values[notes] = {"mas.hip_adductors.left": parsed.get("mas.hip_adductors.left")}
    for notes, rate in db.rows("SELECT notes, heart_rate FROM observations WHERE notes LIKE :n", n=like):
        on_server[notes] += 1
        server_values[notes] = {"heart_rate": str(rate)}
    lost = sorted(t for t in run.confirmed if on_server[t] == 0)
    doubled = sorted(t for t, n in on_server.items() if n > 1)
    wrong = sorted(t for t, v in run.confirmed.items() if on_server[t] == 1 and server_values[t] != v)
    # A save with a token that did not end "sent" on its phone (a rejected empty form is not one of ours).
    stuck = sorted(f"{p}:{e['notes']}:{e['status']}:{e['reason']}" for p, entries in left.items() for e in entries
                   if e["status"] not in ("sent", "replaced") and (e["notes"] or "").startswith(f"chaos-{seed}-"))
    fired = ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))
    print(f"chaos seed={seed}: {len(run.confirmed)} saves confirmed, {sum(on_server.values())} on the server; "
          f"lost {len(lost)}, doubled {len(doubled)}, wrong values {len(wrong)}, stuck {len(stuck)}\n"
          f"  actions and faults: {fired}")
    evidence = {t: {"server": [tuple(r) for r in db.rows(
        "SELECT entry_id, received_at FROM assessments WHERE notes = :n UNION ALL "
        "SELECT entry_id, received_at FROM observations WHERE notes = :n", n=t)],
        "phone": [(e["id"], e["status"]) for entries in left.values() for e in entries if e["notes"] == t]}
        for t in doubled + lost}
    db.engine.dispose()
    detail = f"seed {seed}; evidence {evidence}; steps: {' '.join(trail)}"
    problems = {"lost": lost, "doubled": doubled, "wrong values": wrong, "stuck": stuck}
    assert not any(problems.values()), f"{problems} ({detail})"
    assert run.confirmed, f"no save was confirmed: the run proved nothing ({detail})"
