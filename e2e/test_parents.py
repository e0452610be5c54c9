"""Parent links at phone size: an admin makes a link on a child's trial page and reads it once; a browser with
no session (the parent's phone) opens it and sees the first name and the day's progress, never the MRN, with
no service worker; the admin revokes it, and the parent's reload says the link is not valid any more.

Issue 15: a surgeon hands a link over by its QR code (decoded here), Copy and a printed card; a parent whose
phone reads Spanish sees the page in Spanish, switches to English and back, and tells the team how the day
went; the surgeon reads it beside the day's decision; once the link is revoked the parent's next post gets the
same 404 as an unknown link.

Uses a child of its own (make_child), whose trial is closed afterwards, so the demo's lists stay as they were.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from playwright.sync_api import Browser, Page, Response, expect

from e2e.conftest import PHONE, SCREENSHOTS, app_for, check_accessibility, sign_in
from e2e.server import LiveServer

LATER = datetime(2100, 1, 1, tzinfo=UTC)  # "now" for record_dose: 09:05 today counts as past at any hour


def _day_one_so_far(live_server: LiveServer, trial_id: int, *, decided: bool = True) -> str:
    """Day 1 as the ward and the PT record it, through the real services: 50 mcg at 09:05, MAS 2 before and 1
    after; then (unless `decided` is False) the team's decision to escalate to 75 mcg (a row, as the decisions
    service is not ours to call here). Returns the child's MRN (which the parent must never see)."""
    from sqlalchemy import select

    from server.assessments.schemas import AssessmentSchema
    from server.assessments.services import record_assessment
    from server.auth.models import User
    from server.decisions.models import DayDecision
    from server.dosing.services import record_dose
    from server.extensions import db
    from server.trials.models import Trial
    from server.web.forms import load_form
    from tests.assessments.conftest import form

    app = app_for(live_server)
    with app.app_context():
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        trial = db.session.get(Trial, trial_id)
        record_dose(trial.days[0].id, {"given_time": time(9, 5), "dose_mcg": Decimal("50"), "route": "catheter",
                                       "given_by_id": users["nurse"], "checked_by_id": users["surgeon"]},
                    recorded_by_id=users["surgeon"], now=LATER)
        at = datetime.combine(trial.start_date, time(8, 0), tzinfo=UTC)
        for phase, grade, when in (("baseline", "2", at), ("post_dose", "1", at + timedelta(hours=5))):
            data, errors = load_form(AssessmentSchema(), form(trial_id, phase=phase, grade=grade))  # type: ignore[arg-type]
            assert errors == {} and data is not None
            record_assessment(data, author_id=users["pt"], recorded_at=when, entry_id=str(uuid.uuid4()))
        if decided:
            db.session.add(DayDecision(trial_day_id=trial.days[0].id, revision=1, effect="inadequate",
                                       next_step="escalate", next_dose_mcg=Decimal("75"), rationale="Little change.",
                                       team_present=["surgeon", "pt"], parents_present=False,
                                       decided_by_id=users["surgeon"]))
        db.session.commit()
        mrn = trial.patient.mrn
        db.engine.dispose()
    return mrn


@contextlib.contextmanager
def _parents_phone(browser: Browser, url: str, **options: Any) -> Iterator[tuple[Page, Response, list[str]]]:
    """The parent's phone: a browser context of its own (no session) that has opened `url` (200); with the
    page's console errors, for the test to check."""
    context = browser.new_context(**PHONE, **options)
    try:
        parent = context.new_page()
        errors: list[str] = []
        parent.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        response = parent.goto(url)
        assert response is not None and response.status == 200
        yield parent, response, errors
    finally:
        context.close()


def test_admin_makes_a_link_the_parent_reads_it_and_loses_it_when_revoked(
        page: Page, browser: Browser, live_server: LiveServer, make_child) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Poppy", "Parentlink")
    mrn = _day_one_so_far(live_server, trial_id)

    # The admin opens the child's trial and makes a link for Mum.
    sign_in(page, "admin")
    page.goto(f"/trials/{trial_id}")
    section = page.locator("#parent-links")
    expect(section.get_by_role("heading", name="Parent links")).to_be_visible()
    expect(section.get_by_text("No parent links yet.")).to_be_visible()
    section.get_by_label("Who it is for").fill("Mum")
    expect(section.get_by_label("14 days")).to_be_checked()
    section.get_by_role("button", name="Make a parent link").click()
    shown = section.get_by_label("Link for Mum")
    expect(shown).to_be_visible()
    url = shown.input_value()
    assert url.startswith(f"{live_server.url}/p/") and len(url.rsplit("/", 1)[1]) >= 43
    expect(shown).to_have_attribute("readonly", "")
    expect(section.get_by_text("Copy it now: it is shown only this once.")).to_be_visible()
    check_accessibility(page, "parent-link-made")

    # The parent's phone: a browser with no session at all.
    with _parents_phone(browser, url) as (parent, response, errors):
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        assert response.headers["referrer-policy"] == "no-referrer"
        expect(parent.get_by_role("heading", level=1)).to_have_text("Poppy's trial")
        expect(parent.get_by_text("Day 1 of 3")).to_be_visible()
        expect(parent.get_by_text("Poppy had a test dose of 50 micrograms at 9:05\u202fAM.")).to_be_visible()
        expect(parent.get_by_text("(lower is looser)")).to_be_visible()
        plan = "The team's plan for tomorrow: a slightly higher dose (75 micrograms)."
        expect(parent.get_by_text(plan)).to_be_visible()
        body = parent.locator("body").inner_text()
        assert "Parentlink" not in body and mrn not in body and "Bed" not in body
        assert parent.evaluate("() => navigator.serviceWorker.getRegistration().then(r => !r)")
        check_accessibility(parent, "parent-page")

        # The admin revokes the link; the parent's next reload says it is not valid any more.
        page.get_by_role("button", name="Revoke the link for Mum").click()
        expect(page.get_by_role("status")).to_have_text("The link for Mum is revoked: it no longer works.")
        expect(page.locator("#parent-links").get_by_text("Revoked", exact=True)).to_be_visible()
        expect(page.get_by_label("Link for Mum")).to_have_count(0)  # the link is never shown again
        gone = parent.reload()
        assert gone is not None and gone.status == 404
        expect(parent.get_by_role("heading", level=1)).to_have_text("This link is not valid any more")
        expect(parent.get_by_text("Ask the ward team for a new one.")).to_be_visible()
        assert "Poppy" not in parent.locator("body").inner_text()
        check_accessibility(parent, "parent-link-not-valid")
        assert [e for e in errors if "404" not in e] == []


def _qr_text(page: Page) -> str:
    """The QR code on the page, as a phone's camera would read it (a screenshot decoded by zxing-cpp)."""
    import io

    import zxingcpp
    from PIL import Image

    shot = page.locator(".link-card-qr svg").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert len(found) == 1, found
    return str(found[0].text)


def test_a_spanish_speaking_parent_tells_the_team_and_the_surgeon_reads_it_beside_the_decision(
        page: Page, browser: Browser, live_server: LiveServer, make_child) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_child("Lucia", "Handover")
    mrn = _day_one_so_far(live_server, trial_id, decided=False)

    # The surgeon makes a link: the QR code beside it opens the same address; Copy puts it on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, "surgeon")
    page.goto(f"/trials/{trial_id}")
    section = page.locator("#parent-links")
    section.get_by_label("Who it is for").fill("Mamá")
    section.get_by_role("button", name="Make a parent link").click()
    url = section.get_by_label("Link for Mamá").input_value()
    expect(section.get_by_role("img", name="QR code of Mamá's link")).to_be_visible()
    assert _qr_text(page) == url
    section.get_by_role("button", name="Copy", exact=True).click()
    expect(section.get_by_text("Link copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    card = section.get_by_role("article", name="Card for Mamá: scan the QR code, or print it")
    expect(card.get_by_text("Lucia's trial page")).to_be_visible()
    expect(card.get_by_text("La página de la prueba de Lucia")).to_be_visible()
    check_accessibility(page, "parent-link-panel")
    section.locator(".link-handover").screenshot(path=str(SCREENSHOTS / "parent-link-qr.png"))

    # Printed, the page is the card alone: QR code, first name, expiry, what the link shows.
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "parent-link-card-print.png"), full_page=True)
    expect(card).to_be_visible()
    expect(card.get_by_role("img", name="QR code of Mamá's link")).to_be_visible()
    expect(card.get_by_text("The link works until")).to_be_visible()
    expect(page.get_by_role("button", name="Make a parent link")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_hidden()
    box = card.bounding_box()
    assert box is not None and box["y"] < 40  # the card starts the page, and nothing follows it (no blank pages)
    assert page.evaluate("document.documentElement.scrollHeight") <= max(844, box["y"] + box["height"] + 40)
    page.emulate_media(media="screen")

    # The parent's phone reads Spanish.
    with _parents_phone(browser, url, extra_http_headers={"Accept-Language": "es-US,es;q=0.9"}) as (
            parent, _, errors):
        expect(parent.locator("html")).to_have_attribute("lang", "es")
        expect(parent.get_by_role("heading", level=1)).to_have_text("La prueba de Lucia")
        expect(parent.get_by_text("Lucia recibió una dosis de prueba de 50 microgramos a las 9:05.")).to_be_visible()
        expect(parent.get_by_role("term").filter(has_text="Catéter")).to_be_visible()
        body = parent.locator("body").inner_text()
        assert "Handover" not in body and mrn not in body
        check_accessibility(parent, "parent-page-es")

        # English, and back: the choice is in the address, not in a cookie.
        parent.get_by_role("link", name="English").click()
        expect(parent.get_by_role("heading", level=1)).to_have_text("Lucia's trial")
        assert "lang=en" in parent.url
        check_accessibility(parent, "parent-page-en")
        parent.get_by_role("link", name="Español").click()
        expect(parent.get_by_role("heading", level=1)).to_have_text("La prueba de Lucia")
        assert parent.context.cookies() == []

        # The day's observation, in Spanish.
        form = parent.get_by_role("form", name="Cuéntele al equipo cómo estuvo Lucia hoy")
        form.get_by_role("group", name="¿Qué tan a gusto estuvo Lucia?").get_by_label("A gusto", exact=True).check()
        form.get_by_role("group", name="¿Cómo durmió Lucia anoche?").get_by_label("Mal", exact=True).check()
        form.get_by_role("group", name="¿Qué tan fácil fue para Lucia moverse, comparado con otros días?") \
            .get_by_label("Más fácil que de costumbre", exact=True).check()
        form.get_by_label("Algo más que haya notado (opcional)").fill("Se despertó dos veces, pero estaba contenta.")
        form.get_by_role("button", name="Enviar al equipo").click()
        expect(parent.get_by_role("status")).to_have_text(
            "Gracias. Sus respuestas del día 1 están guardadas. El equipo ya puede leerlas.")
        expect(form.get_by_label("A gusto", exact=True)).to_be_checked()
        check_accessibility(parent, "parent-page-es-saved")

        # The surgeon reads it beside the day's decision, marked as the parents' words.
        page.goto(f"/trials/{trial_id}/decisions")
        page.get_by_role("link", name="Record the decision for day 1").click()
        words = page.get_by_role("region", name="The parents' observations (their words)")
        expect(words).to_contain_text("From the parents' link “Mamá”")
        expect(words).to_contain_text("Comfortable")
        expect(words).to_contain_text("Badly")
        expect(words).to_contain_text("Easier than usual")
        expect(words).to_contain_text("Se despertó dos veces, pero estaba contenta.")
        expect(page.get_by_role("button", name="Save the decision")).to_be_visible()  # the form it sits beside
        check_accessibility(page, "decision-with-parents-words")

        # The parent switches to English: the page and their answers in English.
        parent.get_by_role("link", name="English").click()
        expect(parent.get_by_role("heading", level=1)).to_have_text("Lucia's trial")
        form = parent.get_by_role("form", name="Tell the team how Lucia was today")
        expect(form.get_by_label("Comfortable", exact=True)).to_be_checked()

        # The link is revoked: the parent's next post is refused with the page of a link that does not work.
        page.goto(f"/trials/{trial_id}")
        page.get_by_role("button", name="Revoke the link for Mamá").click()
        expect(page.get_by_role("status")).to_have_text("The link for Mamá is revoked: it no longer works.")
        form.get_by_label("Very comfortable", exact=True).check()
        with parent.expect_response(lambda r: r.request.method == "POST") as posted:
            form.get_by_role("button", name="Save my changes").click()
        assert posted.value.status == 404
        expect(parent.get_by_role("heading", level=1)).to_have_text("This link is not valid any more")
        unknown = parent.context.request.post(f"{live_server.url}/p/{'Z' * 43}/days/1/observation?lang=en",
                                              form={"comfort": "5"})
        assert unknown.status == 404 and unknown.text() == posted.value.text()
        assert [e for e in errors if "404" not in e] == []
