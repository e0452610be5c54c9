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
