"""The WebKit lane: the same app (e2e/conftest.py's live_server, server_db, make_child) in WebKit, Safari's
engine, through WebKitGTK's WebDriver (Selenium), in a 390x844 window on a virtual display (Xvfb).

The browser is e2e/webkit/phone_browser.py (why not MiniBrowser: its docstring). Each phone has a profile
directory, so closing the browser and opening it again keeps IndexedDB, the service worker and the sign-in.
WebKit has no network emulation: a phone "with no network" is one whose server is stopped (LiveServer.stop).
`make webkit` installs what it needs (Debian: webkit2gtk-driver, xvfb, gir1.2-webkit2-4.1, python3-gi).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

from e2e.conftest import DEMO_PASSWORD, SCREENSHOTS
from e2e.server import LiveServer

WEBKIT_DRIVER = os.environ.get("WEBKIT_DRIVER_PATH", "/usr/bin/WebKitWebDriver")
PHONE_BROWSER = Path(__file__).with_name("phone_browser.py")
PHONE_SIZE = (390, 844)  # CSS pixels: the web view fills the window (no toolbar)
TIMEOUT = 15.0
# What WebKit logs when a load fails because the server is unreachable (Chromium: "Failed to load resource"):
# expected while a test has stopped the server, not a script error.
NETWORK_FAILURES = ("Failed to load resource", "Could not connect to", "ERROR Cannot load http")


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A virtual X display of our own for the lane (no window appears on a developer's screen)."""
    for tool in (WEBKIT_DRIVER, shutil.which("Xvfb")):
        if not tool or not Path(tool).exists():
            pytest.fail("The WebKit lane needs WebKitGTK's WebDriver and Xvfb: run `make webkit` (Debian: "
                        "webkit2gtk-driver xvfb gir1.2-webkit2-4.1 python3-gi).")
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    number = b""
    deadline = time.monotonic() + 20
    while not number.endswith(b"\n") and time.monotonic() < deadline:  # Xvfb writes its display number when ready
        if select.select([read], [], [], 0.5)[0]:
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
    os.close(read)
    if not number.strip():
        proc.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number.decode().strip()}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Phone:
    """One phone: a WebKit browser on a profile directory, with helpers that find controls by label and role."""

    def __init__(self, driver: webdriver.Remote, service: Service, base_url: str, profile: Path, log: Path):
        self.driver, self.service, self.base_url, self.profile, self.log = driver, service, base_url, profile, log
        self.closed = False

    # ---- pages and script ----
    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def run(self, js: str, arg: Any = None) -> Any:
        """`js` is a function expression (may be async) run in the page with `arg`; its value is returned."""
        out = self.driver.execute_async_script(
            "const done = arguments[1]; Promise.resolve(arguments[0]).then(" + js + ").then("
            "v => done({value: v === undefined ? null : v}), e => done({error: String(e && e.stack || e)}));",
            arg)
        if "error" in out:
            raise JavascriptException(out["error"])
        return out["value"]

    def wait_until(self, js: str, arg: Any = None, timeout: float = TIMEOUT) -> Any:
        """Poll `js` until truthy. A page that is navigating, or whose deferred scripts have not run yet (the app's
        globals missing for a moment), is polled again."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            try:
                value = self.run(js, arg)
            except WebDriverException as exc:
                value, last = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {js} on {self.path} ({last})")
            time.sleep(0.1)

    def wait_text(self, css: str, text: str, timeout: float = TIMEOUT) -> None:
        self.wait_until("([css, text]) => Array.from(document.querySelectorAll(css))"
                        ".some(e => e.textContent.replace(/\\s+/g, ' ').includes(text))", [css, text], timeout)

    def count(self, css: str) -> int:
        return len(self.driver.find_elements(By.CSS_SELECTOR, css))

    def wait_count(self, css: str, n: int, timeout: float = TIMEOUT) -> None:
        self.wait_until("([css, n]) => document.querySelectorAll(css).length === n", [css, n], timeout)

    def text(self, css: str) -> str:
        return " ".join(self.driver.find_element(By.CSS_SELECTOR, css).text.split())

    def heading(self) -> str:
        return self.text("h1")

    def wait_heading(self, text: str, timeout: float = 15.0) -> None:
        self.wait_until("t => { const h = document.querySelector('h1'); "
                        "return !!h && h.textContent.replace(/\\s+/g, ' ').trim() === t; }", text, timeout=timeout)

    # ---- controls, by their label and role (as a person finds them) ----
    @staticmethod
    def _literal(text: str) -> str:
        return f'"{text}"' if '"' not in text else "concat('" + text.replace("'", "', \"'\", '") + "')"

    def label(self, text: str) -> WebElement:
        label = self.driver.find_element(By.XPATH, f"//label[normalize-space(.)={self._literal(text)}]")
        target = label.get_attribute("for")
        return self.driver.find_element(By.ID, target) if target else label.find_element(By.CSS_SELECTOR, "input")

    def button(self, name: str) -> WebElement:
        return self.driver.find_element(By.XPATH, f"//button[normalize-space(.)={self._literal(name)}]")

    def link(self, name: str) -> WebElement:
        return self.driver.find_element(By.XPATH, f"//a[normalize-space(.)={self._literal(name)}]")

    def tap(self, element: WebElement) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def fill(self, label: str, value: str) -> None:
        control = self.label(label)
        control.clear()
        control.send_keys(value)

    def tap_grade(self, group: str, grade: str) -> None:
        """One tap on a grade in a segmented control (the fieldset named `group`: its aria-label, or its legend),
        on the label beside the grade's radio (templates/assessments/_macros.html)."""
        name, value = self._literal(group), self._literal(grade)
        fieldset = self.driver.find_element(
            By.XPATH, f"//fieldset[@aria-label={name} or legend[normalize-space(.)={name}]]")
        self.tap(fieldset.find_element(By.XPATH, f".//input[@value={value}]/following-sibling::label[1]"))
        assert fieldset.find_element(By.XPATH, f".//input[@value={value}]").is_selected()

    # ---- the app ----
    def sign_in(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.open("/login")
        # WebKit 2.50 leaves a service worker "installing" until the browser restarts when the page that
        # registered it navigates away while the worker is being started (docs/ios.md): let it install first.
        self.wait_until("() => navigator.serviceWorker.getRegistration()"
                        ".then(r => !!r && !!r.active && !r.installing)")
        self.fill("Username", username)
        self.fill("Password", password)
        self.tap(self.button("Sign in"))
        self.wait_until("() => !location.pathname.startsWith('/login') && document.readyState === 'complete'")

    def outbox(self) -> dict[str, Any]:
        return self.wait_until("""() => window.ITB && ITB.outboxSummary && ITB.outboxSummary().then(s => ({
            pending: s.pending, attention: s.attention, atRisk: s.atRisk, phase: s.state.phase,
            statuses: s.entries.map(e => e.status)}))""")

    def wait_for_service_worker(self, *paths: str) -> None:
        """The worker controls the page and holds copies of `paths` for use with no network."""
        self.wait_until("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)", timeout=30)
        for path in paths:
            self.wait_until("p => caches.open('itb-pages-v1').then(c => c.match(new URL(p, location.origin).href))"
                            ".then(Boolean)", path)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"webkit-{name}.png"
        self.run("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # painted
        self.driver.save_screenshot(str(path))
        return path

    def js_errors(self) -> list[str]:
        """JavaScript errors the browser logged (uncaught, or console.error) since it was opened."""
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if line.startswith("CONSOLE") and " ERROR " in line and not any(n in line for n in NETWORK_FAILURES)]

    def close(self) -> None:
        """Close the browser (WebKitWebDriver ends it with the session), then the driver, and wait until every
        process of that browser has exited: its network process holds the profile's IndexedDB and service
        worker registrations for a moment after, and a browser opened on the profile meanwhile finds neither
        (seen on a loaded machine). Each of its processes has the log open (its output), so none may."""
        if self.closed:
            return
        self.closed = True
        try:
            with contextlib.suppress(Exception):  # a browser that died already: the driver must still stop
                self.driver.quit()
        finally:
            self.service.stop()
        deadline = time.monotonic() + 20
        while (held := _holders(self.profile, self.log)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not held, f"the browser's processes are still running: {held}"


def _holders(*paths: Path) -> list[str]:
    """Processes with a file open at or under `paths` (from /proc): `pid name` each."""
    prefixes = tuple(str(p) for p in paths)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefixes):
                        found.append(f"{pid} {Path(f'/proc/{pid}/comm').read_text().strip()}")
                        break
    return found


@pytest.fixture
def phones(display: str, live_server: LiveServer, tmp_path: Path) -> Iterator[Callable[..., Phone]]:
    """Open a phone: `phones()` a new one, `phones("a")` the phone with profile "a" (again after it was closed:
    same storage, service worker and cookies). Every phone is closed at the end, and none may have logged a
    JavaScript error."""
    opened: list[Phone] = []
    env = {**os.environ, "DISPLAY": display}
    if os.geteuid() == 0:  # WebKit's web-process sandbox (bubblewrap) cannot run as root
        env["WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS"] = "1"

    def _open(profile: str = "phone") -> Phone:
        options = Options()
        options.binary_location = str(PHONE_BROWSER)
        options.set_capability("browserName", "itb-phone")
        log = tmp_path / f"{profile}.log"
        options.add_argument(f"--profile={tmp_path / profile}")
        options.add_argument(f"--log={log}")
        service = Service(executable_path=WEBKIT_DRIVER, env=env, log_output=str(tmp_path / "webkitwebdriver.log"))
        service.start()
        try:  # (webdriver.WebKitGTK would warn: it builds its connection the deprecated way)
            driver = webdriver.Remote(options=options, command_executor=RemoteConnection(
                client_config=ClientConfig(remote_server_addr=service.service_url)))
        except Exception:
            service.stop()
            raise
        driver.set_script_timeout(TIMEOUT + 5)
        phone = Phone(driver, service, live_server.url, tmp_path / profile, log)
        opened.append(phone)
        return phone

    yield _open
    errors = []
    for phone in opened:
        phone.close()
        errors += phone.js_errors()
    assert errors == [], f"JavaScript errors in WebKit: {errors}"
