"""Issue 9's three defects, each reproduced the way a nurse or PT met it (Debian's Chromium, 390x844):

1. a form opened again from the phone's cache reused the entry id of an earlier save, and the second save
   overwrote the first (an observation LOST);
2. Save pressed again while the entry was being sent made a second entry (an assessment DOUBLED);
3. a sign-in that expired between the session check and the push got 400, so the entries were set aside as
   "needs attention" instead of waiting for the user to sign in again.

Each test ends by counting rows in the server's database.
"""

from __future__ import annotations

import contextlib
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from e2e.conftest import (
    ServerDb,
    outbox_summary,
    sign_in,
    tap_grade,
    wait_for_service_worker,
    wait_until,
    wait_until_cached,
)


def _day_id(server_db: ServerDb, trial_id: int) -> int:
    return int(server_db.scalar("SELECT id FROM trial_days WHERE trial_id = :t AND day_number = 1", t=trial_id))


def _entries(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("() => ITBOutbox.all().then(rows => rows.map(r => ({id: r.id, status: r.status, "
                         "payload: r.payload})))")


def _send_now(page: Page) -> None:
    """Press the outbox's send trigger; the page may already be navigating to the saved record."""
    with contextlib.suppress(PlaywrightError):
        page.evaluate("() => { ITB.flushNow(); }")


def test_a_form_opened_again_from_the_cache_never_overwrites_the_earlier_save(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    day_id = _day_id(server_db, make_child("Rosa"))
    path = f"/days/{day_id}/observations"
    sign_in(page, "nurse")
    page.goto(path)
    wait_for_service_worker(page)
    page.reload()  # now through the worker, which keeps a copy for the ward
    wait_until_cached(page, path)

    context.set_offline(True)  # the ward's Wi-Fi drops
    page.get_by_label("Heart rate (/min)").fill("101")
    page.get_by_label("Notes (catheter site, urine output, tone and strength)").fill("first check")
    page.get_by_role("button", name="Save observations").click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")

    page.goto(path)  # the same child's form again: served from the phone's cache, same page as before
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("")
    page.get_by_label("Heart rate (/min)").fill("102")
    page.get_by_label("Notes (catheter site, urine output, tone and strength)").fill("second check")
    page.get_by_role("button", name="Save observations").click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")

    entries = _entries(page)
    assert sorted(e["payload"]["heart_rate"] for e in entries) == ["101", "102"]
    assert len({e["id"] for e in entries}) == 2
    expect(page.locator("#sync-status")).to_contain_text("2 on this phone")

    context.set_offline(False)
    _send_now(page)
    wait_until(page, "() => ITBOutbox.all().then(r => r.length === 2 && r.every(e => e.status === 'sent'))",
               timeout=20)
    rows = server_db.rows("SELECT heart_rate, notes FROM observations WHERE trial_day_id = :d ORDER BY heart_rate",
                          d=day_id)
    assert [tuple(r) for r in rows] == [(101, "first check"), (102, "second check")]


def test_save_pressed_again_while_sending_is_the_same_entry(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Sami")
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}/days/1/baseline")
    context.set_offline(True)
    tap_grade(page, "Hip adductors, Left", "2")
    page.get_by_label("Notes (optional)").fill("resave while sending")
    page.get_by_role("button", name="Save baseline").click()
    status = page.locator("[data-outbox-status]")
    expect(status).to_contain_text("Saved on this phone")

    held: list[Route] = []  # a slow link: the push leaves the phone, and its answer is held back
    context.route("**/api/sync", lambda route: held.append(route))
    try:
        context.set_offline(False)
        _send_now(page)
        wait_until(page, "() => ITBOutbox.all().then(r => r.some(e => e.status === 'sending'))")
        # The entry is claimed ("sending") before its push is compressed and sent: wait for the push itself.
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(50)  # (lets Playwright hand the intercepted request to the route)
        assert held, "the push did not go out"

        page.get_by_role("button", name="Save baseline").click()  # nothing changed: the same entry
        wait_until(page, "() => document.querySelector('[data-outbox-status]').textContent.length > 0")
        entries = _entries(page)
        assert len(entries) == 1, entries
        assert outbox_summary(page)["pending"] == 1
        expect(status).to_contain_text("Sending…")  # the send started elsewhere shows on the form
    finally:
        for route in held:
            route.continue_()
        context.unroute("**/api/sync")
    wait_until(page, "() => ITBOutbox.all().then(r => r.length === 1 && r[0].status === 'sent')", timeout=20)
    page.evaluate("() => ITB.flushNow()")  # anything left would go now
    assert server_db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t", t=trial_id) == 1


def test_sign_in_expiring_during_a_push_pauses_and_resumes_by_itself(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Tova")
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}/days/1/baseline")
    context.set_offline(True)
    tap_grade(page, "Hip adductors, Right", "1+")
    page.get_by_role("button", name="Save baseline").click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")

    expired: list[int] = []

    def expire_then_send(route: Route) -> None:
        """The session ends after GET /api/session answered and before the push reaches the server."""
        context.clear_cookies()
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
        expired.append(1)
        route.continue_(headers=headers)

    context.route("**/api/sync", expire_then_send)
    try:
        context.set_offline(False)
        _send_now(page)
        link = page.get_by_role("link", name="Sign in to send 1 entry")
        expect(link).to_be_visible(timeout=15_000)
    finally:
        context.unroute("**/api/sync")
    assert expired, "the push never went out"
    summary = outbox_summary(page)
    assert summary["pending"] == 1 and summary["attention"] == 0, summary  # waiting, not set aside
    assert server_db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t", t=trial_id) == 0

    link.click()  # signing in again is all it takes: no "Try again"
    page.get_by_label("Username").fill("pt")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    wait_until(page, "() => ITBOutbox.all().then(r => r.length === 1 && r[0].status === 'sent')", timeout=20)
    assert server_db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t", t=trial_id) == 1


def test_a_changed_form_is_a_new_entry_and_saving_it_again_changes_nothing(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    """Saved, corrected on the same screen and saved (two entries), then Save pressed again twice: still two."""
    day_id = _day_id(server_db, make_child("Una"))
    sign_in(page, "nurse")
    page.goto(f"/days/{day_id}/observations")
    context.set_offline(True)
    rate = page.get_by_label("Heart rate (/min)")
    rate.fill("90")
    page.get_by_role("button", name="Save observations").click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")
    rate.fill("95")
    for _ in range(3):
        page.get_by_role("button", name="Save observations").click()
        expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")
    assert sorted(e["payload"]["heart_rate"] for e in _entries(page)) == ["90", "95"]
    context.set_offline(False)
    _send_now(page)
    wait_until(page, "() => ITBOutbox.all().then(r => r.length === 2 && r.every(e => e.status === 'sent'))",
               timeout=20)
    rates = server_db.rows("SELECT heart_rate FROM observations WHERE trial_day_id = :d ORDER BY heart_rate", d=day_id)
    assert [r[0] for r in rates] == [90, 95]
