"""Nothing entered is lost or doubled: the network cut, the browser closed, the server killed mid-sync,
the session expired, one entry rejected, two phones editing the same record. Debian's Chromium, phone size.

Every test ends by counting rows in the server's database: each entry must be there exactly once.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from e2e.conftest import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    PHONE,
    SCREENSHOTS,
    ServerDb,
    app_for,
    check_accessibility,
    outbox_summary,
    sign_in,
    tap_grade,
    wait_for_service_worker,
    wait_until,
    wait_until_cached,
)
from e2e.server import LiveServer


def _save_on_phone(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")


def _assessments(server_db: ServerDb, trial_id: int) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in server_db.rows(
        "SELECT entry_id, phase, author_id FROM assessments WHERE trial_id = :t ORDER BY id", t=trial_id)]


def _user_id(server_db: ServerDb, username: str) -> int:
    return int(server_db.scalar("SELECT id FROM users WHERE username = :u", u=username))


@pytest.fixture
def persistent(playwright_instance: Playwright, live_server: LiveServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Open (and re-open) a browser on one profile directory: IndexedDB and the service worker persist."""
    opened: list[BrowserContext] = []

    def _open(offline: bool = False) -> BrowserContext:
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS,
            base_url=live_server.url, offline=offline, **PHONE)
        opened.append(ctx)
        return ctx

    yield _open
    for ctx in opened:
        with contextlib.suppress(Exception):  # already closed by the test
            ctx.close()


def test_offline_bedside_entries_survive_reload_and_a_closed_browser(
        persistent, make_child, server_db: ServerDb, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Iris")
    ctx = persistent()
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    sign_in(page, "pt")
    wait_for_service_worker(page)
    for path in ("/today", f"/trials/{trial_id}/days/1/baseline", f"/trials/{trial_id}/days/1/post-dose"):
        wait_until_cached(page, path)

    ctx.set_offline(True)  # the ward's Wi-Fi drops
    page.get_by_role("link", name="Baseline for Iris").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Iris S. · Day 1 · Baseline")
    tap_grade(page, "Hip adductors, Left", "2")
    tap_grade(page, "Hip adductors, Right", "1+")
    _save_on_phone(page, "Save baseline")
    expect(page.locator("[data-outbox-status]")).to_contain_text("will send when the network returns")

    page.goto("/today")
    page.get_by_role("link", name="Post-dose for Iris").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Iris S. · Day 1 · Post-dose")
    tap_grade(page, "Hip adductors, Left", "1")
    _save_on_phone(page, "Save post-dose")
    expect(page.locator("#sync-status")).to_contain_text("2 on this phone")

    page.reload()  # still offline: the form opens from the phone
    expect(page.get_by_role("heading", level=1)).to_have_text("Iris S. · Day 1 · Post-dose")
    assert outbox_summary(page)["pending"] == 2
    assert _assessments(server_db, trial_id) == []
    # The browser is closed with both entries only on the phone. The server is down too while the browser
    # restarts: Chromium's Background Sync would otherwise send them the moment it starts, before the
    # emulated network cut reaches the service worker.
    live_server.stop()
    ctx.close()

    try:
        ctx = persistent(offline=True)  # opened again, still with no network
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.goto("/outbox")
        expect(page.locator("#outbox-list .outbox-entry")).to_have_count(2)
        expect(page.locator("#outbox-list")).to_contain_text("Saved on this phone")
        check_accessibility(page, "outbox-offline")
    finally:
        live_server.start()
    ctx.set_offline(False)  # the network returns: the `online` event sends them
    expect(page.locator("#sync-status")).to_contain_text("Sent", timeout=15_000)
    expect(page.locator('#outbox-list .outbox-entry[data-state="sent"]')).to_have_count(2)
    check_accessibility(page, "outbox-sent")
    rows = _assessments(server_db, trial_id)
    assert [phase for _, phase, _ in rows] == ["baseline", "post_dose"]
    assert len({entry for entry, _, _ in rows}) == 2
    assert {author for _, _, author in rows} == {_user_id(server_db, "pt")}
    # Sent again (as a retry would): the server answers duplicate, still exactly two.
    page.evaluate("""() => ITBOutbox.all().then(rows => Promise.all(rows.map(
        r => ITBOutbox.update(r.id, {status: 'pending'})))).then(() => ITB.flushNow())""")
    expect(page.locator('#outbox-list .outbox-entry[data-state="sent"]')).to_have_count(2)
    assert len(_assessments(server_db, trial_id)) == 2


def _enqueue(page: Page, trial_id: int, n: int, author_id: int | None = None) -> None:
    """Put n real baseline entries in the outbox, as n saves of the "Add a repeat" form would."""
    page.evaluate("""([trialId, n, authorId]) => {
        const userId = authorId || parseInt(document.getElementById('sync-status').dataset.userId, 10);
        const jobs = [];
        for (let i = 0; i < n; i++) {
            jobs.push(ITBOutbox.enqueue({id: crypto.randomUUID(), kind: 'assessments.record', author_id: userId,
                device_id: ITB.deviceId, recorded_at: new Date().toISOString(), base_rev: null, form_version: 1,
                label: 'Bulk ' + i, payload: {trial_id: String(trialId), day_number: '1', phase: 'baseline',
                repeat: '1', 'mas.hip_adductors.left': ['0', '1', '1+', '2', '3', '4'][i % 6]}}));
        }
        return Promise.all(jobs);
    }""", [trial_id, n, author_id])


def test_server_killed_in_the_middle_of_a_sync(page: Page, live_server: LiveServer, make_child,
                                               server_db: ServerDb, context: BrowserContext) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Kai")
    sign_in(page, "pt")
    context.set_offline(True)
    _enqueue(page, trial_id, 120)
    assert outbox_summary(page)["pending"] == 120

    killed: list[str] = []

    def kill_on_push(request) -> None:  # type: ignore[no-untyped-def]
        if request.method == "POST" and request.url.endswith("/api/sync") and not killed:
            live_server.kill()  # SIGKILL while the batch is on its way in
            killed.append(request.url)

    page.on("request", kill_on_push)
    try:
        context.set_offline(False)
        deadline = time.monotonic() + 15
        while not killed and time.monotonic() < deadline:  # a send begun before the network was back fails
            page.evaluate("() => ITB.flushNow()")         # without a push: send again until one goes out
            time.sleep(0.2)
        assert killed, "the server was not killed during a push"
        # The push failed with the server: every entry is back to waiting, none lost, none marked sent.
        wait_until(page, "() => ITBOutbox.all().then(r => r.filter(e => e.status === 'pending').length === 120)",
                   timeout=30)  # (a loaded CI machine: the failed push must be noticed, however slowly)
    finally:
        page.remove_listener("request", kill_on_push)
        if killed:
            live_server.start()

    page.evaluate("() => ITB.flushNow()")
    wait_until(page, "() => window.ITB.outboxSummary().then(s => s.pending === 0 && s.attention === 0)", timeout=20)
    statuses = outbox_summary(page)["statuses"]
    assert statuses.count("sent") == 120
    rows = _assessments(server_db, trial_id)
    assert len(rows) == 120
    assert len({entry for entry, _, _ in rows}) == 120
    assert server_db.scalar("SELECT count(*) FROM sync_ledger WHERE entry_id IN "
                            "(SELECT entry_id FROM assessments WHERE trial_id = :t)", t=trial_id) == 120


def test_pushes_go_gzip_compressed_500_at_a_time(page: Page, make_child, server_db: ServerDb,
                                                context: BrowserContext) -> None:  # type: ignore[no-untyped-def]
    """Chromium compresses (CompressionStream): 600 entries go as two gzip pushes of 500 and 100, each a small
    fraction of its JSON, and every entry reaches the server once."""
    trial_id = make_child("Gus")
    sign_in(page, "pt")
    context.set_offline(True)
    _enqueue(page, trial_id, 600)
    pushes: list[tuple[str | None, int, int]] = []  # (Content-Encoding, bytes sent, entries inside)

    def on_push(route) -> None:  # type: ignore[no-untyped-def]
        raw = route.request.post_data_buffer or b""
        encoding = route.request.all_headers().get("content-encoding")
        body = json.loads(gzip.decompress(raw) if encoding == "gzip" else raw)
        pushes.append((encoding, len(raw), len(body["entries"])))
        route.continue_()

    context.route("**/api/sync", on_push)
    try:
        context.set_offline(False)
        page.evaluate("() => ITB.flushNow()")
        wait_until(page, "() => window.ITB.outboxSummary().then(s => s.pending === 0 && s.attention === 0)",
                   timeout=30)
    finally:
        context.unroute("**/api/sync")
    assert [(encoding, n) for encoding, _, n in pushes] == [("gzip", 500), ("gzip", 100)]
    assert pushes[0][1] < 40_000, f"500 entries took {pushes[0][1]} bytes compressed"
    rows = _assessments(server_db, trial_id)
    assert len(rows) == 600 and len({entry for entry, _, _ in rows}) == 600


def test_session_expires_while_offline_then_entries_go_after_signing_in(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Lena")
    sign_in(page, "pt")
    wait_for_service_worker(page)
    wait_until_cached(page, f"/trials/{trial_id}/days/1/baseline")
    context.set_offline(True)
    page.get_by_role("link", name="Baseline for Lena").click()
    tap_grade(page, "Hip flexors, Left", "1")
    _save_on_phone(page, "Save baseline")
    context.clear_cookies()  # the session expires while the phone is off the network
    context.set_offline(False)
    link = page.get_by_role("link", name="Sign in to send 1 entry")
    expect(link).to_be_visible(timeout=15_000)
    assert _assessments(server_db, trial_id) == []
    link.click()
    page.get_by_label("Username").fill("pt")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    wait_until(page, "() => window.ITB.outboxSummary().then(s => s.pending === 0)", timeout=15)
    rows = _assessments(server_db, trial_id)
    assert len(rows) == 1
    assert rows[0][2] == _user_id(server_db, "pt")  # attributed to the PT who made it


def test_entries_of_another_user_wait_for_that_user(page: Page, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    """A shared phone: the PT's entry is still on it when the nurse signs in. It waits for the PT."""
    trial_id = make_child("Noor")
    pt_id = _user_id(server_db, "pt")
    sign_in(page, "nurse")
    _enqueue(page, trial_id, 1, author_id=pt_id)
    expect(page.locator("#sync-status")).to_contain_text("1 wait for another user")
    page.evaluate("() => ITB.flushNow()")
    assert _assessments(server_db, trial_id) == []  # the nurse's session never sends the PT's entry
    page.get_by_role("button", name="Sign out").click()  # nothing of the nurse's is pending: no warning
    page.wait_for_url(re.compile("/login"))
    assert page.evaluate("ITBOutbox.all().then(r => r.length)") == 1
    sign_in(page, "pt")
    wait_until(page, "() => window.ITB.outboxSummary().then(s => s.pending === 0)", timeout=15)
    rows = _assessments(server_db, trial_id)
    assert len(rows) == 1
    assert rows[0][2] == pt_id


def test_rejected_entry_needs_attention_and_the_others_are_applied(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    closed_id = make_child("Omar")
    open_id = make_child("Pia")
    sign_in(page, "pt")
    context.set_offline(True)
    _enqueue(page, closed_id, 1)
    _enqueue(page, open_id, 2)
    server_db.execute("UPDATE trials SET status = 'stopped' WHERE id = :t", t=closed_id)  # stopped meanwhile
    context.set_offline(False)
    page.evaluate("() => ITB.flushNow()")
    page.goto("/outbox")
    attention = page.locator('#outbox-list .outbox-entry[data-state="rejected"]')
    expect(attention).to_have_count(1)
    expect(attention).to_contain_text("Needs attention")
    expect(attention).to_contain_text(re.compile("closed|stopped", re.IGNORECASE))
    expect(page.locator('#outbox-list .outbox-entry[data-state="sent"]')).to_have_count(2)
    expect(page.locator("#sync-status")).to_contain_text("1 needs attention")
    check_accessibility(page, "outbox-attention")
    with page.expect_download() as download:  # the last resort: the unsent entries as a file
        page.get_by_role("button", name="Export unsent entries as a file").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert [e["payload"]["trial_id"] for e in exported["entries"]] == [str(closed_id)]
    assert exported["entries"][0]["status"] == "rejected"
    assert _assessments(server_db, closed_id) == []
    assert len(_assessments(server_db, open_id)) == 2
    # Signing out with an entry still needing attention warns, and deletes nothing.
    messages: list[str] = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile("/login"))
    assert "1 entry is still only on this phone" in messages[0]
    assert page.evaluate("ITBOutbox.all().then(r => r.filter(e => e.status === 'rejected').length)") == 1


@pytest.fixture
def first_assessment(live_server: LiveServer, make_child) -> Iterator[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(trial id, assessment id) of a baseline already on the server (version 1)."""
    import uuid

    from server.assessments.schemas import AssessmentSchema
    from server.assessments.services import record_assessment
    from server.auth.models import User
    from server.extensions import db
    from server.web import clock
    from server.web.forms import load_form

    trial_id = make_child("Rosa")
    app = app_for(live_server)
    with app.app_context():
        data, errors = load_form(AssessmentSchema(), {"trial_id": str(trial_id), "day_number": "1",
                                                      "phase": "baseline", "mas.hip_adductors.left": "2"})
        assert data is not None, errors
        pt = db.session.query(User).filter_by(username="pt").one()
        saved = record_assessment(data, author_id=pt.id, recorded_at=clock.now(), entry_id=str(uuid.uuid4()))
        db.session.commit()
        yield trial_id, saved.id
        db.engine.dispose()


def test_two_phones_correct_the_same_version_the_second_is_kept_as_a_conflict(
        browser, live_server: LiveServer, first_assessment, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id, assessment_id = first_assessment
    phones = [browser.new_context(base_url=live_server.url, **PHONE) for _ in range(2)]
    try:
        pages = [ctx.new_page() for ctx in phones]
        for page, grade, why in zip(pages, ("1", "3"), ("Scored the wrong side", "Recount after rest"),
                                    strict=True):
            sign_in(page, "pt")
            page.goto(f"/assessments/{assessment_id}/correct")
            page.get_by_label("Reason for the correction").fill(why)
            tap_grade(page, "Hip adductors, Left", grade)
        for ctx in phones:
            ctx.set_offline(True)
        for page in pages:
            _save_on_phone(page, "Save correction")
        phones[0].set_offline(False)
        pages[0].evaluate("() => { ITB.flushNow(); }")  # the page may navigate to the saved record meanwhile
        expect(pages[0].get_by_text("Baseline saved (correction, version 2).")).to_be_visible(timeout=15_000)
        phones[1].set_offline(False)
        pages[1].evaluate("() => { ITB.flushNow(); }")
        expect(pages[1].locator("[data-outbox-status]")).to_contain_text("Needs attention (conflict)")
        expect(pages[1].locator("[data-outbox-status]")).to_contain_text("corrected on another phone first")

        # Both versions are visible to staff; nothing was overwritten.
        staff = pages[1]
        staff.goto("/sync/conflicts")
        expect(staff.get_by_role("heading", level=1)).to_have_text("Sync conflicts")
        card = staff.locator(".card").filter(has_text="assessments.correct")
        expect(card).to_have_count(1)
        card.get_by_text("The version from the phone").click()
        expect(card).to_contain_text("Recount after rest")
        check_accessibility(staff, "sync-conflicts")
    finally:
        for ctx in phones:
            ctx.close()
    versions = server_db.rows("SELECT version, correction_reason FROM assessments WHERE trial_id = :t "
                              "ORDER BY version", t=trial_id)
    assert [tuple(v) for v in versions] == [(1, None), (2, "Scored the wrong side")]
    assert server_db.scalar("SELECT count(*) FROM sync_conflicts WHERE kind = 'assessments.correct' "
                            "AND CAST(payload AS TEXT) LIKE '%Recount after rest%'") == 1


def test_a_new_version_never_takes_over_mid_entry_the_user_is_offered_a_reload(
        page: Page, live_server: LiveServer, make_child) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Uma")
    sign_in(page, "pt")
    wait_for_service_worker(page)
    page.goto(f"/trials/{trial_id}/days/1/baseline")
    tap_grade(page, "Hip adductors, Left", "2")  # mid-entry
    old = page.evaluate("() => navigator.serviceWorker.controller.scriptURL")
    live_server.stop()
    live_server.env["APP_RELEASE"] = "e2e-next"
    try:
        live_server.start()
        page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
        banner = page.get_by_role("status").filter(has_text="A new version of the app is ready.")
        expect(banner).to_be_visible(timeout=15_000)
        # Not taken over: the page was not reloaded and what was tapped is still there.
        expect(page.get_by_role("group", name="Hip adductors, Left", exact=True)
               .get_by_role("radio", name="2", exact=True)).to_be_checked()
        assert page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")
        check_accessibility(page, "update-offered")
        with page.expect_navigation():
            page.get_by_role("button", name="Reload to update").click()
        wait_until(page, "() => navigator.serviceWorker.getRegistration().then(r => !r.waiting && !!r.active)")
        assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL") == old
    finally:
        live_server.env.pop("APP_RELEASE", None)
        live_server.stop()
        live_server.start()


def test_offline_copies_keep_page_and_fragment_apart(page: Page, context: BrowserContext) -> None:
    """/ward answers a whole page, or its rows to htmx (Vary: HX-Request): offline, each gets its own copy."""
    sign_in(page, "nurse")
    wait_for_service_worker(page)
    fetch = """h => fetch('/ward', {headers: h ? {'HX-Request': 'true'} : {}}).then(r => r.text())"""
    online_page, online_rows = page.evaluate(fetch, False), page.evaluate(fetch, True)
    assert "<html" in online_page and "<html" not in online_rows
    context.set_offline(True)
    offline_page, offline_rows = page.evaluate(fetch, False), page.evaluate(fetch, True)
    assert "<html" in offline_page and "Ward schedule" in offline_page
    assert "<html" not in offline_rows and offline_rows.strip()
    context.set_offline(False)


def test_a_copy_shown_for_want_of_network_says_so_with_its_time(page: Page, context: BrowserContext) -> None:
    """The nurse's ward opened with no network is the worker's copy: a notice at the top says so, with the time
    the copy was made, and that what is due may have changed. Online, there is no such notice."""
    sign_in(page, "nurse")
    wait_for_service_worker(page)
    page.goto("/ward")
    notice = page.get_by_role("status").filter(has_text="No connection to the server: this is the copy saved at")
    expect(notice).to_have_count(0)
    made = page.evaluate("() => new Date().toTimeString().slice(0, 5)")
    context.set_offline(True)
    try:
        page.reload()
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("What is due may have changed since; check before acting.")
        assert made in notice.inner_text() or page.evaluate("() => new Date().toTimeString().slice(0, 5)") \
            in notice.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "ward-offline-copy.png"))
        page.goto("/outbox")  # what the phone itself holds is current: no notice there
        expect(page.get_by_role("heading", name="On this phone")).to_be_visible()
        expect(notice).to_have_count(0)
    finally:
        context.set_offline(False)
    page.goto("/ward")
    expect(page.get_by_role("heading", name="Ward schedule")).to_be_visible()
    expect(notice).to_have_count(0)


def test_a_page_kept_from_an_earlier_release_gets_this_releases_bundles(page: Page, context: BrowserContext) -> None:
    """Built files are named by their content (web/assets.py), so a page the worker stored before an update names
    that release's files, which neither the server nor the new worker has any more. Offline and online alike,
    the worker answers with this release's bundle of the same name, and that page still works."""
    sign_in(page, "pt")
    wait_for_service_worker(page)
    current = page.evaluate("() => document.querySelector('script[src*=\"/static/dist/common.\"]').src")
    older = re.sub(r"\.[0-9a-f]{8}\.js$", ".0123abcd.js", current)
    assert older != current
    fetch = "u => fetch(u).then(r => r.text().then(t => [r.status, t]))"
    status, bundle = page.evaluate(fetch, current)
    assert status == 200 and "ITB" in bundle
    for offline in (True, False):
        context.set_offline(offline)
        assert page.evaluate(fetch, older) == [200, bundle], f"offline={offline}"
    # A name that is no bundle of this release is not made up: the server's 404 comes through.
    assert page.evaluate("u => fetch(u).then(r => r.status)", "/static/dist/nothing.0123abcd.js") == 404


def test_outbox_shows_storage_persistence_and_warns_of_entries_waiting_too_long(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    """The same as on WebKit (e2e/webkit/test_webkit.py): persistence asked and shown, entries at risk of being
    cleared by the browser after AT_RISK_AFTER_HOURS (outbox-core.js) warned of on /outbox and in the header."""
    trial_id = make_child("Tove")
    baseline = f"/trials/{trial_id}/days/1/baseline"
    sign_in(page, "pt")
    wait_for_service_worker(page)
    wait_until_cached(page, baseline)
    page.goto("/outbox")
    expect(page.locator("#outbox-offline")).to_contain_text("With no network: ready.")
    # Headless Chromium, like Safari in a tab, does not promise to keep the storage.
    expect(page.locator("#outbox-storage")).to_contain_text("asked to keep the app's storage; this browser has "
                                                            "not promised to")
    context.set_offline(True)
    page.goto(baseline)
    tap_grade(page, "Hip adductors, Left", "3")
    _save_on_phone(page, "Save baseline")
    page.goto("/outbox")
    expect(page.locator("#outbox-list .outbox-entry")).to_have_count(1)
    expect(page.locator("#outbox-risk")).to_have_text("")
    page.evaluate("""() => ITBOutbox.all().then(rows => Promise.all(rows.map(r => ITBOutbox.update(r.id,
        {saved_at: new Date(Date.now() - 25 * 3600 * 1000).toISOString()}))))""")  # a day later, not opened
    page.reload()
    expect(page.locator("#outbox-risk")).to_contain_text("1 entry has waited on this phone for over 24 hours")
    expect(page.locator("#sync-status").get_by_role("link", name="1 waiting over 24 h")).to_be_visible()
    expect(page.locator(".outbox-entry .card-risk")).to_have_text("Waiting over 24 h")
    check_accessibility(page, "outbox-at-risk")
    context.set_offline(False)
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator('#outbox-list .outbox-entry[data-state="sent"]')).to_have_count(1)
    expect(page.locator("#outbox-risk")).to_have_text("")
    expect(page.locator("#sync-status .sync-risk")).to_have_count(0)
    assert len(_assessments(server_db, trial_id)) == 1
