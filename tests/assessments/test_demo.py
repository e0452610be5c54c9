"""Demo assessments: Ben day 1, Chloe days 1-2, Daniel days 1-3 (a completed trial); none for Amira."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from server.assessments.demo import add_demo_assessments
from server.assessments.models import Assessment
from server.assessments.services import timing
from server.dosing.services import current_dose
from server.extensions import db


@pytest.fixture(params=["now", "02:30", "14:00"])
def clock(request, time_machine):  # type: ignore[no-untyped-def]
    """The demo loaded at any hour: early in the day its doses are given at night (the baselines stay before them)."""
    from datetime import UTC, datetime, timedelta

    if request.param != "now":
        hour, minute = map(int, request.param.split(":"))
        today = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
        time_machine.move_to(today - timedelta(days=1), tick=False)
    return request.param


def test_demo_assessments_for_past_days(app, client, clock) -> None:  # type: ignore[no-untyped-def]
    from server.cli import load_demo_data

    with app.app_context():
        load_demo_data()  # adds the demo assessments
        assert add_demo_assessments() == 0  # once only
        rows = db.session.scalars(select(Assessment)).all()
        per_child = Counter(a.trial.patient.first_name for a in rows)
        assert per_child == {"Ben": 2, "Chloe": 4, "Daniel": 6}
        assert {a.phase for a in rows} == {"baseline", "post_dose"}
        for a in rows:  # flagged exactly when no dose was on record (server/dosing's demo may add doses)
            assert a.saved_before_dose_record == (a.phase == "post_dose" and current_dose(a.trial_day.id) is None)
            if a.phase == "post_dose" and current_dose(a.trial_day.id) is not None:
                assert timing(a, current_dose(a.trial_day.id)).minutes == 245  # type: ignore[union-attr]
        ben_post = next(a for a in rows if a.trial.patient.first_name == "Ben" and a.phase == "post_dose")
        assert ben_post.not_tested["mas.hip_internal_rotators"]["sides"] == ["left", "right"]
        trial_ids = sorted({a.trial_id for a in rows})
    assert client.login("pt", "demo-pass").status_code == 303
    for trial_id in trial_ids:
        html = client.get(f"/trials/{trial_id}/assessments/compare").get_data(as_text=True)
        assert "Mean lower-limb MAS" in html and "Not enough data" not in html
