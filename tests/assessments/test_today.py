"""The PT's list tells the day (issue 13, finding 3): the dose as given or held, baseline done or due, the
post-dose window (opens, open now, passed), and what needs the PT now first."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time

import pytest
from time_machine import TimeMachineFixture

from server.assessments.services import record_assessment
from server.dosing.services import hold_dose
from server.extensions import db
from tests.assessments.conftest import form, loaded
from tests.dosing.conftest import day_id, give

DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)  # 13:30 in London (GMT)


@pytest.fixture
def at_1330(time_machine: TimeMachineFixture) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


def _baseline(app, trial_id: int, pt: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        record_assessment(loaded(form(trial_id)), author_id=pt, recorded_at=at, entry_id=str(uuid.uuid4()))
        db.session.commit()


def _cards(html: str) -> list[tuple[str, str]]:
    """(first name, the card's text) in the order shown."""
    out = []
    for card in re.findall(r'<li class="card[^"]*" data-needs="[^"]+">(.*?)<div class="card-actions">', html, re.S):
        name = re.search(r'class="card-title">([^ <]+)', card)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))
        out.append((name.group(1) if name else "?", text))
    return out


def test_the_list_shows_what_happened_and_puts_what_needs_the_pt_first(  # type: ignore[no-untyped-def]
        app, client, make_user, make_trial, make_patient, at_1330) -> None:
    staff = {"surgeon": make_user("surgeon"), "nurse": make_user("nurse")}
    pt = make_user("pt")
    held = make_trial(patient_id=make_patient(first_name="Hana", last_name="Held"), start_date=DAY, bed="1")
    make_trial(patient_id=make_patient(first_name="Wes", last_name="Waiting"), start_date=DAY, bed="2")
    missed = make_trial(patient_id=make_patient(first_name="Mia", last_name="Missed"), start_date=DAY, bed="3")
    now_due = make_trial(patient_id=make_patient(first_name="Noa", last_name="Now"), start_date=DAY, bed="4")
    with app.app_context():
        hold_dose(day_id(app, held, 1), {"action": "hold", "reason": "Fever 38.4 C", "base_revision": 1},
                  author_id=staff["surgeon"])
        db.session.commit()
    give(app, day_id(app, missed, 1), staff, time(7, 0), now=NOW)     # window 10:00-12:00: passed
    _baseline(app, now_due, pt, datetime(2026, 11, 25, 8, 30, tzinfo=UTC))
    give(app, day_id(app, now_due, 1), staff, time(9, 10), mcg="75", now=NOW)  # window 12:10-14:10: open

    client.login(_username(app, pt))
    html = client.get("/today").get_data(as_text=True)
    cards = _cards(html)
    assert [name for name, _ in cards] == ["Noa", "Wes", "Mia", "Hana"]
    text = dict(cards)
    assert "Dose given 75 mcg at 09:10 by" in text["Noa"]
    assert "planned 50 mcg" not in text["Noa"]  # what happened, not the plan
    assert "✓ Baseline done 08:30" in text["Noa"]
    assert "Post-dose due now : window 12:10\u201314:10" in text["Noa"]
    assert "Baseline due" in text["Wes"] and "Dose not given yet · planned 50 mcg at 09:00" in text["Wes"]
    assert "Post-dose window passed at 12:00: not done" in text["Mia"]
    assert "Dose held : Fever 38.4 C" in text["Hana"] and "No post-dose: no dose today" in text["Hana"]


def test_a_post_dose_done_and_a_window_not_yet_open(app, client, make_user, make_trial, make_patient,  # type: ignore[no-untyped-def]
                                                    at_1330) -> None:
    staff = {"surgeon": make_user("surgeon"), "nurse": make_user("nurse")}
    pt = make_user("pt")
    done = make_trial(patient_id=make_patient(first_name="Dee", last_name="Done"), start_date=DAY, bed="1")
    later = make_trial(patient_id=make_patient(first_name="Lou", last_name="Later"), start_date=DAY, bed="2")
    give(app, day_id(app, done, 1), staff, time(8, 0), now=NOW)
    with app.app_context():
        record_assessment(loaded(form(done, phase="post_dose")), author_id=pt,
                          recorded_at=datetime(2026, 11, 25, 12, 5, tzinfo=UTC), entry_id=str(uuid.uuid4()))
        db.session.commit()
    give(app, day_id(app, later, 1), staff, time(11, 0), now=NOW)  # window 14:00-16:00
    client.login(_username(app, pt))
    html = client.get("/today").get_data(as_text=True)
    text = dict(_cards(html))
    assert "✓ Post-dose done 12:05" in text["Dee"]
    assert "Post-dose window opens 14:00 (closes 16:00)" in text["Lou"]


def _username(app, user_id: int) -> str:  # type: ignore[no-untyped-def]
    from server.auth.models import User

    with app.app_context():
        return str(db.session.get(User, user_id).username)
