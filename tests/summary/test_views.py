# ruff: noqa: RUF001  (the page prints en dashes, arrows and minus signs)
"""The trial summary page: what it prints for the medical record, who may read it, the audit row of each read, and
that no stored record breaks it (a trial with nothing yet, a held day, a corrected or entered-in-error dose)."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from tests.decisions.conftest import START, day_id, give
from tests.summary.conftest import MUM, PARENT_NOTE

STAFF = ("pt", "nurse", "surgeon", "admin")
CATHETER = datetime(2026, 11, 1, 16, 30, tzinfo=UTC)  # GMT: hospital time is UTC


def text_of(page: str) -> str:
    """The page's words as a reader sees them: no tags, entities decoded, white space collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    words = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()
    return re.sub(r" ([,.;:)])", r"\1", words)


def section(words: str, start: str, end: str | None) -> str:
    tail = words[words.index(start):]
    return tail[:tail.index(end)] if end else tail


def test_a_completed_trial_prints_everything_the_record_needs(app, client, signed_in, build, team) -> None:  # type: ignore[no-untyped-def]
    trial_id = build(days=3, corrections=1, catheter_placed_at=CATHETER)
    signed_in("nurse")
    response = client.get(f"/trials/{trial_id}/summary")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    words = text_of(response.get_data(as_text=True))
    child = section(words, "Child and trial", "Day 1 ·")
    for fact in ("MRN T0", "Date of birth 14 Mar 2018 (8 years at the trial)", "Weight 20.5 kg", "GMFCS Level 3",
                 "Tone type Spastic", "Catheter placement 1 Nov 2026 16:30", "Outcome Candidate for a pump"):
        assert fact in child, fact
    day1 = section(words, "Day 1 · Monday 2 November 2026", "Day 2 · ")
    assert "Planned 50 mcg at 09:00" in day1
    assert "Given 50 mcg at 08:59 · Intrathecal catheter" in day1  # as corrected
    assert re.search(r"Volume [\d.]+ mL of [\d.]+ mcg/mL · 2\.44 mcg/kg", day1)
    nurse, surgeon = (f"{k}{team[k]}" for k in ("nurse", "surgeon"))
    assert f"Given by {nurse.title()}" in day1 and f"Checked by {surgeon.title()}" in day1
    assert "1 Given: 50 mcg at 09:00" in day1 and "Original record" in day1
    assert "2 (current) Given: 50 mcg at 08:59" in day1 and "The drug sheet says a minute earlier than typed." in day1
    assert "Mean lower-limb MAS 2 → 2, change 0" in day1 and "Does not meet the tone criterion" in day1
    assert "Hip flexors 2 → 2" in day1 and "Spasticity (Modified Tardieu): before → after the dose" in day1
    assert "Popliteal angle 50° → 50°" in day1 and "10 m walk speed 0.8 m/s → 0.8 m/s" in day1
    assert "Gastrocnemius (knee straight)" not in day1 and "Hip abduction" not in day1  # in the plan, not measured
    assert "Overdose sign: " in day1 and "Drowsiness" in day1
    assert f"acted on at 09:20 by {nurse.title()}: Surgeon reviewed; observations every 15 minutes." in day1
    assert "Next step Escalate: a higher dose tomorrow (75 mcg)" in day1
    assert "Took part Neurosurgeon, Physical therapist, parents" in day1
    assert "Parents' view We saw no difference. (their words, as the team recorded them)" in day1
    assert f"The parents' observations (their words) From the parents' link “{MUM}”" in day1
    assert PARENT_NOTE in day1 and "Comfort" in day1
    assert "Effect: onset and duration not recorded." in day1
    day2 = section(words, "Day 2 · Tuesday 3 November 2026", "Day 3 · ")
    assert "Given 75 mcg at 08:59" in day2 and "Mean lower-limb MAS 2 → 1, change −1" in day2
    assert "Meets the tone criterion" in day2 and "Effect: began 1 h after the dose, lasted 6 h." in day2
    assert "Escalations: none." in day2
    day3 = section(words, "Day 3 · Wednesday 4 November 2026", "The family's goals")
    assert "Next step No more test doses: decide candidacy" in day3
    goals = section(words, "The family's goals", "Candidacy outcome")
    assert "1. Sit at the table for a meal 2 −1 Somewhat less than expected 0 As expected +1" in goals
    assert "GAS T-score" in goals
    outcome = section(words, "Candidacy outcome", None)
    assert "Candidate for a pump The team's reasons: Tone clearly lower at 75 mcg; goals met; family keen." in outcome
    assert "150 mcg per 24 h" in outcome  # twice the lowest effective bolus, 75 mcg, whose effect lasted 6 h
    assert "Reviewed and signed by" in outcome


def test_the_chart_is_svg_with_its_numbers_in_words(app, client, signed_in, build) -> None:  # type: ignore[no-untyped-def]
    trial_id = build(days=2, outcome=False)
    signed_in("pt")
    page = client.get(f"/trials/{trial_id}/summary").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="chart-svg-title chart-svg-desc"' in svg
    desc = text_of(svg[svg.index("<desc"):])
    assert "Day 1: 2 before, 2 after (change 0). Day 2: 2 before, 1 after (change −1). Day 3: not assessed." in desc
    assert svg.count('class="chart-bar chart-before"') == 2 and svg.count('class="chart-bar chart-after"') == 2
    assert "<script" not in page[page.index('class="print-frame"'):]


def test_a_trial_with_nothing_recorded_yet_renders(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("surgeon")
    words = text_of(client.get(f"/trials/{trial_id}/summary").get_data(as_text=True))
    assert words.count("Given No dose recorded") == 3
    assert words.count("No PT assessment recorded for this day.") == 3
    assert words.count("No team decision recorded for this day.") == 3
    assert words.count("No nursing observations recorded for this day.") == 3
    assert "Day 1: not assessed. Day 2: not assessed. Day 3: not assessed." in words
    assert "No goals were set with the family." in words and "Not recorded yet: the trial is active." in words
    assert "No suggestion: no test dose met the tone criterion" in words
    assert "Catheter placement Not recorded" in words


def test_a_held_day_and_a_dose_entered_in_error_render(app, client, signed_in, make_trial, team, clock) -> None:  # type: ignore[no-untyped-def]
    from server.dosing.services import current_dose, hold_dose, void_dose
    from server.trials.models import TrialDay

    trial_id = make_trial(start_date=START)
    with app.app_context():
        give(trial_id, 1, nurse=team["nurse"], surgeon=team["surgeon"])
        dose = current_dose(day_id(trial_id, 1))
        void_dose(dose.id, {"reason": "Recorded against the wrong child; this child had no dose.", "base_version": 1},
                  author_id=team["surgeon"])
        day2 = db.session.get(TrialDay, day_id(trial_id, 2))
        hold_dose(day2.id, {"action": "hold", "reason": "Fever of 38.4 this morning; review at noon.",
                            "base_revision": day2.revision}, author_id=team["surgeon"])
        db.session.commit()
    signed_in("admin")
    words = text_of(client.get(f"/trials/{trial_id}/summary").get_data(as_text=True))
    day1 = section(words, "Day 1 ·", "Day 2 ·")
    assert ("Given No dose counts for this day: the record was marked entered in error (Recorded against the wrong "
            "child; this child had no dose.).") in day1
    assert "2 (current) Entered in error: 50 mcg at 09:00" in day1
    assert "Effect:" not in day1  # no dose counts, so there is no effect to report
    day2 = section(words, "Day 2 ·", "Day 3 ·")
    assert "Planned No dose planned · Held: Fever of 38.4 this morning; review at noon." in day2
    assert "Day 1 None" in words  # the trend table: no dose given on day 1


@pytest.mark.parametrize("role", STAFF)
def test_every_staff_role_reads_the_summary_and_its_pdf(app, client, signed_in, make_trial, role) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in(role)
    assert client.get(f"/trials/{trial_id}/summary").status_code == 200
    response = client.get(f"/trials/{trial_id}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")


def test_anyone_not_signed_in_is_sent_to_sign_in(app, client, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    for path in (f"/trials/{trial_id}/summary", f"/trials/{trial_id}/summary.pdf"):
        response = client.get(path)
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/login?next=")


def test_a_parents_link_does_not_reach_the_summary(app, client, make_trial, make_user) -> None:  # type: ignore[no-untyped-def]
    from server.parents.services import create_link

    trial_id = make_trial()
    with app.app_context():
        token = create_link(trial_id, {"label": MUM, "expires_in_days": 7}, author_id=make_user("surgeon")).token
        db.session.commit()
    parents_page = client.get(f"/p/{token}")
    assert parents_page.status_code == 200
    assert "/summary" not in parents_page.get_data(as_text=True)
    for path in (f"/trials/{trial_id}/summary", f"/trials/{trial_id}/summary.pdf",
                 f"/p/{token}/summary", f"/trials/{trial_id}/summary?token={token}"):
        response = client.get(path)
        assert response.status_code in (302, 303, 404), path
        assert response.status_code == 404 or response.headers["Location"].startswith("/login"), path


def test_each_read_is_audited(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    reader = signed_in("pt")
    assert client.get(f"/trials/{trial_id}/summary").status_code == 200
    assert client.get(f"/trials/{trial_id}/summary.pdf?paper=letter").status_code == 200
    with app.app_context():
        from server.trials.models import Trial

        patient_id = db.session.get(Trial, trial_id).patient_id
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read",
                                                           AuditEvent.entity_id == str(trial_id))
                                  .order_by(AuditEvent.id)).all()
        assert [(r.actor_id, r.entity_type, r.after, r.trial_id, r.patient_id) for r in rows] == [
            (reader, "Trial", {"what": "summary"}, trial_id, patient_id),
            (reader, "Trial", {"what": "summary PDF", "paper": "letter"}, trial_id, patient_id)]


def test_an_unknown_trial_or_paper_is_not_found_and_not_audited(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("surgeon")
    assert client.get("/trials/999999/summary").status_code == 404
    assert client.get("/trials/999999/summary.pdf").status_code == 404
    assert client.get(f"/trials/{trial_id}/summary.pdf?paper=a3").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "read")) is None


def test_the_trial_and_decision_pages_link_to_the_summary(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    trial_id = make_trial()
    signed_in("pt")
    link = f'href="/trials/{trial_id}/summary">Trial summary (print or PDF)</a>'
    for path in (f"/trials/{trial_id}", f"/trials/{trial_id}/decisions", f"/trials/{trial_id}/outcome"):
        assert link in client.get(path).get_data(as_text=True), path


def test_the_decision_page_still_shows_the_parents_words(app, client, signed_in, build) -> None:  # type: ignore[no-untyped-def]
    """The parents' observations became a shared macro: the decision page shows them as before."""
    trial_id = build(days=1, outcome=False)
    signed_in("surgeon")
    with app.app_context():
        day = day_id(trial_id, 1)
    words = text_of(client.get(f"/days/{day}/decision").get_data(as_text=True))
    assert f"The parents' observations (their words) From the parents' link “{MUM}”" in words
    assert PARENT_NOTE in words
