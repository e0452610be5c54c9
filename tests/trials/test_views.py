"""The trials list and its status filter."""

from __future__ import annotations

import re

import pytest

from server.extensions import db
from server.trials.models import Trial


@pytest.mark.parametrize("chosen", ["active", "completed", "planned", "stopped"])
def test_the_status_filter_lists_only_that_status(app, client, signed_in, make_trial, chosen) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    ids = {status: make_trial() for status in ("planned", "active", "completed")}
    with app.app_context():
        for status, trial_id in ids.items():
            db.session.get(Trial, trial_id).status = status
        db.session.commit()
    response = client.get(f"/trials?status={chosen}")
    assert response.status_code == 200  # the filter's name once collided with the HTTP status
    html = response.get_data(as_text=True)
    listed = {int(n) for n in re.findall(r'href="/trials/(\d+)"', html)}
    assert listed == ({ids[chosen]} if chosen in ids else set())
    assert 'aria-current="true">' + {"active": "Active", "completed": "Completed", "planned": "Planned",
                                     "stopped": "Stopped early"}[chosen] in html


def test_an_unknown_status_lists_everything(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    trial_id = make_trial()
    response = client.get("/trials?status=bogus")
    assert response.status_code == 200
    assert f'href="/trials/{trial_id}"' in response.get_data(as_text=True)


def test_the_list_shows_the_decisions_and_outcome_still_to_record(  # type: ignore[no-untyped-def]
        app, client, signed_in, make_user, make_trial) -> None:

    from datetime import timedelta

    from server.decisions.services import record_decision
    from server.web import clock
    from tests.decisions.conftest import day_id, decision, give

    surgeon = signed_in("surgeon")
    nurse = make_user("nurse")
    with app.app_context():
        yesterday = clock.today() - timedelta(days=1)  # so day 1's reassessment window has opened, at any hour
    trial_id, untouched = make_trial(start_date=yesterday), make_trial()

    def listed() -> str:
        response = client.get("/trials")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "decision due" not in listed() and "Outcome due" not in listed()
    with app.app_context():
        give(trial_id, 1, nurse=nurse, surgeon=surgeon)
        first = day_id(trial_id, 1)
    html = listed()
    assert f'href="/days/{first}/decision">Day 1 decision due' in html
    assert html.count("decision due") == 1  # nothing for the trial with no dose yet
    with app.app_context():
        record_decision(first, decision(effect="good", next_step="end", dose_mcg=None), author_id=surgeon)
        db.session.commit()
    html = listed()
    assert "decision due" not in html
    assert f'href="/trials/{trial_id}/outcome">Outcome due' in html
    with app.app_context():
        from server.decisions.services import record_outcome

        record_outcome(trial_id, {"outcome": "candidate", "outcome_reason": "Clear response at the first dose.",
                                  "confirm_missing": True, "base_revision": db.session.get(Trial, trial_id).revision},
                       author_id=surgeon)
        db.session.commit()
    assert "Outcome due" not in listed()
    assert f"/trials/{untouched}/outcome" not in listed()  # no dose yet: nothing to record
