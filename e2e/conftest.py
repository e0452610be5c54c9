"""Browser tests: the real app (gunicorn, fresh database) driven by Debian's Chromium at a phone viewport."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from e2e.server import LiveServer
from tests.dbutil import create_database

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DEMO_PASSWORD = "demo-pass"
SCREENSHOTS = Path(__file__).parent / "screenshots"

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@contextlib.contextmanager
def demo_server(tmp: Path, **env: str) -> Iterator[LiveServer]:
    """A server of its own: a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL), migrated, with the
    demo data, started with `env` on top of the test settings; stopped and dropped afterwards."""
    url, drop = create_database(tmp)
    server = LiveServer(url, tmp)
    server.env.update(env)
    server.flask("db", "upgrade")
    server.flask("demo-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        drop()


def restart_at(server: LiveServer, when: Any) -> None:
    """Restart a server whose clock stands still (TEST_NOW) with its clock at `when` (an aware datetime): the same
    port and database, a later hour or day."""
    server.stop()
    server.env["TEST_NOW"] = when.isoformat()
    server.start()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM_PATH}: run `make test` (installs Debian's chromium) "
                    "or set CHROMIUM_PATH.")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, **PHONE)
    external: list[str] = []
    ctx.on("request", lambda r: external.append(r.url) if not r.url.startswith(
        (live_server.url, "data:", "blob:", "chrome-extension:")) else None)
    yield ctx
    ctx.close()
    assert external == [], f"requests to other hosts: {external}"


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors = js_errors(page)
    yield page
    assert errors == [], f"JavaScript errors: {errors}"


def js_errors(page: Page) -> list[str]:
    """The page's JavaScript errors from now on (uncaught, or logged as errors), for a test to assert empty."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    return errors


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def check_accessibility(page: Page, name: str) -> None:
    """axe-core in the page: no serious or critical violation. Also keeps a screenshot to look at."""
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(exist_ok=True)
    # caret="initial": hiding the caret would inject an inline <style>, which our CSP (rightly) blocks.
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")
    results: Any = Axe().run(page)
    bad = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"accessibility violations on {name}: {bad}"


class ServerDb:
    """Read the live server's database from the test, to prove what reached it (and how many times)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url)

    def scalar(self, sql: str, **params: Any) -> Any:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def execute(self, sql: str, **params: Any) -> None:
        from sqlalchemy import text

        with self.engine.begin() as conn:
            conn.execute(text(sql), params)


@pytest.fixture(scope="session")
def server_db(live_server: LiveServer) -> Iterator[ServerDb]:
    db = ServerDb(live_server.env["DATABASE_URL"])
    yield db
    db.engine.dispose()


def wait_until(page: Page, js: str, arg: Any = None, timeout: float = 15.0) -> Any:
    """Poll `js` (a function expression, maybe async) until truthy. page.evaluate goes through the DevTools
    protocol, which our strict CSP (no eval) allows; Playwright's wait_for_function may need eval."""
    import time

    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = page.evaluate(js, arg)
        except PlaywrightError as exc:  # a navigation replaced the page mid-poll: poll the new one (whose deferred
            # scripts may not have run yet, so the app's globals can be missing for a moment)
            if ("context was destroyed" not in str(exc) and "navigat" not in str(exc)
                    and "ITBOutbox is not defined" not in str(exc) and "ITB is not defined" not in str(exc)):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {js}")
        time.sleep(0.1)


def wait_for_service_worker(page: Page) -> None:
    """The worker controls the page and has cached the pages linked for offline use."""
    try:
        wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)", timeout=30)
    except AssertionError as exc:
        state = page.evaluate("""() => navigator.serviceWorker.getRegistration().then(r => r ? {
            installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
            active: r.active && r.active.state} : 'no registration')""")
        raise AssertionError(f"no service worker controls {page.url}: {state}") from exc
    wait_until(page, "() => caches.open('itb-pages-v1').then(c => c.keys()).then(k => k.length > 0)")


def tap_grade(page: Page, group: str, grade: str) -> None:
    """One tap on a grade's button in a segmented control (the fieldset named `group`), clear of the sticky
    save bar; the radio is then checked."""
    fieldset = page.get_by_role("group", name=group, exact=True)
    button = fieldset.locator(f'input[value="{grade}"] + label')  # the label beside the radio is the button
    button.evaluate("e => e.scrollIntoView({block: 'center'})")
    button.click()
    expect(fieldset.get_by_role("radio", name=grade, exact=True)).to_be_checked()


def wait_until_cached(page: Page, path: str) -> None:
    """The service worker holds a copy of `path` for use with no network."""
    wait_until(page, "p => caches.open('itb-pages-v1').then(c => c.match(new URL(p, location.origin).href))"
                     ".then(Boolean)", path)


def outbox_summary(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => window.ITB.outboxSummary().then(s => ({
        pending: s.pending, attention: s.attention, pendingOthers: s.pendingOthers, lastSync: s.lastSync,
        phase: s.state.phase, statuses: s.entries.map(e => e.status)}))""")


def app_for(live_server: LiveServer):  # type: ignore[no-untyped-def]
    """The app object on the live server's database, for arranging data the way the services would."""
    from server import create_app

    return create_app({"APP_ENV": "test", "SECRET_KEY": live_server.env["SECRET_KEY"],
                       "SQLALCHEMY_DATABASE_URI": live_server.env["DATABASE_URL"],
                       "PASSWORD_HASH_PROFILE": "CHEAPEST"})


@pytest.fixture
def make_child(live_server: LiveServer):  # type: ignore[no-untyped-def]
    """Factory: a new child on day 1 of a trial today -> trial id. The trials are closed afterwards, so the
    demo's lists (shared by all browser tests) stay as they were."""
    import uuid
    from datetime import date, time
    from decimal import Decimal

    from server.extensions import db
    from server.trials.models import Trial
    from server.trials.services import create_patient, create_trial
    from server.web import clock

    app = app_for(live_server)
    made: list[int] = []

    def _make(first: str, last_name: str = "Sync") -> int:
        with app.app_context():
            today = clock.today()
            patient = create_patient({
                "first_name": first, "last_name": last_name, "mrn": f"E2E-{uuid.uuid4().hex[:8]}",
                "date_of_birth": date(today.year - 8, 3, 1), "weight_kg": Decimal("24.0"), "gmfcs_level": 3,
                "diagnosis": "Bilateral spastic cerebral palsy", "tone_type": "spastic"})
            trial = create_trial({"patient_id": patient.id, "start_date": today, "bed": "S1",
                                  "catheter_placed_at": None, "small_child": False,
                                  "day1_dose_mcg": Decimal("50"), "dose_time": time(9, 0)}, created_by_id=None)
            db.session.commit()
            made.append(trial.id)
            return trial.id

    yield _make
    with app.app_context():
        for trial_id in made:
            db.session.get(Trial, trial_id).status = "completed"
        db.session.commit()
        db.engine.dispose()
