"""Outbox states a person can act on (issue 13, finding 4), at 390x844 in Debian's Chromium:
a form the server refuses while it is open shows the errors beside the fields and leaves nothing on the phone;
on /outbox, "Try again" only where a retry can succeed (and it says what happened), a conflict offers both
versions, and values the server refused are listed instead of offered for a retry that must fail."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import ServerDb, check_accessibility, outbox_summary, sign_in, tap_grade, wait_until


def test_an_empty_save_online_shows_the_error_on_the_form_and_leaves_no_entry(
        page: Page, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Vera")
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}/days/1/baseline")
    page.get_by_label("Notes (optional)").fill("kept after the refusal")
    page.get_by_role("button", name="Save baseline").click()
    status = page.locator("[data-outbox-status]")
    expect(status).to_have_text("Not saved: correct the fields marked, then save again.")
    expect(page.get_by_text("Nothing was recorded: score at least one item")).to_be_visible()
    expect(page.get_by_label("Notes (optional)")).to_have_value("kept after the refusal")
    wait_until(page, "() => ITBOutbox.all().then(r => r.length === 0)")
    wait_until(page, "() => Object.keys(localStorage).some(k => k.startsWith('itb.draft:') && "
                     "localStorage.getItem(k).includes('kept after the refusal'))")  # a closed tab loses nothing
    assert outbox_summary(page)["attention"] == 0

    tap_grade(page, "Hip adductors, Left", "1")
    page.get_by_role("button", name="Save baseline").click()
    page.wait_for_url(lambda url: "/assessments/" in url)
    expect(page.locator("#sync-status")).not_to_contain_text("attention")
    statuses = outbox_summary(page)["statuses"]
    assert statuses == ["sent"], statuses
    assert server_db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t", t=trial_id) == 1


def test_outbox_offers_only_the_actions_that_can_work_and_says_what_happened(
        page: Page, context: BrowserContext, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    closed_id = make_child("Wren")
    open_id = make_child("Xavi")
    sign_in(page, "pt")
    page.goto("/outbox")
    context.set_offline(True)
    page.evaluate("""([closedId, openId]) => {
        const user = parseInt(document.getElementById('sync-status').dataset.userId, 10);
        const base = {kind: 'assessments.record', author_id: user, device_id: ITB.deviceId, base_rev: null,
                      form_version: 1, recorded_at: new Date().toISOString(),
                      hidden_fields: ['trial_id', 'day_number', 'phase'],  // as the form records them
                      field_labels: {'mas.hip_adductors.left': 'Hip adductors, Left'}};
        const p = (t, grade) => ({trial_id: String(t), day_number: '1', phase: 'baseline',
                                  'mas.hip_adductors.left': grade});
        return Promise.all([
          ITBOutbox.enqueue({...base, id: crypto.randomUUID(), label: 'Closed trial', payload: p(closedId, '2')}),
          ITBOutbox.enqueue({...base, id: crypto.randomUUID(), label: 'Bad grade', payload: p(openId, '7')}),
          ITBOutbox.enqueue({...base, id: '11111111-2222-4333-8444-' + String(openId).padStart(12, '0'),
                             label: 'Reused id', payload: p(openId, '1')})]);
    }""", [closed_id, open_id])
    server_db.execute("UPDATE trials SET status = 'stopped' WHERE id = :t", t=closed_id)
    context.set_offline(False)
    page.evaluate("() => ITB.flushNow()")
    wait_until(page, "() => ITBOutbox.all().then(r => r.filter(e => e.status === 'sent').length === 1)")
    # The same id again with other content: the server keeps both versions and answers conflict.
    page.evaluate("""() => ITBOutbox.all().then(rows => {
        const sent = rows.find(e => e.status === 'sent');
        return ITBOutbox.update(sent.id, {status: 'pending', payload: {...sent.payload,
                                          'mas.hip_adductors.left': '3'}});
    }).then(() => ITB.flushNow())""")

    closed = page.locator(".outbox-entry").filter(has_text="Closed trial")
    bad = page.locator(".outbox-entry").filter(has_text="Bad grade")
    reused = page.locator(".outbox-entry").filter(has_text="Reused id")
    expect(reused).to_have_attribute("data-state", "conflict")
    expect(reused.get_by_role("link", name="Open both versions")).to_have_attribute("href", "/sync/conflicts")
    expect(reused.get_by_role("button", name="Try again")).to_have_count(0)
    expect(bad).to_have_attribute("data-state", "rejected")
    expect(bad).to_contain_text("Hip adductors, Left: Choose a grade")
    expect(bad.get_by_role("button", name="Try again")).to_have_count(0)
    expect(bad.get_by_role("button", name="Discard")).to_be_visible()
    expect(closed).to_have_attribute("data-state", "rejected")
    check_accessibility(page, "outbox-actions")

    closed.get_by_role("button", name="Try again").click()  # still stopped: it says so
    expect(page.locator("#outbox-message")).to_contain_text("Still refused")
    server_db.execute("UPDATE trials SET status = 'active' WHERE id = :t", t=closed_id)  # reopened
    page.locator(".outbox-entry").filter(has_text="Closed trial").get_by_role("button", name="Try again").click()
    expect(page.locator("#outbox-message")).to_contain_text("Sent")
    assert server_db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t", t=closed_id) == 1
