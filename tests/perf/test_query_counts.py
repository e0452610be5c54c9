"""The pages a busy unit opens all day run a fixed number of SQL statements, however many trials, assessments,
observations and audit rows the database holds (bench/bench_scale.py measures their time at 10,000 trials).

Each page is counted on a small database (one child on the ward today), then again after the database has
grown: more children on the ward, finished trials with their assessments (corrections among them),
observations and, with them, audit rows. The counts must be the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from server.extensions import db
from tests.querycount import counting

MAS = {"mas.hip_adductors.left": "1", "mas.hip_adductors.right": "1+", "mas.knee_flexors.left": "2",
       "mas.knee_flexors.right": "1", "rom.popliteal_angle.left": "40", "rom.popliteal_angle.right": "45"}


def _assess(app: Flask, trial_id: int, day: int, phase: str, pt: int, at: datetime, *, corrections: int = 0) -> None:
    """An assessment through the one write path, and `corrections` new versions of it."""
    from server.assessments.schemas import schema_for
    from server.assessments.services import correct_assessment, record_assessment

    payload = {"trial_id": str(trial_id), "day_number": str(day), "phase": phase, "repeat": "1", **MAS}
    with app.app_context():
        data = schema_for(payload).load(payload)
        saved = record_assessment(data, author_id=pt, recorded_at=at, entry_id=str(uuid.uuid4()))
        for n in range(corrections):
            saved = correct_assessment(saved.id, data, reason=f"Typo {n}", author_id=pt,
                                       recorded_at=at + timedelta(minutes=n + 1), entry_id=str(uuid.uuid4()))
        db.session.commit()


def _child(app: Flask, make_trial: Callable[..., int], staff: dict[str, int], start: Any, *, dose_day: int | None,
           assessments: int, observations: int, corrections: int = 0, close: bool = False) -> int:
    """A trial starting `start` with a dose on `dose_day` (09:00), observations after it, assessments on day 1."""
    from server.dosing.services import record_dose, record_observation
    from server.trials.models import Trial
    from server.web.clock import local_to_utc

    trial_id = make_trial(start_date=start)
    with app.app_context():
        trial = db.session.get(Trial, trial_id)
        days = {d.day_number: d for d in trial.days}
        if dose_day is not None:
            day = days[dose_day]
            given = local_to_utc(day.date, time(9, 0))
            record_dose(day.id, {"given_time": time(9, 0), "dose_mcg": Decimal("50"), "override_reason": None,
                                 "route": "catheter", "given_by_id": staff["surgeon"],
                                 "checked_by_id": staff["nurse"]}, recorded_by_id=staff["surgeon"],
                        now=given + timedelta(minutes=5))
            for n in range(observations):
                at = given + timedelta(minutes=15 * (n + 1))
                record_observation({"trial_day_id": day.id, "taken_at": at, "heart_rate": 96, "resp_rate": 22,
                                    "spo2": 98, "sedation_score": 0, "pain_score": 1}, author_id=staff["nurse"],
                                   entry_id=str(uuid.uuid4()), recorded_at=at, now=at)
        db.session.commit()
        first_day = local_to_utc(days[1].date, time(8, 0))
    for n in range(assessments):
        _assess(app, trial_id, 1, "baseline", staff["pt"], first_day + timedelta(minutes=n),
                corrections=corrections if n == 0 else 0)
    if close:
        with app.app_context():
            trial = db.session.get(Trial, trial_id)
            trial.status, trial.outcome, trial.outcome_reason = "completed", "candidate", "Goals met."
            db.session.commit()
    return trial_id


@pytest.fixture
def ward(app: Flask, make_user, make_trial, monkeypatch):  # type: ignore[no-untyped-def]
    """One child on the ward today (day 1, dosed at 09:00 when the clock is past it), a baseline with a
    correction, and staff signed in on their own test clients."""
    import server.auth.session
    from server.web import clock

    monkeypatch.setattr(server.auth.session, "TOUCH_EVERY", timedelta(days=1))  # no "last seen" write meanwhile
    staff = {role: make_user(role, username=role) for role in ("pt", "nurse", "surgeon", "admin")}
    with app.app_context():
        today = clock.today()
    trial_id = _child(app, make_trial, staff, today, dose_day=None, assessments=1, observations=0, corrections=1)
    clients = {}
    for role in staff:
        client = app.test_client()
        assert client.login(role).status_code == 303  # type: ignore[attr-defined]
        clients[role] = client
    return {"app": app, "staff": staff, "trial_id": trial_id, "clients": clients, "make_trial": make_trial,
            "today": today}


def _pages(ward: dict[str, Any]) -> dict[str, tuple[str, str]]:
    trial_id, staff = ward["trial_id"], ward["staff"]
    today = ward["today"]
    return {
        "PT home": ("pt", "/today"),
        "assessment form": ("pt", f"/trials/{trial_id}/days/1/baseline"),
        "post-dose form": ("pt", f"/trials/{trial_id}/days/1/post-dose"),
        "ward": ("nurse", "/ward"),
        "comparison": ("pt", f"/trials/{trial_id}/assessments/compare"),
        "audit log": ("admin", "/admin/audit"),
        "audit log, one trial": ("admin", f"/admin/audit?trial_id={trial_id}"),
        "audit log, one person's creations": ("admin", f"/admin/audit?user_id={staff['pt']}&action=create"),
        "audit log, dates": ("admin", f"/admin/audit?since={(today - timedelta(days=30)).isoformat()}"
                                      f"&until={today.isoformat()}"),
    }


def _counts(ward: dict[str, Any]) -> dict[str, int]:
    out = {}
    for name, (role, path) in _pages(ward).items():
        client = ward["clients"][role]
        assert client.get(path).status_code == 200, path  # warm: the first request may load what later ones reuse
        with counting(ward["app"]) as seen:
            response = client.get(path)
        assert response.status_code == 200, path
        out[name] = len(seen)
    return out


def test_each_page_runs_as_many_statements_on_a_grown_database(ward) -> None:  # type: ignore[no-untyped-def]
    app, staff, make_trial, today = ward["app"], ward["staff"], ward["make_trial"], ward["today"]
    small = _counts(ward)

    # The database grows: two more children on the ward (one dosed yesterday, with observations), and finished
    # trials of other children with their assessments (one corrected twice), observations and audit rows.
    _child(app, make_trial, staff, today - timedelta(days=1), dose_day=1, assessments=2, observations=4)
    _child(app, make_trial, staff, today, dose_day=None, assessments=3, observations=0, corrections=1)
    for weeks in (3, 5, 8):
        _child(app, make_trial, staff, today - timedelta(weeks=weeks), dose_day=1, assessments=3, observations=5,
               corrections=2, close=True)
    _assess(app, ward["trial_id"], 1, "baseline", staff["pt"], datetime.now(UTC) - timedelta(minutes=5),
            corrections=1)

    grown = _counts(ward)
    assert grown == small, {name: (small[name], grown[name]) for name in small if grown[name] != small[name]}
    assert all(0 < n < 40 for n in grown.values()), grown


def test_the_statements_are_counted(ward) -> None:  # type: ignore[no-untyped-def]
    """The counter sees the pages' queries (so equal counts above mean something)."""
    counts = _counts(ward)
    assert counts["ward"] >= 3 and counts["audit log"] >= 3 and counts["PT home"] >= 3, counts
