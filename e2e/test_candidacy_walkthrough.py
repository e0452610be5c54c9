# ruff: noqa: RUF001  (the app shows a real minus sign; the test checks that text)
"""Issue 13, finding 5 at phone size (390x844): one child through the three trial days, as the team lives them, to
the candidacy outcome, whose evidence table must show the numbers entered.

Each day: the PT's baseline before the dose (08:30), the neurosurgeon's record of the dose given at 09:00 (at
09:05, double-checked by a nurse), the PT's post-dose assessment at 4 h (13:05), and the team's decision in the
evening once the effect has worn off (19:00), with when the effect began and how long it lasted. The server's clock
stands still (TEST_NOW) and is restarted at each of those times; each phone's clock starts at the same time.
Hospital time is UTC (London is on GMT in December).

Day 1, 50 mcg: no change in tone, inadequate, escalate to 75 mcg. Day 2, 75 mcg: tone down, good, repeat; the
effect began at 1 h and lasted 6 h. Day 3, 75 mcg: tone down, good, no more test doses; began at 0.5 h, lasted
5.5 h. So the lowest bolus that met the tone criterion is 75 mcg, its effect lasted at most 6 h (not more than
8 h), and the suggested starting pump dose is twice it: 150 mcg per 24 h.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import (
    PHONE,
    SCREENSHOTS,
    ServerDb,
    app_for,
    check_accessibility,
    demo_server,
    js_errors,
    restart_at,
    sign_in,
    tap_grade,
)
from e2e.server import LiveServer

DAY1 = date(2026, 12, 1)  # Tuesday; London on GMT
LOWER = ["Hip flexors", "Hip adductors", "Hip internal rotators", "Knee flexors (hamstrings)",
         "Knee extensors (quadriceps)", "Plantar-flexors: gastrocnemius (knee straight)",
         "Plantar-flexors: soleus (knee bent)"]
BASELINE = ["2", "2", "2", "2", "2", "3", "3"]  # the same each morning: the previous dose has worn off
# Per day: dose, post-dose grades, the team's judgement and next step, (onset, lasted) in hours.
DAYS: list[dict[str, Any]] = [
    {"dose": "50", "post": ["2", "2", "2", "2", "2", "3", "3"], "effect": "Inadequate: too little change in tone",
     "step": "Escalate: a higher dose tomorrow", "next": "75 mcg", "hours": None},
    {"dose": "75", "post": ["1", "1", "1", "1", "1", "1+", "2"], "effect": "Good: the change the team hoped for",
     "step": "Repeat the same dose tomorrow", "next": "75 mcg", "hours": ("1", "6")},
    {"dose": "75", "post": ["1", "1", "1", "1", "1", "2", "2"], "effect": "Good: the change the team hoped for",
     "step": "No more test doses: decide candidacy", "next": None, "hours": ("0.5", "5.5")},
]
ASHWORTH = {"0": Decimal(0), "1": Decimal(1), "1+": Decimal("1.5"), "2": Decimal(2), "3": Decimal(3),
            "4": Decimal(4)}  # the protocol's mapping for means (Ashworth 0-4, 1+ = 1.5)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY1 + timedelta(days=day - 1), time(hour, minute), tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("e2e-walkthrough"), TEST_NOW=_at(1, 8, 30).isoformat()) as s:
        yield s


@pytest.fixture
def child(server: LiveServer) -> Iterator[int]:
    """Ana Walk, 8 years, GMFCS III, on a 3-day trial from 1 Dec (day 1: 50 mcg at 09:00), made by the services as
    an admin would on the new-trial form."""
    from server.extensions import db
    from server.trials.services import create_patient, create_trial
    from server.web.clock import set_fixed_now

    app = app_for(server)
    set_fixed_now(_at(1, 8, 0))
    try:
        with app.app_context():
            patient = create_patient({
                "first_name": "Ana", "last_name": "Walk", "mrn": f"E2E-{uuid.uuid4().hex[:8]}",
                "date_of_birth": date(2018, 5, 1), "weight_kg": Decimal("24.0"), "gmfcs_level": 3,
                "diagnosis": "Bilateral spastic cerebral palsy", "tone_type": "spastic"})
            trial = create_trial({"patient_id": patient.id, "start_date": DAY1, "bed": "W2",
                                  "catheter_placed_at": None, "small_child": False, "day1_dose_mcg": Decimal("50"),
                                  "dose_time": time(9, 0)}, created_by_id=None)
            db.session.commit()
            trial_id = trial.id
        yield trial_id
    finally:
        set_fixed_now(None)
        with app.app_context():
            db.engine.dispose()


class Phones:
    """At each time of the day: the server restarted with its clock there, and a phone per person whose clock
    starts there, signed in."""

    def __init__(self, browser: Browser, server: LiveServer):
        self.browser, self.server = browser, server
        self.open: list[tuple[Any, list[str]]] = []

    def at(self, when: datetime) -> None:
        self.close()
        restart_at(self.server, when)
        self.when = when

    def phone(self, username: str) -> Page:
        ctx = self.browser.new_context(base_url=self.server.url, **PHONE)
        ctx.clock.install(time=self.when)
        ctx.clock.resume()
        page = ctx.new_page()
        self.open.append((ctx, js_errors(page)))
        sign_in(page, username)
        return page

    def close(self) -> None:
        for ctx, errors in self.open:
            ctx.close()
            assert errors == [], f"JavaScript errors: {errors}"
        self.open = []


@pytest.fixture
def phones(browser: Browser, server: LiveServer) -> Iterator[Phones]:
    made = Phones(browser, server)
    yield made
    made.close()


def _assess(page: Page, trial_id: int, day: int, phase: str, grades: list[str]) -> None:
    """The PT opens the day's form from the child's page, taps one grade per muscle group and side, saves."""
    page.goto(f"/trials/{trial_id}")
    page.get_by_role("link", name=f"{phase} for today, day {day}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ana W. · Day {day} · {phase}")
    for label, grade in zip(LOWER, grades, strict=True):
        for side in ("Left", "Right"):
            tap_grade(page, f"{label}, {side}", grade)
    page.get_by_role("button", name=f"Save {phase.lower()}").click()
    expect(page.get_by_text(f"{phase} saved.")).to_be_visible(timeout=20_000)


def _record_dose(page: Page, trial_id: int, day: int, mcg: str) -> None:
    page.goto(f"/trials/{trial_id}/dosing")
    page.get_by_role("link", name=f"Record dose given on day {day}").click()
    page.get_by_role("radio", name=re.compile(rf"^{mcg} mcg")).check()  # "50 mcg", its volume beside it
    page.get_by_label("Time given").fill("09:00")
    page.get_by_label("Double-checked by (a second person)").select_option(label="Noah Evans (nurse)")
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator(f"#day-{day}")).to_contain_text(f"{mcg} mcg = {Decimal(mcg) / 50:.2f} mL at 09:00")


def _decide(page: Page, trial_id: int, day: int, plan: dict[str, Any]) -> None:
    page.goto(f"/trials/{trial_id}/decisions")
    page.get_by_role("link", name=f"Record the decision for day {day}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Day {day} decision · Ana")
    page.get_by_label(plan["effect"]).check()
    if plan["hours"]:
        onset, lasted = plan["hours"]
        page.get_by_label("Effect began (hours after the dose)").fill(onset)
        page.get_by_label("Effect lasted (hours)").fill(lasted)
    page.get_by_label(plan["step"]).check()
    if plan["next"]:
        page.get_by_role("radio", name=re.compile(rf"^{plan['next']}")).check()
    page.get_by_label("Why (the team's reasons)").fill(f"Day {day}: the team's reading of tone and function.")
    page.get_by_label("Physical therapist").check()
    if day == 2:
        check_accessibility(page, "decision-effect-fields")
    page.get_by_role("button", name="Save the decision").click()
    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#day-{day}$"))
    if plan["hours"]:
        expect(page.locator(f"#day-{day}")).to_contain_text(
            f"Effect: began {plan['hours'][0]} h after the dose, lasted {plan['hours'][1]} h")


def _mean(grades: list[str]) -> Decimal:
    return sum((ASHWORTH[g] for g in grades), Decimal(0)) / len(grades)


def _cells(page: Page, row: str) -> list[str]:
    return [t.strip() for t in page.get_by_role("row", name=re.compile(rf"^{re.escape(row)}"))
            .get_by_role("cell").all_inner_texts()]


def test_one_child_through_three_days_to_the_outcome_page_with_its_evidence(  # type: ignore[no-untyped-def]
        phones: Phones, child: int, server: LiveServer) -> None:
    from server.assessments.scoring import fmt, signed

    trial_id = child
    for day, plan in enumerate(DAYS, start=1):
        phones.at(_at(day, 8, 30))  # baseline, before the dose
        _assess(phones.phone("pt"), trial_id, day, "Baseline", BASELINE)
        phones.at(_at(day, 9, 5))  # the dose, given at 09:00
        _record_dose(phones.phone("surgeon"), trial_id, day, plan["dose"])
        phones.at(_at(day, 13, 5))  # post-dose at 4 h
        _assess(phones.phone("pt"), trial_id, day, "Post-dose", plan["post"])
        phones.at(_at(day, 19, 0))  # the team's decision, the effect worn off
        _decide(phones.phone("surgeon"), trial_id, day, plan)

    page = phones.phone("surgeon")
    page.goto(f"/trials/{trial_id}/decisions")
    page.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candidacy outcome · Ana")
    evidence = page.locator("#evidence-by-day")
    expect(evidence.get_by_role("heading", name="Evidence by day")).to_be_visible()

    # The numbers entered, as the table must show them: doses, MAS change (worked out here from the grades tapped,
    # on the protocol's mapping), the responder flag, the effect, and nothing missing.
    assert _cells(page, "Dose given") == [f"{p['dose']} mcg at 09:00" for p in DAYS]
    changes = [_mean(p["post"]) - _mean(BASELINE) for p in DAYS]
    assert [c.split("\n")[0] for c in _cells(page, "Mean MAS change")] == [signed(c) for c in changes]
    assert [c.split("\n")[1] for c in _cells(page, "Mean MAS change")] == [
        f"{fmt(_mean(BASELINE))} → {fmt(_mean(p['post']))}" for p in DAYS]
    assert _cells(page, "Responder") == ["Yes" if c <= -1 else "No" for c in changes]
    assert _cells(page, "Effect began") == ["—", "1 h after the dose", "0.5 h after the dose"]
    assert _cells(page, "Effect lasted") == ["—", "6 h", "5.5 h"]
    assert _cells(page, "Adverse effects charted") == ["None charted"] * 3
    expect(page.locator("#evidence")).to_have_count(0)  # no evidence missing

    pump = page.locator("#pump-dose")
    expect(pump).to_contain_text("150 mcg per 24 h if the team finds Ana a candidate")
    expect(pump).to_contain_text("From 75 mcg, the lowest bolus that met the tone criterion (days 2, 3). Its effect "
                                 "lasted 6 h at the longest: not more than 8 h, so 2 × the bolus per 24 h.")
    expect(pump).to_contain_text("Rule: Twice the bolus dose per 24 h, or the bolus dose itself per 24 h when its "
                                 "effect lasted more than 8 h")
    expect(pump.get_by_role("link", name="Lioresal Intrathecal prescribing information")).to_have_attribute(
        "href", "/protocol#ref-lioresal_pi")
    expect(pump).to_contain_text("Hospital sign-off: pending")
    expect(pump).to_contain_text("A suggestion only: the team decides and confirms the starting dose")
    expect(evidence).to_contain_text("GAS T-score: T = 50 + 10·Σ(wᵢxᵢ) / √((1−ρ)Σwᵢ² + ρ(Σwᵢ)²), ρ = 0.3")
    expect(evidence.get_by_role("link", name="Kiresuk & Sherman 1968")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_accessibility(page, "outcome-evidence")
    evidence.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "outcome-evidence-phone.png"), caret="initial")

    # The source behind the rule, in full, on the protocol page.
    page.get_by_role("link", name="Lioresal Intrathecal prescribing information").first.click()
    expect(page.locator("#ref-lioresal_pi")).to_contain_text("Lioresal Intrathecal (baclofen injection) for "
                                                              "intrathecal injection, US prescribing information")
    page.go_back()

    page.get_by_label("Candidate for a pump").check()
    page.get_by_label("The team's reasons").fill("Clear fall in tone at 75 mcg on days 2 and 3; family agree.")
    page.get_by_role("button", name="Save the outcome and close the trial").click()
    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#outcome$"))
    expect(page.locator("#outcome")).to_contain_text("Candidate for a pump")
    db = ServerDb(server.env["DATABASE_URL"])
    try:
        assert db.rows("SELECT d.day_number, x.effect_onset_hours, x.effect_duration_hours FROM day_decisions x "
                       "JOIN trial_days d ON d.id = x.trial_day_id WHERE d.trial_id = :t ORDER BY d.day_number",
                       t=trial_id) == [(1, None, None), (2, Decimal("1.0"), Decimal("6.0")),
                                       (3, Decimal("0.5"), Decimal("5.5"))]
    finally:
        db.engine.dispose()
