"""Sign-in for each role, sign-out, and the admin creating a patient and a trial, at phone size."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility, sign_in

HOMES = [("pt", "/today", "My patients today"), ("nurse", "/ward", "Ward schedule"),
         ("surgeon", "/trials", "Trials"), ("admin", "/admin/", "Admin")]


def test_login_page_is_accessible_and_wrong_password_is_generic(page: Page) -> None:
    page.goto("/login")
    check_accessibility(page, "login")
    page.get_by_label("Username").fill("pt")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Username or password is not right.")
    expect(page.get_by_label("Username")).to_have_value("pt")
    check_accessibility(page, "login-error")


@pytest.mark.parametrize(("username", "path", "heading"), HOMES)
def test_each_role_signs_in_to_its_home_and_signs_out(page: Page, username: str, path: str, heading: str) -> None:
    sign_in(page, username)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_accessibility(page, f"home-{username}")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/login$"))
    page.goto(path)
    expect(page).to_have_url(re.compile("/login"))


def test_pt_sees_todays_patients_at_phone_size(page: Page) -> None:
    sign_in(page, "pt")
    cards = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=re.compile(r"^Baseline for ")))
    expect(cards).to_have_count(3)  # demo: three children on a trial day today, one finished
    # Each card tells the PT's day: the dose as given or planned, baseline, and the post-dose window.
    expect(cards.first).to_contain_text(re.compile(r"Dose (given|held|cancelled|not given yet)"))
    check_accessibility(page, "today")
    expect(page.get_by_text("Amira H.")).to_be_visible()
    # Nothing overflows sideways on a 390 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_admin_creates_a_patient_then_a_trial(page: Page) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="New patient").click()
    check_accessibility(page, "patient-new")
    # First a bad submission: the message sits beside the field and what was typed stays.
    page.get_by_label("First name").fill("Zara")
    page.get_by_label("Weight (kg)").fill("400")
    page.get_by_role("button", name="Save patient").click()
    expect(page.locator("#weight_kg-error")).to_have_text("Weight must be between 2 and 150 kg.")
    expect(page.get_by_label("First name")).to_have_value("Zara")
    check_accessibility(page, "patient-new-errors")
    page.get_by_label("Last name").fill("Quinn")
    page.get_by_label("Date of birth").fill("2018-06-01")
    page.get_by_label("Hospital number (MRN)").fill("E2E-501")
    page.get_by_label("Weight (kg)").fill("19.5")
    page.get_by_label("GMFCS level").select_option("3")
    page.get_by_label("Diagnosis").fill("Bilateral spastic cerebral palsy")
    page.get_by_label("Tone type (HAT)").select_option("spastic")
    page.get_by_role("button", name="Save patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    page.get_by_role("link", name="Start a trial for Zara").click()
    expect(page.get_by_label("Child", exact=True)).to_have_value(re.compile(r"\d+"))
    check_accessibility(page, "trial-new")
    page.get_by_label("Bed").fill("9")
    expect(page.get_by_label("Day-1 bolus (mcg)")).to_have_value("50")
    page.get_by_label("Very small child (team choice)").check()  # the brief's default: 25 mcg for a very small child
    expect(page.get_by_label("Day-1 bolus (mcg)")).to_have_value("25")
    page.get_by_role("button", name="Create trial").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zara Quinn")
    expect(page.get_by_text("Planned dose: 25 mcg at 09:00")).to_be_visible()
    check_accessibility(page, "trial-detail")


def test_admin_manages_staff(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/admin/staff/new")
    check_accessibility(page, "staff-new")
    page.get_by_label("Username").fill("e2e-nurse")
    page.get_by_label("Full name").fill("Erin Nurse")
    page.get_by_label("First password").fill("a-long-password")
    page.get_by_label("Nurse").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff accounts")
    check_accessibility(page, "staff")
    page.get_by_role("button", name="Disable e2e-nurse").click()
    page.get_by_role("button", name="Yes, disable e2e-nurse").click()  # asked first (issue 16)
    expect(page.get_by_role("button", name="Enable e2e-nurse")).to_be_visible()
