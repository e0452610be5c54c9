"""The trial summary printed by the browser: a PT opens it from the trial page of the completed demo trial (Daniel,
DEMO-1004) and Chromium prints it to PDF on A4 and on US Letter (`page.pdf`, the browser's print with the page's
print styles). Each page's text (pdftotext) names the child's MRN in the running head, each day's dose and the
outcome are there, and nothing of the app's navigation is; the pages are kept as PNG to look at
(e2e/screenshots/summary-*.png). The "Download PDF" link gives the PDF made on the server from the same page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from e2e.conftest import SCREENSHOTS, ServerDb, check_accessibility, sign_in
from tests.pdftext import page_size, pages_as_png, pdf_pages

MRN = "DEMO-1004"
DOSES = ((1, 50), (2, 75), (3, 75))  # the demo trial's doses, each given at 09:00
NAVIGATION = ("Sign out", "Menu", "My patients", "Ward", "Trials", "Admin", "On this phone", "Change password",
              "Skip to content", "Colours", "Download PDF")
SIZES = {"A4": (595.4, 842.4), "Letter": (612.0, 792.0)}  # points: Chromium's A4 is 8.27 x 11.7 in


def _daniel(server_db: ServerDb) -> int:
    return int(server_db.scalar("SELECT trials.id FROM trials JOIN patients ON patients.id = trials.patient_id "
                                "WHERE patients.mrn = :mrn", mrn=MRN))


def _check_printed(body: bytes, folder: Path) -> list[str]:
    pages = pdf_pages(body, folder)
    assert len(pages) >= 5, len(pages)  # the child; each day; the goals; the outcome: each begins a page
    for number, text in enumerate(pages, 1):
        assert f"MRN {MRN}" in text and "Daniel Okafor" in text, f"page {number} has no running head"
        for word in NAVIGATION:
            assert word not in text, (number, word)
    text = "\n".join(pages)
    for day, mcg in DOSES:
        block = text[text.index(f"Day {day} · "):]
        assert f"{mcg} mcg at 09:00 · Intrathecal catheter" in block[:block.index("PT assessments")], day
    assert "Candidacy outcome" in text and "Candidate for a pump" in text
    assert "Tone clearly lower at 75 mcg on day 3; goals met; family keen." in text
    return pages


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_browser_prints_the_summary(page: Page, server_db: ServerDb, tmp_path: Path, paper: str) -> None:
    trial_id = _daniel(server_db)
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}")
    page.get_by_role("link", name="Trial summary (print or PDF)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trial summary · Daniel Okafor")
    expect(page.get_by_role("img", name="Mean lower-limb MAS before and after each day's dose")).to_be_visible()
    if paper == "A4":
        check_accessibility(page, "summary-phone")
    body = page.pdf(format=paper)
    width, height = page_size(body, tmp_path)
    assert (width, height) == pytest.approx(SIZES[paper], abs=1)
    _check_printed(body, tmp_path)
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob(f"summary-{paper.lower()}-*.png"):
        old.unlink()
    assert pages_as_png(body, SCREENSHOTS, f"summary-{paper.lower()}")
    (SCREENSHOTS / f"summary-{paper.lower()}.pdf").unlink()


def test_the_print_is_black_on_white_in_the_dark_theme(page: Page, server_db: ServerDb, tmp_path: Path) -> None:
    trial_id = _daniel(server_db)
    page.emulate_media(color_scheme="dark")
    sign_in(page, "surgeon")
    page.goto(f"/trials/{trial_id}/summary")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.emulate_media(media="print", color_scheme="dark")
    colours = page.evaluate("""() => ['h1', '.summary-facts dd', '.summary-facts dt', '.muted'].map(
        s => getComputedStyle(document.querySelector(s)).color)""")
    assert colours == ["rgb(0, 0, 0)", "rgb(0, 0, 0)", "rgb(51, 51, 51)", "rgb(51, 51, 51)"]  # black, #333
    [first, *_] = pages_as_png(page.pdf(format="A4"), tmp_path, "dark")
    with Image.open(first) as image:
        counts = image.convert("L").histogram()  # pixels by grey level, 0 (black) to 255 (white)
    white, ink = sum(counts[241:]) / sum(counts), sum(counts[:80]) / sum(counts)
    assert white > 0.8 and ink > 0.005, f"{white:.1%} white, {ink:.1%} near black"


def test_download_pdf_gives_the_server_made_pdf(page: Page, server_db: ServerDb, tmp_path: Path) -> None:
    trial_id = _daniel(server_db)
    sign_in(page, "nurse")
    page.goto(f"/trials/{trial_id}/summary")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF (US Letter)").click()
    download = info.value
    assert download.suggested_filename == f"itb-trial-{trial_id}-summary-letter.pdf"
    body = Path(download.path()).read_bytes()
    assert page_size(body, tmp_path) == pytest.approx(SIZES["Letter"], abs=1)
    _check_printed(body, tmp_path)
    [(latest,)] = server_db.rows("SELECT after FROM audit_events WHERE action = 'read' AND entity_id = :t "
                                 "ORDER BY id DESC LIMIT 1", t=str(trial_id))
    assert "summary PDF" in str(latest) and "letter" in str(latest)
