"""The PDF made on the server (WeasyPrint) from the summary page: the same content, the child and MRN at the top of
every page, no navigation, and the paper asked for (A4 or US Letter)."""

from __future__ import annotations

import pytest

from tests.pdftext import page_size, pdf_pages

NAVIGATION = ("Sign out", "Menu", "My patients", "Ward", "On this phone", "Change password", "Skip to content",
              "Download PDF")


@pytest.mark.parametrize(("paper", "size"), [("a4", (595.3, 841.9)), ("letter", (612.0, 792.0))])
def test_the_server_side_pdf_holds_the_summary(app, client, signed_in, build, tmp_path, paper, size) -> None:  # type: ignore[no-untyped-def]
    trial_id = build(days=3)
    signed_in("surgeon")
    response = client.get(f"/trials/{trial_id}/summary.pdf", query_string={"paper": paper})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="itb-trial-{trial_id}-summary-{paper}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    width, height = page_size(response.data, tmp_path)
    assert (round(width, 1), round(height, 1)) == size
    pages = pdf_pages(response.data, tmp_path)
    assert len(pages) >= 5  # the child, each of the three days, the goals and the outcome each begin a page
    mrn = next(line.split("MRN ")[1].split(" ")[0] for line in pages[0].splitlines() if "MRN " in line)
    assert all(f"MRN {mrn}" in page for page in pages), "the running head names the MRN on every page"
    text = "\n".join(pages)
    for day, mcg in ((1, 50), (2, 75), (3, 75)):
        block = text[text.index(f"Day {day} · "):]
        block = block[:block.index("PT assessments")]
        given = block[block.index("Given\n"):].split("\n")
        assert f"{mcg} mcg at 09:00 · Intrathecal catheter" in given[:3], (day, given[:3])
    assert "Candidacy outcome" in text and "Candidate for a pump" in text
    assert "Tone clearly lower at 75 mcg; goals met; family keen." in text
    assert "150 mcg per 24 h" in text
    assert "The parents' observations (their words)" in text
    for word in NAVIGATION:
        assert word not in text, word
