"""Correcting a recorded dose (issue 10, finding 1): a neurosurgeon amends the time, amount or double-checker, or
marks the record entered in error, with a reason. Append-only like assessments: the original row stays, a new
version supersedes it, the audit log shows both, and every screen shows the corrected dose."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.dosing.models import DoseAdministration
from server.dosing.services import (
    DoseConflict,
    DosingError,
    amend_dose,
    current_dose,
    day_monitoring,
    record_dose,
    void_dose,
)
from server.extensions import db
from server.trials.models import Trial
from tests.conftest import field_error
from tests.dosing.conftest import day_id, give

PAST = date(2026, 11, 2)  # GMT: hospital time is UTC
LATER = datetime(2030, 1, 1, tzinfo=UTC)
WHY = "Time and dose were typed from the wrong chart; the drug sheet says 25 mcg at 09:30."


def _amend(staff: dict[str, int], version: int = 1, **over: Any) -> dict[str, Any]:
    return {"given_time": time(9, 30), "dose_mcg": Decimal("25"), "override_reason": None, "override_confirm": None,
            "checked_by_id": staff["nurse2"], "reason": WHY, "base_version": version, **over}


def _rows(app) -> list[tuple[int, int, str, Decimal, datetime, int | None]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return [(r.id, r.version, r.status, r.dose_mcg, r.given_at, r.supersedes_id) for r in db.session.scalars(
            select(DoseAdministration).order_by(DoseAdministration.id))]


def test_an_amendment_adds_a_version_and_keeps_the_original(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    first = give(app, did, staff, time(9, 0), "50")
    with app.app_context():
        new = amend_dose(first, _amend(staff), author_id=staff["surgeon"], now=LATER)
        db.session.commit()
        assert (new.version, new.supersedes_id, new.correction_reason, new.recorded_by_id) == (
            2, first, WHY, staff["surgeon"])
        assert new.volume_ml == Decimal("0.50") and new.given_by_id == staff["surgeon"]
        assert current_dose(did).id == new.id
        creates = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "DoseAdministration")
                                     .order_by(AuditEvent.id)).all()
        assert [(e.action, e.entity_id) for e in creates] == [("create", str(first)), ("create", str(new.id))]
    assert _rows(app) == [
        (first, 1, "given", Decimal("50.0"), datetime(2026, 11, 2, 9, 0, tzinfo=UTC), None),
        (first + 1, 2, "given", Decimal("25.0"), datetime(2026, 11, 2, 9, 30, tzinfo=UTC), first)]


def test_monitoring_times_follow_the_corrected_dose_time(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    first = give(app, did, staff, time(9, 0))
    with app.app_context():
        before = day_monitoring(did, datetime(2026, 11, 2, 9, 1, tzinfo=UTC))
        assert before.slots[0].slot.at == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
        amend_dose(first, _amend(staff), author_id=staff["surgeon"], now=LATER)
        db.session.commit()
        after = day_monitoring(did, datetime(2026, 11, 2, 9, 31, tzinfo=UTC))
        assert after.dose.given_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        assert after.slots[0].slot.at == datetime(2026, 11, 2, 9, 45, tzinfo=UTC)
        assert after.reassess.due == datetime(2026, 11, 2, 13, 30, tzinfo=UTC)


def test_entered_in_error_leaves_no_dose_given_and_a_dose_may_be_recorded_again(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    first = give(app, did, staff, time(9, 0))
    with app.app_context():
        void = void_dose(first, {"reason": "Recorded against the wrong child: Ben had this dose.",
                                 "base_version": 1}, author_id=staff["surgeon"])
        db.session.commit()
        assert (void.status, void.version, void.supersedes_id) == ("entered_in_error", 2, first)
        assert current_dose(did) is None and day_monitoring(did, LATER).slots == []
        again = record_dose(did, {"given_time": time(10, 0), "dose_mcg": Decimal("50"), "route": "catheter",
                                  "given_by_id": staff["surgeon"], "checked_by_id": staff["nurse"]},
                            recorded_by_id=staff["surgeon"], now=LATER)
        db.session.commit()
        assert (again.version, again.supersedes_id) == (3, void.id) and current_dose(did).id == again.id
    assert [r[2] for r in _rows(app)] == ["given", "entered_in_error", "given"]


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"reason": "typo"}, "reason",
     "Give the reason for the correction in at least a sentence (20 characters and 4 words)."),
    ({"reason": ""}, "reason", "Give the reason for the correction."),
    ({"dose_mcg": Decimal("5000"), "dose_field": "other_dose_mcg"}, "other_dose_mcg",
     "5000 mcg is above the absolute maximum of 150 mcg per bolus: no override allows it. "
     "Enter a dose up to 150 mcg."),
    ({"dose_mcg": Decimal("125")}, "override_confirm",
     "Check and confirm the override: 125 mcg = 2.50 mL = 6.10 mcg/kg (20.5 kg)."),
    ({"checked_by_id": "GIVER"}, "checked_by_id",
     "The double-check must be done by a second person, not the one who gave the dose."),
    ({"given_time": time(8, 30)}, "given_time",
     "Only 23 h 30 min from the day-1 bolus (Mon 2 Nov 09:00): the minimum interval between boluses is 24 h."),
    ({"given_time": time(9, 0), "dose_mcg": Decimal("50"), "checked_by_id": "NURSE"}, "_form",
     "Nothing changed: correct the time, the dose or who double-checked it."),
])
def test_a_correction_outside_the_rules_is_refused_and_writes_nothing(app, staff, trial_on, over, field,  # type: ignore[no-untyped-def]
                                                                      message) -> None:
    tid = trial_on(PAST)
    give(app, day_id(app, tid, 1), staff, time(9, 0))
    second = give(app, day_id(app, tid, 2), staff, time(9, 0))
    over = {k: {"GIVER": staff["surgeon"], "NURSE": staff["nurse"]}.get(v, v) if isinstance(v, str) else v
            for k, v in over.items()}
    before = _rows(app)
    with app.app_context(), pytest.raises(DosingError) as err:
        amend_dose(second, _amend(staff, **over, override_reason="Team agreed a higher dose after review."),
                   author_id=staff["surgeon"], now=LATER)
    assert err.value.errors[field] == [message]
    assert _rows(app) == before


def test_only_a_surgeon_corrects_the_latest_version_of_an_open_trial(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    first = give(app, day_id(app, tid, 1), staff, time(9, 0))
    with app.app_context():
        with pytest.raises(DosingError) as err:
            amend_dose(first, _amend(staff), author_id=staff["nurse"], now=LATER)
        assert err.value.errors == {"_form": ["Only a neurosurgeon may correct a recorded dose."]}
        amend_dose(first, _amend(staff), author_id=staff["surgeon"], now=LATER)
        db.session.commit()
        with pytest.raises(DoseConflict):  # a stale correction (of version 1, now superseded)
            amend_dose(first, _amend(staff, given_time=time(9, 45)), author_id=staff["surgeon"], now=LATER)
        db.session.rollback()
        db.session.get(Trial, tid).status = "completed"
        db.session.commit()
        latest = current_dose(day_id(app, tid, 1))
        with pytest.raises(DosingError) as closed:
            amend_dose(latest.id, _amend(staff, version=2, given_time=time(9, 45)), author_id=staff["surgeon"],
                       now=LATER)
        assert closed.value.errors["_form"][0].startswith("This trial is completed: a recorded dose can no longer")
        db.session.rollback()
        # Marking it entered in error stays possible on a closed trial (the record must not show a dose not given).
        void_dose(latest.id, {"reason": "Never given: the syringe was discarded unused.", "base_version": 2},
                  author_id=staff["surgeon"])
        db.session.commit()
    assert [r[2] for r in _rows(app)] == ["given", "given", "entered_in_error"]


def _with_assessments(app, tid: int, staff: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    from server.assessments.services import record_assessment
    from tests.assessments.conftest import form, loaded

    with app.app_context():
        for phase, grade, at in (("baseline", "2", datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
                                 ("post_dose", "1", datetime(2026, 11, 2, 13, 20, tzinfo=UTC))):
            record_assessment(loaded(form(tid, phase=phase, grade=grade)), author_id=staff["pt"], recorded_at=at,
                              entry_id=str(uuid.uuid4()))
        db.session.commit()


def test_every_screen_shows_the_corrected_dose(app, client, signed_in, staff, trial_on, time_machine) -> None:  # type: ignore[no-untyped-def]
    from server.parents.progress import progress

    tid = trial_on(PAST)
    did = day_id(app, tid, 1)
    give(app, did, staff, time(9, 0), "50")
    _with_assessments(app, tid, staff)
    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    signed_in("surgeon", "nurse")
    page = client.get(f"/doses/{_rows(app)[0][0]}/correct")
    assert page.status_code == 200 and "Correct the day-1 dose" in page.get_data(as_text=True)
    response = client.post(f"/doses/{_rows(app)[0][0]}/amend", data={
        "given_time": "09:30", "dose_mcg": "25", "checked_by_id": str(staff["nurse2"]), "reason": WHY,
        "base_version": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    screens = {
        "dosing": client.get(f"/trials/{tid}/dosing").get_data(as_text=True),
        "ward": client.get("/ward").get_data(as_text=True),
        "monitoring": client.get(f"/days/{did}/monitoring").get_data(as_text=True),
        "comparison": client.get(f"/trials/{tid}/assessments/compare").get_data(as_text=True),
        "decisions": client.get(f"/trials/{tid}/decisions").get_data(as_text=True),
    }
    assert "25 mcg = 0.50 mL</strong> at 09:30" in screens["dosing"] and WHY in screens["dosing"]
    assert "25 mcg (0.50 mL) given 09:30" in screens["ward"]
    assert "25 mcg (0.50 mL)</strong> given 09:30" in screens["monitoring"]
    assert "Dose: 25 mcg at 09:30" in screens["comparison"]
    assert "<strong>25 mcg</strong> at 09:30" in screens["decisions"]
    for name, html in screens.items():  # the original version (50 mcg at 09:00) is shown as given nowhere
        assert not any(old in html for old in ("50 mcg = 1.00 mL", "50 mcg (1.00 mL)", "given 09:00",
                                               "<strong>50 mcg</strong>", "Dose: 50 mcg")), name
    with app.app_context():
        story = progress(db.session.get(Trial, tid), PAST)
        assert story.days[-1].dose == "Child had a test dose of 25 micrograms at 9:30\u202fAM."  # Babel, US English
    history = client.get(f"/doses/{_rows(app)[1][0]}/correct").get_data(as_text=True)
    assert "Version 2 (current)" in history and "Version 1" in history and "50 mcg (1.00 mL) at 09:00" in history


def test_the_correction_forms_refuse_beside_the_field_keeping_what_was_typed(app, client, signed_in, staff,  # type: ignore[no-untyped-def]
                                                                             trial_on) -> None:
    tid = trial_on(PAST)
    first = give(app, day_id(app, tid, 1), staff, time(9, 0))
    signed_in("surgeon")
    bad = client.post(f"/doses/{first}/amend", data={"given_time": "09:30", "dose_mcg": "other",
                                                     "other_dose_mcg": "5000", "checked_by_id": str(staff["nurse2"]),
                                                     "reason": "x", "base_version": "1"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert field_error(html, "other_dose_mcg").startswith("5000 mcg is above the absolute maximum")
    assert 'value="5000"' in html
    short = client.post(f"/doses/{first}/amend", data={"given_time": "09:30", "dose_mcg": "25", "reason": "x",
                                                       "checked_by_id": str(staff["nurse2"]), "base_version": "1"})
    assert field_error(short.get_data(as_text=True), "amend-reason") == (
        "Give the reason for the correction in at least a sentence (20 characters and 4 words).")
    unticked = client.post(f"/doses/{first}/void", data={"reason": "Never given: the child was sick first.",
                                                          "base_version": "1"})
    assert unticked.status_code == 422
    assert field_error(unticked.get_data(as_text=True), "confirm") == (
        "Tick the box to confirm that this dose record was entered in error.")
    stale = client.post(f"/doses/{first}/void", data={"reason": "Never given: the child was sick first.",
                                                       "confirm": "yes", "base_version": "7"})
    assert stale.status_code == 409 and "was changed meanwhile" in stale.get_data(as_text=True)
    assert len(_rows(app)) == 1
    assert client.post(f"/doses/{first}/void", data={"reason": "Never given: the child was sick first.",
                                                      "confirm": "yes", "base_version": "1"}).status_code == 303
    assert "Entered in error" in client.get(f"/trials/{tid}/dosing").get_data(as_text=True)


@pytest.mark.parametrize("role", ["nurse", "pt", "admin"])
def test_only_a_surgeon_reaches_the_correction_pages(app, client, signed_in, staff, trial_on, role) -> None:  # type: ignore[no-untyped-def]
    tid = trial_on(PAST)
    first = give(app, day_id(app, tid, 1), staff, time(9, 0))
    signed_in(role)
    assert client.get(f"/doses/{first}/correct").status_code == 403
    assert client.post(f"/doses/{first}/void", data={"reason": "Never given at all, really.", "confirm": "yes",
                                                      "base_version": "1"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DoseAdministration)) == 1


def test_unknown_dose_records_are_404(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("surgeon")
    assert client.get("/doses/999999/correct").status_code == 404
    assert client.post("/doses/999999/amend", data={}).status_code == 404
    assert client.post(f"/doses/{'9' * 25}/void", data={}).status_code == 404
