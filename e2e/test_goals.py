"""The family's goals at phone size: the PT records two goals, rates them for day 1, and sees the T-score on
the goals page and on the team's decisions page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility, sign_in


def test_pt_records_the_goals_and_rates_day_1(page: Page, make_child) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Gus", "Goals")
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}")
    page.get_by_role("link", name="Family's goals (GAS)").click()
    expect(page.get_by_text("No goals recorded yet.")).to_be_visible()
    page.get_by_label("Goal 1", exact=True).fill("Sits at the table for a whole meal")
    page.get_by_label("How important is goal 1?").select_option(label="Very important")
    page.get_by_label("Goal 2", exact=True).fill("Easier to dress in the morning")
    check_accessibility(page, "goals-form")
    page.get_by_role("button", name="Save the goals").click()
    expect(page.get_by_role("table")).to_contain_text("1. Sits at the table for a whole meal (very important)")

    day1 = page.locator("#day-1")
    day1.get_by_role("group", name="1. Sits at the table for a whole meal").get_by_label("+1").check()
    day1.get_by_role("group", name="2. Easier to dress in the morning").get_by_label("-1").check()
    check_accessibility(page, "goals-rating")
    page.get_by_role("button", name="Save day 1 ratings").click()
    # 50 + 10 * (2 * 1 + 1 * -1) / sqrt(0.7 * 5 + 0.3 * 9) = 54.0
    expect(page.get_by_role("row", name="T-score")).to_contain_text("54.0")
    expect(page.get_by_text("The goals are fixed: they have been rated.")).to_be_visible()

    page.goto(f"/trials/{trial_id}/decisions")
    expect(page.locator("#day-1")).to_contain_text("GAS T-score 54.0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
