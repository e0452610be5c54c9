"""The PT's day as it really happens (issue 13, findings 1-3), at 390x844 in Debian's Chromium: the list shows
what happened (dose given or held), a baseline made after the dose is flagged with the times and left out of the
comparison until the PT confirms it, and a day and phase already done opens as done, with Correct and Add a
repeat; Back then Save, or a form opened before, never makes a second record unless the PT means it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import ServerDb, app_for, check_accessibility, sign_in, tap_grade, wait_until, wait_until_cached
from e2e.server import LiveServer

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for record_dose: 00:00 today counts as past at any hour


def _staff(app: Any) -> dict[str, int]:
    from sqlalchemy import select

    from server.auth.models import User
    from server.extensions import db

    with app.app_context():
        return {u.username: u.id for u in db.session.scalars(select(User))}


def _day_one(app: Any, trial_id: int) -> int:
    from server.extensions import db
    from server.trials.models import Trial

    with app.app_context():
        return db.session.get(Trial, trial_id).days[0].id


def _give_at_midnight(app: Any, trial_id: int) -> None:
    """The day's dose, given at 00:00 today: whatever the hour the test runs, a baseline saved now is after it."""
    from server.dosing.services import record_dose
    from server.extensions import db

    staff, day_id = _staff(app), _day_one(app, trial_id)
    with app.app_context():
        record_dose(day_id, {"given_time": time(0, 0), "dose_mcg": Decimal("50"), "route": "catheter",
                             "given_by_id": staff["surgeon"], "checked_by_id": staff["nurse"]},
                    recorded_by_id=staff["surgeon"], now=LATER)
        db.session.commit()


def _hold(app: Any, trial_id: int) -> None:
    from server.dosing.services import hold_dose
    from server.extensions import db

    staff, day_id = _staff(app), _day_one(app, trial_id)
    with app.app_context():
        hold_dose(day_id, {"action": "hold", "reason": "Drowsy this morning", "base_revision": 1},
                  author_id=staff["surgeon"])
        db.session.commit()


def _baseline_by_another_pt(app: Any, trial_id: int) -> None:
    from server.assessments.schemas import AssessmentSchema
    from server.assessments.services import record_assessment
    from server.extensions import db
    from server.web.forms import load_form
    from tests.assessments.conftest import form

    with app.app_context():
        data, errors = load_form(AssessmentSchema(), form(trial_id))  # type: ignore[arg-type]
        assert errors == {} and data is not None
        record_assessment(data, author_id=_staff(app)["pt"], recorded_at=datetime.now(UTC),
                          entry_id=str(uuid.uuid4()))
        db.session.commit()


def _count(db: ServerDb, trial_id: int, phase: str = "baseline") -> int:
    return int(db.scalar("SELECT count(*) FROM assessments WHERE trial_id = :t AND phase = :p", t=trial_id, p=phase))


def _card(page: Page, first_name: str) -> Any:
    return page.locator("li.card", has=page.get_by_text(f"{first_name} ", exact=False)).filter(
        has=page.locator(".card-title", has_text=first_name))


def test_findings_1_and_3_the_list_shows_what_happened_and_a_late_baseline_is_flagged_until_confirmed(
        page: Page, make_child, live_server: LiveServer, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    app = app_for(live_server)
    given, held = make_child("Gwen", "Dosed"), make_child("Hal", "Held")
    _give_at_midnight(app, given)
    _hold(app, held)
    sign_in(page, "pt")
    page.goto("/today")
    gwen, hal = _card(page, "Gwen"), _card(page, "Hal")
    expect(gwen).to_contain_text("Dose given 50 mcg at 00:00 by")
    expect(gwen).not_to_contain_text("planned")
    expect(hal).to_contain_text("Dose held: Drowsy this morning")
    expect(hal).to_contain_text("No post-dose: no dose today")

    # Finding 1: a baseline saved now, after the 00:00 dose, is flagged on save with the times.
    gwen.get_by_role("link", name="Baseline for Gwen").click()
    tap_grade(page, "Hip adductors, Left", "3")
    tap_grade(page, "Hip adductors, Right", "3")
    page.get_by_role("button", name="Save baseline").click()
    flag = page.locator("#timing-flag")
    expect(flag).to_contain_text("AFTER the dose")
    expect(flag).to_contain_text("the dose was given at")
    expect(flag).to_contain_text("left out of the day's comparison")
    check_accessibility(page, "pt-late-baseline-flagged")

    page.goto("/today")
    expect(gwen).to_contain_text("Check the phase:")
    ids = page.eval_on_selector_all("li.card[data-needs]", "els => els.map(e => e.textContent)")
    order = [n for n, text in enumerate(ids) for who in ("Gwen", "Hal") if f"{who} " in text]
    assert order == sorted(order) and len(order) == 2, order  # the flagged child before the one with nothing due

    page.goto(f"/trials/{given}/assessments/compare")
    expect(page.get_by_text("Left out of the comparison until the PT confirms or corrects it")).to_be_visible()
    page.get_by_role("link", name="Confirm or correct it").first.click()
    page.get_by_role("button", name="Save").click()  # nothing chosen: errors beside the fields
    expect(page.get_by_text("Choose: keep it as recorded, or move it to the other phase.")).to_be_visible()
    page.get_by_label("It is a baseline as recorded: use it in the comparison").check()
    page.get_by_label("Reason").fill("Taken before the dose; the phone was saved late.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#timing-flag")).to_contain_text("The PT confirmed it as recorded")
    page.goto(f"/trials/{given}/assessments/compare")
    expect(page.get_by_text("confirmed by the PT")).to_be_visible()
    expect(page.get_by_text("Left out of the comparison")).to_have_count(0)
    assert _count(server_db, given) == 2  # the flagged version and the confirmation: append-only


def test_finding_2_done_opens_as_done_back_then_save_is_the_same_entry_and_a_repeat_is_meant(
        page: Page, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Ines", "Once")
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}/days/1/post-dose")
    tap_grade(page, "Hip adductors, Left", "2")
    page.get_by_role("button", name="Save post-dose").click()
    expect(page.get_by_role("status").filter(has_text="Post-dose saved")).to_be_visible()
    page.go_back()
    page.wait_for_load_state()
    save = page.get_by_role("button", name="Save post-dose")
    if save.count():  # the browser gave the form back: saving it again is the same entry
        save.click()
        page.wait_for_url("**/assessments/**")
    page.wait_for_timeout(500)
    assert _count(server_db, trial_id, "post_dose") == 1

    page.goto(f"/trials/{trial_id}/days/1/post-dose")
    expect(page.get_by_text("Post-dose for day 1 is already saved")).to_be_visible()
    expect(page.get_by_role("link", name="Correct", exact=False).first).to_be_visible()
    check_accessibility(page, "pt-post-dose-already-saved")
    page.get_by_role("link", name="Add a repeat (e.g. a second post-dose at 6 h)").click()
    expect(page.get_by_label("This is a repeat: keep it as a second post-dose assessment for day 1")).to_be_checked()
    tap_grade(page, "Hip adductors, Left", "1")
    page.get_by_role("button", name="Save post-dose").click()
    expect(page.get_by_text("A repeat post-dose assessment for this day")).to_be_visible()
    assert _count(server_db, trial_id, "post_dose") == 2


def test_finding_2_a_form_opened_before_another_save_asks_whether_it_is_a_repeat_online_and_offline(
        page: Page, context: BrowserContext, make_child, live_server: LiveServer,  # type: ignore[no-untyped-def]
        server_db: ServerDb) -> None:
    app = app_for(live_server)
    online, offline = make_child("Jo", "Stale"), make_child("Kit", "Stale")
    sign_in(page, "pt")
    # Online: the form was open while another phone saved the day's baseline. The server's answer shows beside
    # the repeat box, what was typed stays, and ticking it saves a second one.
    page.goto(f"/trials/{online}/days/1/baseline")
    _baseline_by_another_pt(app, online)
    tap_grade(page, "Hip adductors, Left", "4")
    page.get_by_role("button", name="Save baseline").click()
    box = page.get_by_label("This is a repeat: keep it as a second baseline assessment for day 1")
    expect(box).to_be_visible()
    expect(page.get_by_text("is already saved", exact=False).first).to_be_visible()
    assert _count(server_db, online) == 1
    box.check()
    page.get_by_role("button", name="Save baseline").click()
    page.wait_for_url("**/assessments/**")
    assert _count(server_db, online) == 2

    # Offline: saved on the phone from a cached form; refused when it reaches the server; /outbox keeps it as
    # a repeat (a new entry; the refused one replaced), and it arrives once.
    url = f"/trials/{offline}/days/1/baseline"
    page.goto(url)
    wait_until_cached(page, url)
    wait_until_cached(page, "/outbox")
    _baseline_by_another_pt(app, offline)
    context.set_offline(True)
    page.reload()
    tap_grade(page, "Hip adductors, Left", "1")
    page.get_by_role("button", name="Save baseline").click()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Saved on this phone")
    page.goto("/outbox")
    context.set_offline(False)
    page.evaluate("() => ITBOutbox.flush()")
    entry = page.locator(".outbox-entry").filter(has_text="Kit")
    expect(entry.get_by_role("button", name="Keep as a repeat")).to_be_visible(timeout=15000)
    assert _count(server_db, offline) == 1
    entry.get_by_role("button", name="Keep as a repeat").click()
    expect(page.locator("#outbox-message")).to_contain_text("Kept as a repeat: sent")
    wait_until(page, "() => ITBOutbox.all().then(r => r.filter(e => e.status === 'sent').length >= 1)")
    assert _count(server_db, offline) == 2
    page.evaluate("() => ITBOutbox.flush()")
    assert _count(server_db, offline) == 2
