"""Dosing at phone size: the surgeon records a dose, the nurse sees it on the ward schedule with the PT
reassessment time, then charts an out-of-range respiratory rate and gets the escalation checklist.

Uses a child of its own (the demo children are shared with other tests) and closes its trial at the end, so
the demo's "three children today" stays true for the tests that count them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility, sign_in
from e2e.server import LiveServer

LONDON = ZoneInfo("Europe/London")


def _app(live_server: LiveServer):  # type: ignore[no-untyped-def]
    from server import create_app

    return create_app({"APP_ENV": "test", "SECRET_KEY": live_server.env["SECRET_KEY"],
                       "SQLALCHEMY_DATABASE_URI": live_server.env["DATABASE_URL"]})


@pytest.fixture
def own_trial(live_server: LiveServer) -> Iterator[tuple[int, int]]:
    """A seven-year-old on day 1 today, 50 mcg planned at 09:00: (trial id, day-1 id)."""
    from server.extensions import db
    from server.trials.models import Trial
    from server.trials.services import create_patient, create_trial
    from server.web import clock

    app = _app(live_server)
    with app.app_context():
        today = clock.today()
        patient = create_patient({
            "first_name": "Eli", "last_name": "Dosing", "mrn": f"E2E-{uuid.uuid4().hex[:8]}",
            "date_of_birth": date(today.year - 7, 1, 1) if today.month > 1 else date(today.year - 8, 6, 1),
            "weight_kg": Decimal("22.0"), "gmfcs_level": 3, "diagnosis": "Bilateral spastic cerebral palsy",
            "tone_type": "spastic"})
        trial = create_trial({"patient_id": patient.id, "start_date": today, "bed": "E2E", "catheter_placed_at": None,
                              "small_child": False, "day1_dose_mcg": Decimal("50"),
                              "dose_time": datetime.strptime("09:00", "%H:%M").time()}, created_by_id=None)
        db.session.commit()
        ids = (trial.id, trial.days[0].id)
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.get(Trial, ids[0]).status = "completed"
            db.session.commit()
            db.engine.dispose()


def _hm(value: datetime) -> str:
    return value.astimezone(LONDON).strftime("%H:%M")


def test_surgeon_records_a_dose_nurse_sees_it_and_charts_a_flagged_observation(
        page: Page, own_trial: tuple[int, int]) -> None:
    trial_id, day_id = own_trial

    # The surgeon records the dose given, from the trial's page.
    sign_in(page, "surgeon")
    page.goto(f"/trials/{trial_id}")
    page.get_by_role("link", name="Dose plan and record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dosing · Eli D.")
    page.get_by_role("link", name="Record dose given on day 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record dose · Eli")
    expect(page.get_by_label("50 mcg")).to_be_checked()
    expect(page.get_by_text("1.00 mL")).to_be_visible()
    check_accessibility(page, "dose-form")
    given_time = page.get_by_label("Time given").input_value()
    page.get_by_label("Double-checked by (a second person)").select_option(label="Noah Evans (nurse)")
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator("#day-1")).to_contain_text(f"50 mcg = 1.00 mL at {given_time}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/login$"))

    # The nurse's ward schedule shows it given, with the PT reassessment due 4 h later (window 3 to 5 h).
    given_at = datetime.combine(datetime.now(LONDON).date(), datetime.strptime(given_time, "%H:%M").time(),
                                tzinfo=LONDON)
    due, opens, closes = (given_at + timedelta(hours=h) for h in (4, 3, 5))
    sign_in(page, "nurse")
    expect(page).to_have_url(re.compile("/ward$"))
    row = page.locator("li.ward-row", has_text="Eli D.")
    expect(row.locator(".dose-badge")).to_have_text("Given")
    expect(row).to_contain_text(f"50 mcg (1.00 mL) given {given_time}")
    expect(row).to_contain_text(f"PT reassess {_hm(due)} (window {_hm(opens)}\u2013{_hm(closes)})")
    expect(page.get_by_text(re.compile(r"^Updated \d\d:\d\d$"))).to_be_visible()
    check_accessibility(page, "ward-schedule")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The nurse charts a slow respiratory rate: flagged, with the escalation checklist.
    row.get_by_role("link", name="Monitoring for Eli").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring · Eli D.")
    expect(page.get_by_text(f"PT reassessment due {_hm(due)}")).to_be_visible()
    check_accessibility(page, "monitoring")
    page.get_by_role("link", name="Record observations").click()
    check_accessibility(page, "observation-form")
    page.get_by_label("Heart rate (/min)").fill("92")
    page.get_by_label("Respiratory rate (/min)").fill("8")
    page.get_by_label("SpO2 (%)").fill("97")
    page.get_by_label("Sedation score (UMSS)").select_option("1")
    page.get_by_role("button", name="Save observations").click()
    # A plain POST redirects to the monitoring page; the outbox sends the entry to /api/sync and, once the
    # server has it, opens the same page (data-outbox-next). Wait for that navigation rather than racing it
    # with our own (a page.goto during the outbox's navigation is aborted: net::ERR_ABORTED).
    page.wait_for_url(re.compile(rf"/days/{day_id}/monitoring(#.*)?$"), timeout=15_000)
    flagged = page.get_by_role("heading", name="Possible baclofen overdose: escalate now")
    expect(flagged).to_be_visible()
    escalation = page.locator("#escalation")
    expect(escalation).to_contain_text("Respiratory rate 8/min is below 18/min")
    expect(escalation.get_by_role("listitem").filter(has_text="rapid-response escalation")).to_be_visible()
    expect(page.locator(".obs-flagged")).to_have_count(1)
    check_accessibility(page, "monitoring-flagged")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_protocol_and_plan_pages_at_phone_size(page: Page, own_trial: tuple[int, int]) -> None:
    trial_id, _ = own_trial
    sign_in(page, "surgeon")
    page.goto("/protocol")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinical protocol")
    check_accessibility(page, "protocol")
    page.goto(f"/trials/{trial_id}/dosing")
    page.get_by_role("link", name="Plan, hold or cancel day 2").click()
    page.get_by_label("75 mcg").check()
    page.get_by_role("button", name="Save plan").click()
    expect(page.locator("#day-2")).to_contain_text("Plan (revision 2): 75 mcg at 09:00")
    page.get_by_role("link", name="Plan, hold or cancel day 2").click()
    page.get_by_label("Reason for holding or cancelling").fill("Wait for the team's day-1 decision.")
    page.get_by_role("button", name="Hold or cancel the dose").click()
    expect(page.locator("#day-2")).to_contain_text("Held Wait for the team's day-1 decision.")
    page.get_by_role("link", name="Plan, hold or cancel day 2").click()
    check_accessibility(page, "plan")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
