"""Team decisions at phone size: the surgeon records day 1's dose, the team's decision to escalate (which plans
day 2 at 75 mcg), then the candidacy outcome, which closes the trial.

Uses a child of its own (make_child closes the trial afterwards, so the demo's lists stay as they were).
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from e2e.conftest import ServerDb, check_accessibility, sign_in

LONDON = ZoneInfo("Europe/London")
REASONS = "Tone barely changed at 50 mcg; no drowsiness or weakness."
SCREENSHOT = Path(tempfile.gettempdir()) / "decision.png"  # the filled decision form, to look at
OUTCOME_REASONS = "Clear fall in tone at 75 mcg on days 2 and 3; the family want the pump."


def _given_time() -> str:
    """Day 1's dose time: 08:00, or a minute ago if earlier (a dose cannot be recorded in the future). Either
    way day 2's default 09:00 is at least 24 h later, so the form's suggested time is valid as it stands."""
    now = datetime.now(LONDON) - timedelta(minutes=1)
    return min(now.strftime("%H:%M"), "08:00")


def test_surgeon_records_a_decision_and_the_candidacy_outcome(page: Page, make_child, server_db: ServerDb) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Fay", "Decide")
    sign_in(page, "surgeon")

    # Day 1's dose, recorded through the dosing pages.
    page.goto(f"/trials/{trial_id}")
    page.get_by_role("link", name="Dose plan and record").click()
    page.get_by_role("link", name="Record dose given on day 1").click()
    given = _given_time()
    page.get_by_label("Time given").fill(given)
    page.get_by_label("Double-checked by (a second person)").select_option(label="Noah Evans (nurse)")
    page.get_by_role("button", name="Save dose given").click()
    expect(page.locator("#day-1")).to_contain_text(f"50 mcg = 1.00 mL at {given}")

    # The team's decision for day 1.
    page.get_by_role("link", name="Team decision day 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Day 1 decision · Fay")
    expect(page.get_by_text(f"Given 50 mcg at {given}")).to_be_visible()
    expect(page.get_by_label("Neurosurgeon")).to_be_checked()  # whoever records it took part
    check_accessibility(page, "decision-form")
    page.get_by_label("Inadequate: too little change in tone").check()
    page.get_by_label("Escalate: a higher dose tomorrow").check()
    page.get_by_label("75 mcg").check()
    planned = page.get_by_label("Time of the day-2 dose").input_value()
    assert re.fullmatch(r"\d\d:\d\d", planned), planned
    page.get_by_label("Why (the team's reasons)").fill(REASONS)
    page.get_by_label("Physical therapist").check()
    page.get_by_label("Nurse", exact=True).check()
    page.get_by_label("The parents took part").check()
    page.get_by_label("What the parents said (their words; optional)").fill("His legs felt the same to us.")
    page.screenshot(path=str(SCREENSHOT), full_page=True, caret="initial")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Save the decision").click()

    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#day-1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Team decisions · Fay D.")
    day1 = page.locator("#day-1")
    expect(day1).to_contain_text("Decision: Inadequate: too little change in tone → Escalate: a higher dose "
                                 "tomorrow (75 mcg)")
    expect(day1).to_contain_text(REASONS)
    expect(day1).to_contain_text("Took part: Neurosurgeon, Physical therapist, Nurse, parents · revision 1")
    expect(day1).to_contain_text("Parents said: “His legs felt the same to us.”")
    day1_id = server_db.scalar("SELECT id FROM trial_days WHERE trial_id = :t AND day_number = 1", t=trial_id)
    assert server_db.rows("SELECT effect, next_step, next_dose_mcg, revision FROM day_decisions "
                          "WHERE trial_day_id = :d", d=day1_id) == [("inadequate", "escalate", 75, 1)]

    # The dosing page shows day 2 planned at the chosen dose and time.
    page.goto(f"/trials/{trial_id}/dosing")
    expect(page.locator("#day-2")).to_contain_text(f"Plan (revision 2): 75 mcg at {planned}")

    # The candidacy outcome closes the trial.
    page.goto(f"/trials/{trial_id}/decisions")
    page.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candidacy outcome · Fay")
    expect(page.get_by_text("Saving closes the trial and cancels the later trial days")).to_be_visible()
    check_accessibility(page, "outcome-form")
    page.get_by_label("Candidate for a pump").check()
    page.get_by_label("The team's reasons").fill(OUTCOME_REASONS)
    # Only day 1 was dosed and decided, with no PT assessment: the evidence missing is listed, and confirmed.
    expect(page.locator("#evidence")).to_contain_text("No post-dose PT assessment: day 1.")
    page.get_by_label("The team records this outcome with the evidence listed above missing").check()
    page.get_by_role("button", name="Save the outcome and close the trial").click()

    page.wait_for_url(re.compile(rf"/trials/{trial_id}/decisions#outcome$"))
    outcome = page.locator("#outcome")
    expect(outcome).to_contain_text("Candidate for a pump")
    expect(outcome).to_contain_text(OUTCOME_REASONS)
    expect(page.get_by_text(re.compile(r"^Completed ·"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Record the decision|Revise the decision"))).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Fay Decide").click()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Completed")
    expect(facts).to_contain_text("Candidate for a pump")
    assert server_db.rows("SELECT status, outcome FROM trials WHERE id = :t", t=trial_id) == [
        ("completed", "candidate")]
    assert server_db.rows("SELECT day_number, dose_status FROM trial_days WHERE trial_id = :t AND day_number > 1 "
                          "ORDER BY day_number", t=trial_id) == [(2, "cancelled"), (3, "cancelled")]
