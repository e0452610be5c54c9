"""Issue 11, finding 1: rows already stored with a datetime at the edge of Python's range (year 1 or 9999, from
before the input was bounded) must not break any page. Records are append-only: they cannot be removed from the
app, so every page that reads them has to cope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from server.assessments.models import Assessment
from server.auth.models import User
from server.dosing.models import DoseAdministration, Observation
from server.extensions import db
from server.trials.models import Trial
from server.web.filters import localtime
from tests.assessments.conftest import form, loaded

EXTREMES = [datetime(9999, 12, 30, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize("when", EXTREMES, ids=["9999-12-30", "9999-12-31-end", "0001-01-01"])
def test_every_page_still_answers_with_an_extreme_time_stored(app, client, make_user, make_trial, when) -> None:  # type: ignore[no-untyped-def]
    everyone = make_user("nurse", "pt", "surgeon", "admin")
    trial_id = make_trial()
    with app.app_context():
        day = db.session.get(Trial, trial_id).days[0]
        db.session.add(Observation(trial_day_id=day.id, entry_id=str(uuid.uuid4()), taken_at=when, recorded_at=when,
                                   received_at=when, author_id=everyone, heart_rate=80, resp_rate=8,
                                   sedation_score=3, effects=[]))
        values = loaded(form(trial_id))["values"]
        assessment = Assessment(trial_id=trial_id, trial_day_id=day.id, phase="post_dose", author_id=everyone,
                                recorded_at=when, received_at=when, entry_id=str(uuid.uuid4()), values=values,
                                not_tested={}, notes=None)
        db.session.add(assessment)
        db.session.add(DoseAdministration(trial_day_id=day.id, given_at=when, dose_mcg=Decimal(50),
                                          volume_ml=Decimal(1), concentration_mcg_per_ml=Decimal(50),
                                          route="catheter", given_by_id=everyone, checked_by_id=everyone))
        db.session.commit()
        assessment_id, day_id = assessment.id, day.id
        username = db.session.get(User, everyone).username
    assert client.login(username).status_code == 303
    pages = ["/ward", f"/days/{day_id}/monitoring", f"/trials/{trial_id}/assessments", f"/assessments/{assessment_id}",
             f"/assessments/{assessment_id}/correct", f"/trials/{trial_id}", f"/trials/{trial_id}/dosing", "/today",
             "/trials", f"/trials/{trial_id}/assessments/compare", f"/trials/{trial_id}/decisions",
             f"/days/{day_id}/decision", f"/trials/{trial_id}/outcome", f"/days/{day_id}/observations",
             f"/trials/{trial_id}/goals", "/admin/audit", f"/trials/{trial_id}/days/1/baseline",
             f"/trials/{trial_id}/days/1/post_dose", f"/days/{day_id}/dose", f"/days/{day_id}/plan", "/sync/conflicts"]
    broken = {page: status for page in pages if (status := client.get(page).status_code) >= 500}
    assert broken == {}


def test_the_time_filter_never_raises(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        assert localtime(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)) != ""
        assert localtime(datetime(1, 1, 1, tzinfo=UTC), "%Y-%m-%d").endswith("1-01-01")  # shown as stored
        assert localtime(None) == ""
