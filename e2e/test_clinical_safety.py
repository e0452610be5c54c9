"""Issue 10 at phone size (390x844): the five findings, each through the browser, on a server of its own whose
clock stands still (TEST_NOW) at Wednesday 25 Nov 2026, 18:32 (London on GMT, so hospital time is UTC).

1. an override above the absolute maximum is refused beside the field; within it, mcg, mL and mcg/kg are shown and
   confirmed; the recorded dose is then corrected, and the ward shows the corrected dose;
2. the outcome recorded on day 3 in the evening keeps the child on the ward until the monitoring ends (the server
   is restarted at later times);
3. an overdose sign sorts the child first on the ward, with a banner on /ward, /trials and /today, until a nurse
   records that it was acted on;
4. a day-1 dose at 14:20: the day-1 decision cannot keep day 2 at 09:00;
5. the outcome with evidence missing needs a confirmation and a reason of a sentence; it can be revised.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import (
    PHONE,
    ServerDb,
    check_accessibility,
    demo_server,
    js_errors,
    restart_at,
    sign_in,
    wait_until,
)
from e2e.server import LiveServer

FROZEN = datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
TODAY = FROZEN.date()
SENTENCE = "Tone clearly lower at every dose tried; the family want the pump."


@pytest.fixture(scope="module")
def clock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-clock"), TEST_NOW=FROZEN.isoformat()) as server:
        yield server


@pytest.fixture(scope="module")
def app(clock_server: LiveServer) -> Iterator[Any]:
    """The app on the clock server's database, in this process (same frozen clock), to arrange data through the
    services."""
    from server import create_app
    from server.extensions import db
    from server.web.clock import set_fixed_now

    application = create_app({"APP_ENV": "test", "SECRET_KEY": clock_server.env["SECRET_KEY"],
                              "SQLALCHEMY_DATABASE_URI": clock_server.env["DATABASE_URL"],
                              "PASSWORD_HASH_PROFILE": "CHEAPEST", "TEST_NOW": FROZEN})
    yield application
    with application.app_context():
        db.engine.dispose()
    set_fixed_now(None)  # the other browser tests run on the real clock


@pytest.fixture
def db_(clock_server: LiveServer) -> Iterator[ServerDb]:
    server_db = ServerDb(clock_server.env["DATABASE_URL"])
    yield server_db
    server_db.engine.dispose()


def _phone_context(browser: Browser, server: LiveServer) -> Any:
    """A phone whose clock starts at the server's (stopped) time and runs on: the sync API refuses entries
    saved on a phone whose clock is far ahead of the server's."""
    ctx = browser.new_context(base_url=server.url, **PHONE)
    ctx.clock.install(time=FROZEN)
    ctx.clock.resume()
    return ctx


@pytest.fixture
def phone(browser: Browser, clock_server: LiveServer) -> Iterator[Page]:
    ctx = _phone_context(browser, clock_server)
    page = ctx.new_page()
    errors = js_errors(page)
    yield page
    ctx.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def phone_for(browser: Browser, clock_server: LiveServer) -> Iterator[Any]:
    """Factory: a phone of its own, signed in as `username`. (One phone per person: signing out while the service
    worker is still caching pages can be undone by a response in flight, see the report of issue 10.)"""
    made: list[tuple[Any, list[str]]] = []

    def _make(username: str) -> Page:
        ctx = _phone_context(browser, clock_server)
        page = ctx.new_page()
        errors = js_errors(page)
        made.append((ctx, errors))
        sign_in(page, username)
        return page

    yield _make
    for ctx, errors in made:
        ctx.close()
        assert errors == [], f"JavaScript errors: {errors}"


@contextmanager
def _app_ctx(app: Any) -> Iterator[None]:
    from server.audit.context import Actor, acting_as

    with app.app_context(), acting_as(Actor(user_id=None, via="cli")):
        yield


def _child(app: Any, first: str, last: str, start: date, weight: str = "24.0") -> tuple[int, list[int]]:
    from server.extensions import db
    from server.trials.services import create_patient, create_trial

    with _app_ctx(app):
        patient = create_patient({
            "first_name": first, "last_name": last, "mrn": f"E2E-{uuid.uuid4().hex[:8]}",
            "date_of_birth": date(2018, 3, 1), "weight_kg": Decimal(weight), "gmfcs_level": 3,
            "diagnosis": "Bilateral spastic cerebral palsy", "tone_type": "spastic"})
        trial = create_trial({"patient_id": patient.id, "start_date": start, "bed": first[:3],
                              "catheter_placed_at": None, "small_child": False, "day1_dose_mcg": Decimal("50"),
                              "dose_time": time(9, 0)}, created_by_id=None)
        db.session.commit()
        return trial.id, [d.id for d in trial.days]


def _staff(app: Any) -> dict[str, int]:
    from sqlalchemy import select

    from server.auth.models import User
    from server.extensions import db

    with app.app_context():
        return {u.username: u.id for u in db.session.scalars(select(User))}


def _give(app: Any, day_id: int, at: time, mcg: str = "50") -> None:
    from server.dosing.services import record_dose
    from server.extensions import db

    staff = _staff(app)
    with _app_ctx(app):
        record_dose(day_id, {"given_time": at, "dose_mcg": Decimal(mcg), "route": "catheter",
                             "given_by_id": staff["surgeon"], "checked_by_id": staff["nurse"]},
                    recorded_by_id=staff["surgeon"])
        db.session.commit()


def _observe(app: Any, day_id: int, at: datetime, **values: Any) -> None:
    from server.dosing.services import record_observation
    from server.extensions import db

    with _app_ctx(app):
        record_observation({"trial_day_id": day_id, "taken_at": at, "heart_rate": 92, "resp_rate": 22, "spo2": 98,
                            **values}, author_id=_staff(app)["nurse"], entry_id=str(uuid.uuid4()), recorded_at=at,
                           now=max(at, FROZEN))
        db.session.commit()


def _settled(page: Page) -> None:
    """htmx has finished swapping the form in (so its new fields react to typing)."""
    wait_until(page, "() => !document.querySelector('.htmx-swapping, .htmx-settling, .htmx-request')")
    page.wait_for_timeout(100)


def _narrow(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# --- 1. dose bounds, the override's confirmation, and correcting a recorded dose --------------------------------------

def test_finding_1_no_dose_above_the_maximum_override_confirmed_then_corrected(phone: Page, app: Any,  # type: ignore[no-untyped-def]
                                                                               db_: ServerDb) -> None:
    page = phone
    _, days = _child(app, "Ida", "Bounds", TODAY, weight="12.0")
    count = "SELECT count(*) FROM dose_administrations WHERE trial_day_id = :d"
    sign_in(page, "surgeon")
    page.goto(f"/days/{days[0]}/dose")
    page.get_by_label("Double-checked by (a second person)").select_option(label="Noah Evans (nurse)")
    page.get_by_label("Other (override)").check()
    page.get_by_text("Above the 100 mcg ceiling: neurosurgeon's override").click()
    page.get_by_label("Other dose (mcg)").fill("5000")
    page.get_by_label("Reason for the override").fill("x")
    expect(page.locator("#override-confirm")).to_contain_text("above the absolute maximum of 150 mcg")  # as typed
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator("#other_dose_mcg-error")).to_have_text(
        "5000 mcg is above the absolute maximum of 150 mcg per bolus: no override allows it. Enter a dose up to "
        "150 mcg.")
    expect(page.get_by_label("Other dose (mcg)")).to_have_value("5000")  # what was typed is kept
    assert db_.scalar(count, d=days[0]) == 0
    _settled(page)

    # Within the maximum: the numbers to confirm appear as the surgeon types (mcg, mL, mcg/kg for 12 kg).
    page.get_by_label("Other dose (mcg)").fill("125")
    confirm = page.get_by_label("I confirm this override: 125 mcg = 2.50 mL = 10.42 mcg/kg (12.0 kg)")
    expect(confirm).to_be_visible()
    page.get_by_label("Reason for the override").fill("Partial response at 100 mcg; the team agreed one step more.")
    check_accessibility(page, "dose-override-confirm")
    _narrow(page)
    page.get_by_role("button", name="Save dose given").click()  # not ticked: asked again, nothing written
    expect(page.locator("#override_confirm-error")).to_have_text(
        "Check and confirm the override: 125 mcg = 2.50 mL = 10.42 mcg/kg (12.0 kg).")
    assert db_.scalar(count, d=days[0]) == 0
    page.get_by_label("I confirm this override: 125 mcg = 2.50 mL = 10.42 mcg/kg (12.0 kg)").check()
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator("#day-1")).to_contain_text("125 mcg = 2.50 mL at 18:32")

    # It was 100 mcg at 18:20 in fact: the surgeon corrects it; the original stays as version 1.
    page.get_by_role("link", name="Correct this dose (day 1)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct the day-1 dose · Ida")
    page.get_by_label("Time given").fill("18:20")
    page.get_by_label("100 mcg").check()
    page.get_by_label("Reason for the correction").fill("Drug chart and syringe label say 100 mcg at 18:20.")
    check_accessibility(page, "dose-correct")
    _narrow(page)
    page.get_by_role("button", name="Save the correction").click()
    day1 = page.locator("#day-1")
    expect(day1).to_contain_text("100 mcg = 2.00 mL at 18:20")
    expect(day1).to_contain_text("Corrected (version 2): Drug chart and syringe label say 100 mcg at 18:20.")
    assert db_.rows("SELECT version, dose_mcg, status FROM dose_administrations WHERE trial_day_id = :d "
                    "ORDER BY version", d=days[0]) == [(1, 125, "given"), (2, 100, "given")]
    page.goto("/ward")
    expect(page.locator("li.ward-row", has_text="Ida B.")).to_contain_text("100 mcg (2.00 mL) given 18:20")


# --- 3. an overdose sign reaches every list until acted on ------------------------------------------------------------

def test_finding_3_overdose_sign_first_on_the_ward_and_flagged_everywhere_until_acted_on(phone_for: Any, app: Any,  # type: ignore[no-untyped-def]
                                                                                          db_: ServerDb) -> None:
    trial_id, days = _child(app, "Eve", "Overdose", TODAY)
    _give(app, days[0], time(17, 0))
    for minutes in (15, 30, 45, 60, 90):
        _observe(app, days[0], datetime(2026, 11, 25, 17, 0, tzinfo=UTC) + timedelta(minutes=minutes))

    # The nurse charts RR 10, SpO2 90, sedation 2 (the reproduction).
    page = phone_for("nurse")
    page.goto(f"/days/{days[0]}/observations")
    page.get_by_label("Time taken (leave empty for now)").fill("2026-11-25T18:32")
    page.get_by_label("Respiratory rate (/min)").fill("10")
    page.get_by_label("SpO2 (%)").fill("90")
    page.get_by_label("Sedation score (UMSS)").select_option("2")
    page.get_by_role("button", name="Save observations").click()
    page.wait_for_url(re.compile(rf"/days/{days[0]}/monitoring(#.*)?$"), timeout=15_000)
    expect(page.get_by_role("heading", name="Possible baclofen overdose: escalate now")).to_be_visible()
    expect(page.locator("#escalation")).to_contain_text("Observations every 15 min until acted on")

    # The ward: first, with the red banner (what, since when) and 15-minute checks, not the routine plan.
    page.goto("/ward")
    first = page.locator("li.ward-row").first
    expect(first.locator(".card-title")).to_have_text("Eve O.")
    banner = first.locator(".escalation-banner")
    expect(banner).to_contain_text("Possible baclofen overdose since 18:32: escalate now.")
    expect(banner).to_contain_text("Respiratory rate 10/min is below 18/min")
    expect(banner).to_contain_text("SpO2 90% is below 94%.")
    expect(first).to_contain_text("Next obs 18:47 (every 15 min: escalation)")
    check_accessibility(page, "ward-escalation")
    _narrow(page)

    # The surgeon's trials list and the PT's list show the flag.
    others = {user: phone_for(user) for user in ("surgeon", "pt")}
    for user, path, name in (("surgeon", "/trials", "trials-escalation"), ("pt", "/today", "today-escalation")):
        other = others[user]
        other.goto(path)
        card = other.locator("li.card", has_text="Eve")
        expect(card.locator(".escalation-banner")).to_contain_text(
            "Possible baclofen overdose since 18:32: escalate now.")
        expect(other.locator("li.card").first).to_contain_text("Eve")  # escalated first
        check_accessibility(other, name)
        _narrow(other)

    # Only a record of what was done closes it.
    page.goto(f"/days/{days[0]}/monitoring")
    check_accessibility(page, "monitoring-escalation-form")
    page.get_by_label("What was done").fill("ok")
    page.get_by_role("button", name="Record that it was acted on").click()
    expect(page.locator("#action_taken-error")).to_have_text(
        "Say what was done in at least a sentence (20 characters and 4 words).")
    page.goto("/ward")
    expect(page.locator("li.ward-row").first.locator(".escalation-banner")).to_be_visible()  # still open
    others["surgeon"].goto("/trials")
    expect(others["surgeon"].locator("li.card", has_text="Eve").locator(".escalation-banner")).to_be_visible()
    page.goto(f"/days/{days[0]}/monitoring")
    expect(page.get_by_label("Who acted")).to_have_value(str(_staff(app)["nurse"]))
    expect(page.get_by_label("When it was done")).to_have_value("2026-11-25T18:32")
    page.get_by_label("What was done").fill("Rapid response called; oxygen on; surgeon reviewed; 1:1 nursing.")
    page.get_by_role("button", name="Record that it was acted on").click()
    expect(page.get_by_role("heading", name="Escalations acted on")).to_be_visible()
    expect(page.get_by_role("heading", name="Possible baclofen overdose: escalate now")).to_have_count(0)
    assert db_.scalar("SELECT count(*) FROM escalation_responses WHERE trial_id = :t", t=trial_id) == 1
    assert db_.scalar("SELECT count(*) FROM audit_events WHERE entity_type = 'EscalationResponse'") >= 1
    page.goto("/ward")
    expect(page.locator("li.ward-row", has_text="Eve O.").locator(".escalation-banner")).to_have_count(0)
    for user, path in (("surgeon", "/trials"), ("pt", "/today")):
        others[user].goto(path)
        expect(others[user].locator("li.card", has_text="Eve").locator(".escalation-banner")).to_have_count(0)


# --- 4. one 24-hour rule: a dose given late in the day ----------------------------------------------------------------

def test_finding_4_a_1420_dose_and_the_decision_cannot_keep_day_2_at_0900(phone: Page, app: Any,  # type: ignore[no-untyped-def]
                                                                          db_: ServerDb) -> None:
    from server.dosing.services import set_plan
    from server.extensions import db

    page = phone
    trial_id, days = _child(app, "Lia", "Late", TODAY)
    with _app_ctx(app):
        set_plan(days[1], {"dose_mcg": Decimal("50"), "planned_time": time(9, 0), "base_revision": 1},
                 author_id=_staff(app)["surgeon"])
        db.session.commit()
    sign_in(page, "surgeon")
    page.goto(f"/days/{days[0]}/dose")
    page.get_by_label("Time given").fill("14:20")
    page.get_by_label("Double-checked by (a second person)").select_option(label="Noah Evans (nurse)")
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator("#day-1")).to_contain_text("50 mcg = 1.00 mL at 14:20")
    expect(page.locator("#day-2")).to_contain_text("not before Thu 26 Nov 14:20")  # the record path: never silent

    page.goto(f"/days/{days[0]}/decision")
    expect(page.get_by_text("Day 2 is still planned at 09:00, under 24 h after today's dose")).to_be_visible()
    expect(page.get_by_label("Time of the day-2 dose")).to_have_value("14:30")  # the form offers an allowed time
    page.get_by_label("Good: the change the team hoped for").check()
    page.get_by_label("Repeat the same dose tomorrow").check()
    page.get_by_label("50 mcg").check()
    page.get_by_label("Time of the day-2 dose").fill("09:00")
    page.get_by_label("Why (the team's reasons)").fill("Good response at 50 mcg; repeat it tomorrow.")
    page.get_by_role("button", name="Save the decision").click()
    expect(page.locator("#planned_time-error")).to_have_text(
        "Only 18 h 40 min from the day-1 bolus (Wed 25 Nov 14:20): the minimum interval between boluses is 24 h.")
    expect(page.get_by_label("Time of the day-2 dose")).to_have_value("09:00")
    check_accessibility(page, "decision-24h")
    _narrow(page)
    assert db_.scalar("SELECT count(*) FROM day_decisions WHERE trial_day_id = :d", d=days[0]) == 0
    page.get_by_label("Time of the day-2 dose").fill("14:30")
    page.get_by_role("button", name="Save the decision").click()
    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#day-1$"))
    page.goto(f"/trials/{trial_id}/dosing")
    expect(page.locator("#day-2")).to_contain_text("50 mcg at 14:30")
    expect(page.locator("#day-2")).not_to_contain_text("not before")


# --- 5. the outcome guard ---------------------------------------------------------------------------------------------

def test_finding_5_outcome_with_evidence_missing_needs_confirmation_and_a_sentence(phone: Page, app: Any,  # type: ignore[no-untyped-def]
                                                                                    db_: ServerDb) -> None:
    page = phone
    trial_id, days = _child(app, "Cal", "Guard", TODAY)
    _give(app, days[0], time(9, 0))
    sign_in(page, "surgeon")
    page.goto(f"/trials/{trial_id}/outcome")
    evidence = page.locator("#evidence")
    expect(evidence).to_contain_text("No test dose given: days 2, 3.")
    expect(evidence).to_contain_text("No post-dose PT assessment: day 1.")
    expect(evidence).to_contain_text("No team decision: days 1, 2, 3.")
    page.get_by_label("Candidate for a pump").check()
    page.get_by_label("The team's reasons").fill("x")
    page.get_by_role("button", name="Save the outcome and close the trial").click()
    expect(page.locator("#outcome_reason-error")).to_have_text(
        "With evidence missing, give the team's reasons in at least a sentence (20 characters and 4 words).")
    expect(page.locator("#confirm_missing-error")).to_contain_text("tick to confirm")
    expect(page.get_by_label("The team's reasons")).to_have_value("x")
    check_accessibility(page, "outcome-guard")
    _narrow(page)
    assert db_.scalar("SELECT outcome FROM trials WHERE id = :t", t=trial_id) is None
    page.get_by_label("The team's reasons").fill(SENTENCE)
    page.get_by_label("The team records this outcome with the evidence listed above missing").check()
    page.get_by_role("button", name="Save the outcome and close the trial").click()
    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#outcome$"))
    expect(page.locator("#outcome")).to_contain_text("Candidate for a pump")

    # Revised by the surgeon: the same guard, from the current revision.
    page.goto(f"/trials/{trial_id}/outcome")
    page.get_by_label("Inconclusive").check()
    page.get_by_label("The team's reasons").fill("On reflection one dose is too little to judge the response.")
    page.get_by_label("The team records this outcome with the evidence listed above missing").check()
    page.get_by_role("button", name="Save the outcome").click()
    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#outcome$"))
    assert db_.rows("SELECT status, outcome, revision FROM trials WHERE id = :t", t=trial_id) == [
        ("completed", "inconclusive", 3)]


# --- 2. the outcome on day 3 in the evening: the child stays on the ward until monitoring ends ------------------------

def test_finding_2_outcome_on_day_3_evening_keeps_the_child_on_the_ward_until_monitoring_ends(  # type: ignore[no-untyped-def]
        phone_for: Any, app: Any, clock_server: LiveServer, db_: ServerDb) -> None:
    trial_id, days = _child(app, "Oli", "Evening", TODAY - timedelta(days=2))
    for day_id in days:
        _give(app, day_id, time(9, 0))
    dose3 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    for minutes in (15, 30, 45, 60, 90, 120, 180, 240, 300, 360, 420, 480):  # every check up to 17:00
        _observe(app, days[2], dose3 + timedelta(minutes=minutes))

    surgeon = phone_for("surgeon")
    surgeon.goto(f"/trials/{trial_id}/outcome")
    expect(surgeon.get_by_text("Monitoring after the last dose continues until 09:00 Thu 26 Nov")).to_be_visible()
    surgeon.get_by_label("Candidate for a pump").check()
    surgeon.get_by_label("The team's reasons").fill(SENTENCE)
    surgeon.get_by_label("The team records this outcome with the evidence listed above missing").check()
    surgeon.get_by_role("button", name="Save the outcome and close the trial").click()
    surgeon.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#outcome$"))
    assert db_.scalar("SELECT status FROM trials WHERE id = :t", t=trial_id) == "completed"
    page = phone_for("nurse")

    def ward_row() -> Any:
        return page.locator("li.ward-row", has_text="Oli E.")

    page.goto("/ward")
    expect(ward_row()).to_contain_text("Next obs 21:00 (4-hourly #13)")
    expect(ward_row()).to_contain_text("Trial completed (outcome recorded): observations continue until 09:00 "
                                       "Thu 26 Nov")
    check_accessibility(page, "ward-closed-trial")
    _narrow(page)
    for at in (datetime(2026, 11, 25, 21, 0, tzinfo=UTC), datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
               datetime(2026, 11, 26, 5, 0, tzinfo=UTC)):
        _observe(app, days[2], at)
    try:
        restart_at(clock_server, datetime(2026, 11, 26, 8, 50, tzinfo=UTC))  # next morning, no trial day left
        # The next morning, more than SESSION_HOURS idle later: the night's sign-in has ended, so sign in again.
        sign_in(page, "nurse")
        page.goto("/ward")
        expect(ward_row()).to_contain_text("Next obs 09:00 (4-hourly #16)")
        expect(ward_row()).to_contain_text("monitoring the day-3 dose (09:00 Wed 25 Nov)")
        _observe(app, days[2], datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
        restart_at(clock_server, datetime(2026, 11, 26, 9, 10, tzinfo=UTC))  # the last check is done
        page.goto("/ward")
        expect(page.get_by_role("heading", name="Ward schedule")).to_be_visible()
        expect(ward_row()).to_have_count(0)
    finally:
        restart_at(clock_server, FROZEN)
