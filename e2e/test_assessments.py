# ruff: noqa: RUF001  (the app shows a real minus sign and en dashes; the tests check that text)
"""A PT at a 390x844 phone records a full lower-limb baseline (7 muscle groups x 2 sides MAS, one tap each;
4 ROM measures x 2 sides; Tardieu for 2 muscles x 2 sides; 10 m walk) and a post-dose assessment for today,
then reads the comparison.

The test asserts only on what the pages show after saving and on the comparison, so it holds whichever way
the form is saved: through the outbox (static/js/outbox-*.js, in the outbox-core and common bundles, then
/api/sync) or as a plain form POST. It runs once as shipped and once with the outbox bundle blocked, so the
plain path is always proven too.
Each run uses a child of its own and closes the trial at the end (the demo children are shared).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, check_accessibility, sign_in, tap_grade, wait_until

LOWER = [("hip_flexors", "Hip flexors"), ("hip_adductors", "Hip adductors"),
         ("hip_internal_rotators", "Hip internal rotators"), ("knee_flexors", "Knee flexors (hamstrings)"),
         ("knee_extensors", "Knee extensors (quadriceps)"),
         ("gastrocnemius", "Plantar-flexors: gastrocnemius (knee straight)"),
         ("soleus", "Plantar-flexors: soleus (knee bent)")]
# Baseline and post-dose grades, both sides alike. On the Ashworth 0-4 mapping (1+ = 1.5) the lower-limb
# mean goes 2 -> 1, a change of -1: it meets the tone criterion (reduction >= 1.0).
BASELINE_MAS = ["2", "2", "1+", "2", "1+", "3", "2"]
POST_MAS = ["1", "1", "0", "1", "1", "2", "1"]
ROM = ["hip_abduction", "popliteal_angle", "ankle_df_knee_extended", "ankle_df_knee_flexed"]
BASELINE_ROM = {"left": ["25", "55", "0", "10"], "right": ["20", "60", "-5", "5"]}
POST_ROM = {"left": ["30", "45", "5", "15"], "right": ["28", "50", "0", "10"]}
# (muscle, label, side) -> (R1, R2, quality)
BASELINE_TARDIEU = {("hamstrings", "Hamstrings", "left"): ("75", "50", "2"),
                    ("hamstrings", "Hamstrings", "right"): ("80", "55", "2"),
                    ("gastrocnemius", "Gastrocnemius (knee straight)", "left"): ("-10", "0", "3"),
                    ("gastrocnemius", "Gastrocnemius (knee straight)", "right"): ("-15", "-5", "3")}
POST_TARDIEU = {("hamstrings", "Hamstrings", "left"): ("60", "48", "1"),
                ("hamstrings", "Hamstrings", "right"): ("65", "52", "1"),
                ("gastrocnemius", "Gastrocnemius (knee straight)", "left"): ("-2", "2", "1"),
                ("gastrocnemius", "Gastrocnemius (knee straight)", "right"): ("-5", "0", "1")}


@pytest.fixture
def child(make_child, request: pytest.FixtureRequest) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A new GMFCS III child on day 1 of a trial today: (trial id, first name). Closed afterwards."""
    return make_child(request.param, last_name="Assess"), request.param


def _number(page: Page, name: str, value: str) -> None:
    """Type a number on the keypad; a minus sign goes in with the ± key, as on a phone's decimal pad."""
    box = page.locator(f'input[name="{name}"]')
    expect(box).to_have_attribute("inputmode", "decimal")
    box.fill(value.lstrip("-"))
    if value.startswith("-"):
        page.locator(f'button[data-sign-for="{name}"]').click()
    expect(box).to_have_value(value)


def _fill(page: Page, mas: list[str], rom: dict[str, list[str]], tardieu: dict, walk: str) -> None:  # type: ignore[type-arg]
    for (_, label), grade in zip(LOWER, mas, strict=True):
        for side in ("Left", "Right"):
            tap_grade(page, f"{label}, {side}", grade)
    for side in ("left", "right"):
        for measure, value in zip(ROM, rom[side], strict=True):
            _number(page, f"rom.{measure}.{side}", value)
    for (muscle, label, side), (r1, r2, quality) in tardieu.items():
        _number(page, f"tardieu.{muscle}.{side}.r1", r1)
        _number(page, f"tardieu.{muscle}.{side}.r2", r2)
        tap_grade(page, f"{label} {side}, Quality", quality)
    _number(page, "gait.walk_10m_seconds", walk)


def _fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    small = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.seg > label, input.num, .nt > summary, .save-bar button, .sign-toggle:not([hidden])'))
        .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && (r.width < 44 || r.height < 44)).length""")
    assert small == 0, "touch targets under 44 px"


def _screens(page: Page, name: str, offsets: tuple[int, ...]) -> None:
    """Phone-sized screenshots down the page, to look at (full-page ones come from check_accessibility)."""
    for y in offsets:
        page.evaluate(f"window.scrollTo(0, {y})")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{y}.png"), caret="initial")
    page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.parametrize(("child", "outbox"), [("Maya", False), ("Theo", True)], indirect=["child"],
                         ids=["plain-post", "as-shipped"])
def test_pt_records_baseline_and_post_dose_then_sees_the_comparison(page: Page, child: tuple[int, str],
                                                                    outbox: bool) -> None:
    _, first = child
    if not outbox:  # prove the plain form POST path: no outbox on the page (outbox-ui.js stops without it)
        # On the context, so the second tab of the draft check is blocked too (a service worker registered
        # there would serve the scripts to this tab past any page-level route).
        page.context.route(re.compile(r".*/static/dist/outbox-core\.[0-9a-f]{8}\.js$"), lambda route: route.fulfill(
            status=200, content_type="text/javascript", body="/* blocked by the test */"))
    sign_in(page, "pt")
    page.get_by_role("link", name=f"Baseline for {first}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} A. · Day 1 · Baseline")
    check_accessibility(page, f"assessment-baseline-{'outbox' if outbox else 'plain'}")
    _fits_a_phone(page)

    # A range check beside the field before saving, in the server's words; gone once corrected.
    box = page.locator('input[name="rom.popliteal_angle.left"]')
    box.fill("400")
    box.press("Tab")
    expect(page.locator('[id="rom.popliteal_angle.left-client-error"]')).to_have_text(
        "Popliteal angle must be between 0 and 180 degrees.")
    box.fill("55")
    box.press("Tab")
    expect(page.locator('[id="rom.popliteal_angle.left-client-error"]')).to_have_count(0)

    _fill(page, BASELINE_MAS, BASELINE_ROM, BASELINE_TARDIEU, "12.5")
    expect(page.get_by_text("Speed 0.80 m/s")).to_be_visible()
    if not outbox:
        _screens(page, "assessment-form", (0, 900, 2600, 3600))

    # The draft kept on the phone survives a closed tab: a new tab opening the form gets every value back...
    expect(page.get_by_text(re.compile(r"^Draft kept on this phone"))).to_be_visible()
    # The draft is written a moment (250 ms) after the last keystroke: wait for the last value to be in it.
    wait_until(page, "() => Object.keys(localStorage).some(k => (localStorage.getItem(k) || '').includes('12.5'))")
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.get_by_text(re.compile(r"^Draft restored from"))).to_be_visible()
    expect(other.locator('input[name="tardieu.gastrocnemius.right.r1"]')).to_have_value("-15")
    expect(other.locator('input[name="gait.walk_10m_seconds"]')).to_have_value("12.5")
    for (_, label), grade in zip(LOWER, BASELINE_MAS, strict=True):
        for side in ("Left", "Right"):
            expect(other.get_by_role("group", name=f"{label}, {side}", exact=True)
                   .get_by_role("radio", name=grade, exact=True)).to_be_checked()
    if not outbox:
        assert other.evaluate("navigator.serviceWorker.controller") is None
    other.close()
    # ...and so does a reload (a locked screen, the browser dropping the page).
    page.reload()
    expect(page.get_by_text(re.compile(r"^Draft restored from"))).to_be_visible()
    expect(page.locator('input[name="rom.popliteal_angle.left"]')).to_have_value("55")
    expect(page.get_by_role("group", name="Hip internal rotators, Left", exact=True)
           .get_by_role("radio", name="1+", exact=True)).to_be_checked()

    form_url = page.url
    page.get_by_role("button", name="Save baseline").click()
    expect(page.get_by_text("Baseline saved.")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("row", name=re.compile(r"^Hip internal rotators 1\+ 1\+$"))).to_be_visible()
    saved_url = page.url
    # The saved page clears the draft once its (deferred) scripts run, which may be after its text shows.
    wait_until(page, "() => Object.keys(localStorage).filter(k => k.startsWith('itb.draft:')).length === 0")
    page.goto(form_url)  # done: the day's baseline opens as saved, with Correct and Add a repeat
    expect(page.get_by_text("Baseline for day 1 is already saved.", exact=False)).to_be_visible()
    page.get_by_role("link", name="Add a repeat").click()  # saved, so the draft is gone: a repeat opens empty
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} A. · Day 1 · Baseline")
    expect(page.get_by_text(re.compile(r"^Draft restored"))).to_have_count(0)
    expect(page.locator('input[name="rom.popliteal_angle.left"]')).to_have_value("")
    page.goto(saved_url)

    page.get_by_role("link", name="Post-dose for day 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} A. · Day 1 · Post-dose")
    # Each post-dose field shows the same day's baseline beside it.
    expect(page.locator('[id="mas.gastrocnemius.right-baseline"]')).to_have_text("Baseline 3")
    expect(page.locator('[id="rom.popliteal_angle.left-baseline"]')).to_have_text("Baseline 55°")
    expect(page.get_by_text("No dose is recorded for this day yet.")).to_be_visible()
    check_accessibility(page, f"assessment-post-dose-{'outbox' if outbox else 'plain'}")
    _fill(page, POST_MAS, POST_ROM, POST_TARDIEU, "10")
    if not outbox:
        _screens(page, "assessment-post-dose", (0, 1800))
    if not outbox:  # still the plain form POST: no outbox, no service worker on this page
        assert page.evaluate("!!(window.ITB && window.ITB.outboxSummary) || !!navigator.serviceWorker.controller"
                             ) is False
    page.get_by_role("button", name="Save post-dose").click()
    expect(page.get_by_text("Post-dose saved.")).to_be_visible(timeout=20_000)
    expect(page.get_by_text(re.compile(r"^No dose recorded yet for this day: kept and flagged"))).to_be_visible()

    page.get_by_role("link", name="Comparison").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} A. · baseline vs post-dose")
    expect(page.locator(".day-summary").last).to_have_text("Mean MAS −1 (Ashworth 0–4, 1+ = 1.5) · meets")
    tone = page.locator(".tone-box")
    expect(tone).to_contain_text("Mean lower-limb MAS 2 → 1, change −1 (Ashworth 0–4, 1+ = 1.5)")
    expect(tone).to_contain_text("Meets the tone criterion (mean reduction ≥ 1.0) · 14 of 14 muscle-side pairs")
    expect(page.get_by_role("row", name=re.compile(r"^Hip internal rotators 1\+ → 0 −1.5 less tone"))).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile(r"^Popliteal angle 55° → 45° −10° more range"))).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile(r"^Hamstrings: R2−R1 \(dynamic component\) 25° → 12°"))
           ).to_have_count(1)
    expect(page.get_by_role("row", name=re.compile(r"^10 m walk speed 0.8 m\/s → 1 m\/s \+0.2 m\/s faster"))
           ).to_have_count(1)
    _fits_a_phone(page)
    check_accessibility(page, f"assessment-comparison-{'outbox' if outbox else 'plain'}")
    if not outbox:
        _screens(page, "assessment-comparison", (0, 700))
    # The other MAS mapping, shown beside the mean, changes the numbers, not the raw grades.
    page.get_by_label("MAS numbers used for means").select_option("ordinal_0_5")
    page.get_by_role("button", name="Show").click()
    expect(tone).to_contain_text("(Ordinal 0–5 (1+ = 2))")
    expect(page).to_have_url(re.compile(r"mapping=ordinal_0_5"))
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("link", name=re.compile(r"Day 1 · Baseline"))).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile(r"Day 1 · Post-dose"))).to_have_count(1)
