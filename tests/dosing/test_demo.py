"""Demo dosing data: loads at any hour of the day and obeys the protocol (it goes through the services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.cli import load_demo_data
from server.dosing.models import DoseAdministration, Observation
from server.dosing.services import ward_schedule
from server.extensions import db
from tests.dosing.conftest import DAY


@pytest.mark.parametrize("hour", [0, 7, 11, 23])
def test_demo_dosing_at_any_hour(app, hour: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 25, hour, 30, tzinfo=UTC)
    with app.app_context():
        load_demo_data(DAY, now)
        rows = {r.patient.first_name: r for r in ward_schedule(DAY, now)}
        assert set(rows) == {"Amira", "Ben", "Chloe"}
        assert rows["Chloe"].status == "held"
        assert rows["Amira"].status == ("overdue" if hour >= 10 else "due")
        assert rows["Ben"].status == ("given" if hour >= 1 else "due")
        if hour >= 10:
            assert rows["Ben"].dose.given_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
            assert rows["Ben"].reassess is not None
        doses = db.session.scalar(select(func.count()).select_from(DoseAdministration))
        assert doses == 3 + 2 + (2 if hour >= 1 else 1)  # Daniel 3, Chloe 2, Ben 1 or 2
        assert db.session.scalar(select(func.count()).select_from(Observation)) >= 10
