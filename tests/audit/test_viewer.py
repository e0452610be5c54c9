"""The audit viewer (/admin/audit): filters by trial, child, person, action and dates; pages; an edit's old and
new values; the CSV of the same events; every event knows its trial and child."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.audit.models import AuditEvent
from server.audit.queries import PAGE_SIZE
from server.extensions import db
from server.trials.models import Trial


def _day_id(app, trial_id: int, number: int = 1) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return next(d.id for d in db.session.get(Trial, trial_id).days if d.day_number == number)


def _patient(app, trial_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.get(Trial, trial_id).patient_id


def _replan(client, app, trial_id: int, dose: str, revision: int = 1):  # type: ignore[no-untyped-def]
    return client.post(f"/days/{_day_id(app, trial_id, 1)}/plan",
                       data={"dose_mcg": dose, "planned_time": "09:00", "base_revision": str(revision)})


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="card-title">([^<]+)</span>', html)


@pytest.fixture
def two_trials(app, client, signed_in, make_user, make_trial):  # type: ignore[no-untyped-def]
    """Trial A re-planned by a surgeon (day 1: 50 -> 75 mcg), trial B by another; then an admin is signed in."""
    a, b = make_trial(), make_trial()
    surgeon = signed_in("surgeon")
    assert _replan(client, app, a, "75").status_code in (200, 303)
    other = signed_in("surgeon")
    assert _replan(client, app, b, "25").status_code in (200, 303)
    admin = signed_in("admin")
    return {"a": a, "b": b, "surgeon": surgeon, "other": other, "admin": admin}


def test_only_an_admin_reads_the_log(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    for role in ("pt", "nurse", "surgeon"):
        signed_in(role)
        assert client.get("/admin/audit").status_code == 403


def test_every_new_event_knows_its_trial_and_child(app, two_trials) -> None:  # type: ignore[no-untyped-def]
    a = two_trials["a"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.trial_id == a)).all()
        kinds = {e.entity_type for e in events}
        assert {"Trial", "TrialDay", "DosePlanChange"} <= kinds
        assert {e.patient_id for e in events} == {db.session.get(Trial, a).patient_id}
        staff = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "User")).all()
        assert staff and all(e.trial_id is None and e.patient_id is None for e in staff)


def test_an_edit_shows_its_old_and_new_values_and_the_filters_narrow_it(app, client, two_trials) -> None:  # type: ignore[no-untyped-def]
    a, b = two_trials["a"], two_trials["b"]
    page = client.get(f"/admin/audit?trial_id={a}&action=update&entity_type=TrialDay").get_data(as_text=True)
    assert _titles(page) == [f"Changed · TrialDay #{_day_id(app, a)}"]
    row = re.search(r'<th scope="row">planned_<wbr>dose_<wbr>mcg</th><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert row is not None and row.groups() == ("50.0", "75")
    # By child: the same as by trial here; by the other child: only trial B's events.
    by_child = client.get(f"/admin/audit?patient_id={_patient(app, b)}&action=update").get_data(as_text=True)
    assert _titles(by_child) == [f"Changed · TrialDay #{_day_id(app, b)}"]
    # By person: the second surgeon made only trial B's change.
    mine = client.get(f"/admin/audit?user_id={two_trials['other']}").get_data(as_text=True)
    assert {t.split(" · ")[1].split(" #")[0] for t in _titles(mine)} <= {"TrialDay", "DosePlanChange"}
    assert f"TrialDay #{_day_id(app, a)}" not in mine
    # By dates: nothing before the trials existed, everything today.
    today = datetime.now(UTC).date()
    assert "No event matches." in client.get(
        f"/admin/audit?until={(today - timedelta(days=400)).isoformat()}").get_data(as_text=True)
    assert f"TrialDay #{_day_id(app, a)}" in client.get(
        f"/admin/audit?since={(today - timedelta(days=1)).isoformat()}&until={(today + timedelta(days=1)).isoformat()}"
    ).get_data(as_text=True)


@pytest.mark.parametrize(("query", "field"), [
    ("trial_id=abc", "trial_id"), ("trial_id=99999999999999", "trial_id"), ("action=drop", "action"),
    ("since=0001-01-01", "since"), ("since=2026-02-30", "since"), ("since=2026-05-02&until=2026-05-01", "until"),
    ("page=0", "page"), ("entity_type=" + "x" * 500, "entity_type"), ("user_id=%00", "user_id"),
])
def test_a_bad_filter_is_shown_beside_its_field_never_a_500(client, signed_in, query, field) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True) or field == "page"


def test_pages_of_fifty_newest_first(app, client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    signed_in("admin")
    trial_id = make_trial()
    with app.app_context():
        for n in range(PAGE_SIZE + 5):
            db.session.add(AuditEvent(at=datetime.now(UTC), actor_id=None, via="system", action="read",
                                      entity_type="Trial", entity_id=str(trial_id), trial_id=trial_id,
                                      after={"n": n}))
        db.session.commit()
    first = client.get(f"/admin/audit?action=read&trial_id={trial_id}").get_data(as_text=True)
    assert f"{PAGE_SIZE + 5} events · page 1 of 2" in first and len(_titles(first)) == PAGE_SIZE
    assert '<th scope="row">n</th><td>—</td><td>54</td>' in first  # newest first
    second = client.get(f"/admin/audit?action=read&trial_id={trial_id}&page=2").get_data(as_text=True)
    assert len(_titles(second)) == 5 and '<td>0</td>' in second and 'rel="prev"' in second


def test_the_csv_has_one_row_per_changed_field_and_neutralises_formulas(app, client, two_trials) -> None:  # type: ignore[no-untyped-def]
    a = two_trials["a"]
    with app.app_context():  # a reason typed as a formula, as a hostile user might
        db.session.execute(update(AuditEvent).where(AuditEvent.entity_type == "DosePlanChange",
                                                    AuditEvent.trial_id == a).values(device_id="=HYPERLINK(1)"))
        db.session.commit()
    response = client.get(f"/admin/audit?trial_id={a}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    planned = [r for r in rows if r["record_type"] == "TrialDay" and r["field"] == "planned_dose_mcg"
               and r["action"] == "update"]
    assert [(r["old"], r["new"]) for r in planned] == [("50.0", "75")]
    assert all(r["trial_id"] == str(a) for r in rows)
    devices = {r["device"] for r in rows if r["record_type"] == "DosePlanChange"}
    assert devices == {"'=HYPERLINK(1)"}


def test_an_older_trial_or_child_chosen_is_offered_beside_the_newest(app, client, two_trials,  # type: ignore[no-untyped-def]
                                                                      monkeypatch) -> None:
    """The filter lists hold the newest trials and children only (years of them would make a page of thousands of
    options); one chosen by its number in the address, older than those, is offered too, selected."""
    import server.admin.views

    monkeypatch.setattr(server.admin.views, "FILTER_CHOICES", 1)
    a, b = two_trials["a"], two_trials["b"]  # b is the newer
    child_a, child_b = _patient(app, a), _patient(app, b)

    def offered(html: str, name: str) -> dict[str, bool]:
        """The options of one filter list: value -> selected."""
        block = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
        assert block is not None, name
        return {m.group(1): "selected" in m.group(2)
                for m in re.finditer(r'<option value="(\d+)"([^>]*)>', block.group(0))}

    html = client.get("/admin/audit").get_data(as_text=True)
    assert offered(html, "trial_id") == {str(b): False} and offered(html, "patient_id") == {str(child_b): False}
    html = client.get(f"/admin/audit?trial_id={a}&patient_id={child_a}").get_data(as_text=True)
    assert offered(html, "trial_id") == {str(b): False, str(a): True}
    assert offered(html, "patient_id") == {str(child_b): False, str(child_a): True}
