"""Every path that sets a dose, at the route (issue 10, acceptance): a value above the absolute maximum, a time
under 24 h from another dose, and a closed trial are each refused with a message and write nothing (row counts
before and after). Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

The paths: the plan (/days/<id>/plan), the dose record (/days/<id>/dose), its correction (/doses/<id>/amend), the
team's day decision that sets tomorrow's dose (/days/<id>/decision), and the outcome sync (/api/sync: no entry kind
sets a dose, so any such entry is refused as unknown)."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.decisions.models import DayDecision
from server.dosing.models import DoseAdministration, DosePlanChange
from server.extensions import db
from server.sync_api.models import SyncConflict, SyncLedger
from server.trials.models import Trial, TrialDay
from tests.dosing.conftest import day_id, give

PAST = date(2026, 11, 2)  # Mon; London on GMT
REASON = "Partial response at 100 mcg; the team agreed a higher test dose."
ABOVE = {"dose_mcg": "other", "other_dose_mcg": "5000", "override_reason": REASON, "override_confirm": "5000"}
CASES = ("above_maximum", "under_24_h", "closed_trial")


def _snapshot(app: Flask) -> tuple[Any, ...]:
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (
            DoseAdministration, DosePlanChange, DayDecision, AuditEvent, SyncLedger, SyncConflict))
        plans = tuple(db.session.execute(select(TrialDay.id, TrialDay.revision, TrialDay.planned_dose_mcg,
                                                TrialDay.planned_at, TrialDay.dose_status)
                                         .order_by(TrialDay.id)).all())
        return counts, plans


def _arrange(app: Flask, staff: dict[str, int], trial_on, case: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Day 1 given at 09:00 and day 2 at 09:00 the next day; the trial closed for the closed-trial case."""
    tid = trial_on(PAST)
    ids = {"trial": tid, "day1": day_id(app, tid, 1), "day2": day_id(app, tid, 2), "day3": day_id(app, tid, 3)}
    ids["dose1"] = give(app, ids["day1"], staff, time(9, 0))
    ids["dose2"] = give(app, ids["day2"], staff, time(9, 0))
    if case == "closed_trial":
        with app.app_context():
            db.session.get(Trial, tid).status = "completed"
            db.session.commit()
    return ids


def _plan(ids: dict[str, int], staff: dict[str, int], case: str) -> tuple[str, dict[str, Any]]:
    form = {"dose_mcg": "75", "planned_time": "09:00", "base_revision": "1"}
    if case == "above_maximum":
        form |= ABOVE
    elif case == "under_24_h":
        form["planned_time"] = "08:00"  # day 3 at 08:00: 23 h after day 2
    return f"/days/{ids['day3']}/plan", form


def _record(ids: dict[str, int], staff: dict[str, int], case: str) -> tuple[str, dict[str, Any]]:
    form = {"given_time": "09:00", "dose_mcg": "75", "route": "catheter", "given_by_id": str(staff["surgeon"]),
            "checked_by_id": str(staff["nurse"])}
    if case == "above_maximum":
        form |= ABOVE
    elif case == "under_24_h":
        form["given_time"] = "08:00"
    return f"/days/{ids['day3']}/dose", form


def _amend(ids: dict[str, int], staff: dict[str, int], case: str) -> tuple[str, dict[str, Any]]:
    form = {"given_time": "09:00", "dose_mcg": "75", "checked_by_id": str(staff["nurse2"]), "base_version": "1",
            "reason": "The dose was typed from the wrong line of the chart."}
    if case == "above_maximum":
        form |= ABOVE
    elif case == "under_24_h":
        form["given_time"] = "08:30"  # day 2 moved to 23 h 30 min after day 1
    return f"/doses/{ids['dose2']}/amend", form


def _decision(ids: dict[str, int], staff: dict[str, int], case: str) -> tuple[str, dict[str, Any]]:
    form = {"effect": "inadequate", "next_step": "escalate", "dose_mcg": "75", "planned_time": "09:00",
            "rationale": "Little change at 50 mcg.", "team_present": ["surgeon"], "base_revision": "0"}
    if case == "above_maximum":
        form |= ABOVE
    elif case == "under_24_h":
        form["planned_time"] = "08:00"
    return f"/days/{ids['day2']}/decision", form


PATHS = {"plan": _plan, "dose record": _record, "dose correction": _amend, "day decision": _decision}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("path", list(PATHS))
def test_every_form_path_refuses_with_a_message_and_writes_nothing(app, client, signed_in, staff, trial_on,  # type: ignore[no-untyped-def]
                                                                    path, case) -> None:
    ids = _arrange(app, staff, trial_on, case)
    url, form = PATHS[path](ids, staff, case)
    signed_in("surgeon")
    before = _snapshot(app)
    response = client.post(url, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, (path, case, response.status_code)
    expected = {"above_maximum": "5000 mcg is above the absolute maximum of 150 mcg per bolus: no override allows it.",
                "under_24_h": "the minimum interval between boluses is 24 h.",
                "closed_trial": "This trial is completed"}[case]
    assert expected in html, (path, case)
    assert 'class="field-error"' in html or 'class="alert alert-error"' in html
    assert _snapshot(app) == before, (path, case)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", ["dosing.record", "dosing.plan", "dosing.amend", "decisions.record"])
def test_the_sync_path_sets_no_dose(app, client, signed_in, staff, trial_on, kind, case) -> None:  # type: ignore[no-untyped-def]
    ids = _arrange(app, staff, trial_on, case)
    author = signed_in("surgeon", "nurse")
    payload = {"trial_day_id": str(ids["day3"]), "given_time": "08:00" if case == "under_24_h" else "09:00",
               "dose_mcg": "5000" if case == "above_maximum" else "75", "planned_time": "09:00"}
    before = _snapshot(app)
    response = client.post("/api/sync", json={"protocol_version": 1, "device_id": "ward-phone", "entries": [
        {"id": str(uuid.uuid4()), "kind": kind, "author_id": author, "device_id": "ward-phone",
         "recorded_at": "2026-11-04T09:00:00+00:00", "base_rev": None, "form_version": 1, "payload": payload}]})
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(f"Unknown entry kind {kind!r}")
    assert _snapshot(app) == before
