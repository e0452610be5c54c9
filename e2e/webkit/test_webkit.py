"""WebKit (Safari's engine, so every browser on an iPhone) at 390x844: sign-in for each role, and the offline
flow with what WebKit lacks. There is no Background Sync and no network emulation here: "no network" is the
server stopped (the phone's Wi-Fi is up, navigator.onLine stays true, as on a ward whose network cannot
reach the server), and nothing but the page's own triggers (Outbox.sendTriggers: page load, the timer,
online, visibilitychange) sends the outbox. Every offline test ends by counting rows in the server's
database: each entry exactly once. The same checks on Chromium: e2e/test_offline_sync.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.alert import Alert

from e2e.conftest import ServerDb
from e2e.server import LiveServer
from e2e.test_foundation import HOMES
from e2e.webkit.conftest import Phone

RETRY_SECONDS = 30  # outbox-core.js RETRY_EVERY_MS: the page's own timer


@pytest.mark.parametrize(("username", "path", "heading"), HOMES)
def test_each_role_signs_in_to_its_home_and_signs_out(phones, username: str, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    phone = phones()
    phone.sign_in(username)
    assert phone.path == path
    phone.wait_heading(heading)
    assert phone.run("() => [innerWidth, innerHeight]") == [390, 844]
    assert "AppleWebKit" in phone.run("() => navigator.userAgent")
    assert phone.run("() => 'SyncManager' in window") is False  # as in Safari: no Background Sync
    phone.tap(phone.button("Sign out"))
    phone.wait_until("() => location.pathname === '/login'")
    phone.open(path)
    phone.wait_until("() => location.pathname === '/login'")


@contextlib.contextmanager
def server_unreachable(live_server: LiveServer) -> Iterator[None]:
    """The ward's network cannot reach the server (killed at once: no graceful wait for the browser's kept-alive
    connections); it is back afterwards, whatever happened."""
    live_server.kill()
    try:
        yield
    finally:
        live_server.start()


def _assessments(server_db: ServerDb, trial_id: int) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in server_db.rows(
        "SELECT entry_id, phase, author_id FROM assessments WHERE trial_id = :t ORDER BY id", t=trial_id)]


def _user_id(server_db: ServerDb, username: str) -> int:
    return int(server_db.scalar("SELECT id FROM users WHERE username = :u", u=username))


def _pt_with_a_child(phones, make_child, first: str, *cached: str) -> tuple[Phone, int]:  # type: ignore[no-untyped-def]
    """A new child on day 1 and a phone signed in as the PT, whose worker holds the day's `cached` forms
    ("baseline", "post-dose") and pages."""
    trial_id = make_child(first)
    phone = phones()
    phone.sign_in("pt")
    phone.wait_for_service_worker(*(f"/trials/{trial_id}/days/1/{p}" if p in ("baseline", "post-dose") else p
                                    for p in cached))
    return phone, trial_id


def _save_on_phone(phone: Phone, button: str) -> None:
    phone.tap(phone.button(button))
    phone.wait_text("[data-outbox-status]", "Saved on this phone")


def test_pt_offline_baseline_and_post_dose_survive_reload_and_a_closed_browser_then_arrive_once(
        phones, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Ines")
    baseline, post_dose = f"/trials/{trial_id}/days/1/baseline", f"/trials/{trial_id}/days/1/post-dose"
    phone = phones("pt")
    phone.sign_in("pt")
    # /outbox too: the page asks the worker to keep it, and the browser reopened below opens it with no network.
    phone.wait_for_service_worker("/today", baseline, post_dose, "/outbox")

    with server_unreachable(live_server):
        phone.tap(phone.link("Baseline for Ines"))
        phone.wait_heading("Ines S. · Day 1 · Baseline")
        phone.tap_grade("Hip adductors, Left", "2")
        phone.tap_grade("Hip adductors, Right", "1+")
        phone.screenshot("baseline-form")
        _save_on_phone(phone, "Save baseline")
        phone.wait_text("[data-outbox-status]", "will send when the network returns")  # onLine is still true
        phone.screenshot("baseline-saved-offline")

        phone.open("/today")  # from the phone's copy
        phone.tap(phone.link("Post-dose for Ines"))
        phone.wait_heading("Ines S. · Day 1 · Post-dose")
        phone.tap_grade("Hip adductors, Left", "1")
        _save_on_phone(phone, "Save post-dose")
        phone.wait_text("#sync-status", "2 on this phone")

        phone.driver.refresh()  # still unreachable: the form opens from the phone
        phone.wait_heading("Ines S. · Day 1 · Post-dose")
        assert phone.outbox()["pending"] == 2
        assert _assessments(server_db, trial_id) == []

        phone.close()  # the browser is closed with both entries only on the phone
        phone = phones("pt")  # and opened again on the same profile, the server still unreachable
        phone.open("/outbox")
        # Served by the worker from the phone's copy (a browser just reopened starts its worker from disk first).
        phone.wait_heading("On this phone", timeout=45)
        phone.wait_count("#outbox-list .outbox-entry", 2)
        phone.wait_text("#outbox-list", "Saved on this phone")
        phone.wait_text("#sync-status", "2 on this phone")
        phone.wait_text("#outbox-storage", "Storage:")
        phone.screenshot("outbox-pending")
        assert _assessments(server_db, trial_id) == []

    # The server is back. Nothing is pressed: in WebKit only the page's own timer can send them now.
    phone.wait_count('#outbox-list .outbox-entry[data-state="sent"]', 2, timeout=RETRY_SECONDS + 15)
    phone.wait_text("#sync-status", "Sent")
    phone.screenshot("outbox-sent")
    rows = _assessments(server_db, trial_id)
    assert [phase for _, phase, _ in rows] == ["baseline", "post_dose"]
    assert len({entry for entry, _, _ in rows}) == 2
    assert {author for _, _, author in rows} == {_user_id(server_db, "pt")}
    # Sent again (as a retry after a lost answer would be): the server answers duplicate, still exactly two.
    phone.run("""() => ITBOutbox.all().then(rows => Promise.all(rows.map(
        r => ITBOutbox.update(r.id, {status: 'pending'})))).then(() => ITB.flushNow())""")
    phone.wait_count('#outbox-list .outbox-entry[data-state="sent"]', 2)
    assert len(_assessments(server_db, trial_id)) == 2


def test_nurse_observation_offline_arrives_once_when_the_app_opens_again(
        phones, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Noa")
    day_id = server_db.scalar("SELECT id FROM trial_days WHERE trial_id = :t AND day_number = 1", t=trial_id)
    path = f"/days/{day_id}/observations"
    phone = phones("nurse")
    phone.sign_in("nurse")
    phone.open(path)
    phone.wait_for_service_worker()
    phone.driver.refresh()  # now through the worker, which keeps a copy for the ward
    phone.wait_for_service_worker(path)

    with server_unreachable(live_server):
        phone.fill("Heart rate (/min)", "97")
        phone.fill("Notes (catheter site, urine output, tone and strength)", "webkit offline check")
        _save_on_phone(phone, "Save observations")
        phone.driver.refresh()  # the form again, from the phone
        phone.wait_until("() => document.getElementById('heart_rate') !== null")
        assert phone.outbox()["pending"] == 1
    assert server_db.scalar("SELECT count(*) FROM observations WHERE trial_day_id = :d", d=day_id) == 0

    phone.driver.refresh()  # the app opened again where the server is reachable: sent on load
    phone.wait_until("() => ITBOutbox.all().then(r => r.length === 1 && r[0].status === 'sent')")
    rows = server_db.rows("SELECT heart_rate, notes, author_id FROM observations WHERE trial_day_id = :d",
                          d=day_id)
    assert [tuple(r) for r in rows] == [(97, "webkit offline check", _user_id(server_db, "nurse"))]


def _dialog(phone: Phone, timeout: float = 10) -> Alert:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(NoAlertPresentException):
            alert = phone.driver.switch_to.alert
            _ = alert.text  # raises while there is none
            return alert
        time.sleep(0.1)
    raise AssertionError("no dialog")


def test_sign_out_with_pending_entries_warns_keeps_them_and_they_go_after_signing_in_again(
        phones, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    phone, trial_id = _pt_with_a_child(phones, make_child, "Sami", "baseline")
    baseline = f"/trials/{trial_id}/days/1/baseline"
    with server_unreachable(live_server):
        phone.open(baseline)
        phone.tap_grade("Hip flexors, Left", "1")
        _save_on_phone(phone, "Save baseline")
        phone.tap(phone.button("Sign out"))
        alert = _dialog(phone)
        assert "1 entry is still only on this phone" in alert.text
    alert.accept()  # the server is back: the sign-out goes through, the entry stays
    phone.wait_until("() => location.pathname === '/login' && document.readyState === 'complete'")
    assert phone.run("() => ITBOutbox.all().then(r => r.map(e => e.status))") == ["pending"]
    assert _assessments(server_db, trial_id) == []
    phone.sign_in("pt")  # sent by the page's load trigger, as the PT who made it
    phone.wait_until("() => ITBOutbox.all().then(r => r.length === 1 && r[0].status === 'sent')")
    rows = _assessments(server_db, trial_id)
    assert len(rows) == 1 and rows[0][2] == _user_id(server_db, "pt")


def test_a_new_version_never_takes_over_mid_entry_the_user_is_offered_a_reload(
        phones, live_server: LiveServer, make_child) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Uma")
    phone = phones()
    phone.sign_in("pt")
    phone.wait_for_service_worker()
    phone.open(f"/trials/{trial_id}/days/1/baseline")
    phone.tap_grade("Hip adductors, Left", "2")  # mid-entry
    phone.run("() => { document.documentElement.dataset.before = 'update'; }")
    live_server.kill()
    live_server.env["APP_RELEASE"] = "e2e-webkit-next"
    try:
        live_server.start()
        phone.run("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
        phone.wait_text("#update-banner[role=status]", "A new version of the app is ready.")
        # Not taken over: the page was not reloaded and what was tapped is still there.
        assert phone.run("() => document.documentElement.dataset.before") == "update"
        assert phone.run("() => document.querySelector('input[name=\"mas.hip_adductors.left\"]:checked').value") == "2"
        assert phone.run("() => navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")
        phone.run("() => window.scrollTo(0, 0)")  # the banner is at the top of the page
        phone.screenshot("update-offered")
        phone.tap(phone.button("Reload to update"))
        phone.wait_until("() => !document.documentElement.dataset.before && document.readyState === 'complete'")
        phone.wait_until("() => navigator.serviceWorker.getRegistration().then(r => !r.waiting && !!r.active)")
    finally:
        live_server.env.pop("APP_RELEASE", None)
        live_server.kill()
        live_server.start()


def test_outbox_shows_storage_persistence_and_warns_of_entries_waiting_too_long(
        phones, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    phone, trial_id = _pt_with_a_child(phones, make_child, "Tove", "baseline", "/outbox")
    baseline = f"/trials/{trial_id}/days/1/baseline"
    phone.open("/outbox")
    phone.wait_text("#outbox-offline", "With no network: ready.")
    # Asked with navigator.storage.persist(); WebKitGTK, like Safari in a tab, does not promise it.
    phone.wait_text("#outbox-storage", "asked to keep the app's storage; this browser has not promised to")
    assert phone.run("() => document.getElementById('outbox-storage').dataset.persisted") == "false"
    with server_unreachable(live_server):
        phone.open(baseline)
        phone.tap_grade("Hip adductors, Left", "3")
        _save_on_phone(phone, "Save baseline")
        phone.open("/outbox")
        phone.wait_count("#outbox-list .outbox-entry", 1)
        assert phone.text("#outbox-risk") == ""
        # A day later, the app not opened meanwhile: the entry has waited 25 hours.
        phone.run("""() => ITBOutbox.all().then(rows => Promise.all(rows.map(r => ITBOutbox.update(r.id,
            {saved_at: new Date(Date.now() - 25 * 3600 * 1000).toISOString()}))))""")
        phone.driver.refresh()
        phone.wait_text("#outbox-risk", "1 entry has waited on this phone for over 24 hours")
        phone.wait_text("#sync-status a.sync-risk", "1 waiting over 24 h")
        phone.wait_text(".outbox-entry .card-risk", "Waiting over 24 h")
        phone.screenshot("outbox-at-risk")
    phone.tap(phone.button("Sync now"))
    phone.wait_count('#outbox-list .outbox-entry[data-state="sent"]', 1)
    phone.wait_until("() => document.getElementById('outbox-risk').textContent === '' && "
                     "!document.querySelector('#sync-status a.sync-risk')")
    assert len(_assessments(server_db, trial_id)) == 1


def test_a_page_left_while_it_reads_the_outbox_never_blocks_the_next_pages_save(
        phones, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """WebKit keeps the page just left in its back/forward cache, frozen with its IndexedDB transactions
    unfinished; one of those blocked every write of the next page, so its Save never finished (seen in about
    one quick save in three, after the save's own send). The outbox abandons them when the page goes into that
    cache. Here the page leaves while it reads the outbox, as it does after any change (the header count)."""
    phone, trial_id = _pt_with_a_child(phones, make_child, "Vale", "baseline", "post-dose")
    # Two of each phase on day 1: the PT means the second of each as a repeat (one per phase otherwise).
    forms = [(f"/trials/{trial_id}/days/1/baseline?repeat=1", "Save baseline"),
             (f"/trials/{trial_id}/days/1/post-dose?repeat=1", "Save post-dose")]
    for path, _ in forms:  # opened once online, so the worker keeps them too
        phone.open(path)
        phone.wait_for_service_worker(path)
    with server_unreachable(live_server):
        for i, grade in enumerate(["0", "1", "1+", "2"]):
            path, button = forms[i % 2]
            # The page reads the outbox as it goes (as when another tab's change arrives): unfinished reads.
            phone.driver.execute_script("window.addEventListener('pagehide', () => { ITB.outboxSummary(); }); "
                                        "location.assign(arguments[0]);", path)
            phone.wait_until("p => location.pathname + location.search === p && "
                             "document.readyState === 'complete' && !!window.ITBOutbox", path)
            phone.tap_grade("Hip adductors, Left", grade)
            _save_on_phone(phone, button)
    phone.driver.refresh()
    phone.wait_until("() => ITBOutbox.all().then(r => r.length === 4 && r.every(e => e.status === 'sent'))")
    assert len(_assessments(server_db, trial_id)) == 4
