"""Dose bounds (issue 10, finding 1): an absolute maximum per bolus that no override passes, and an override that
shows mcg, mL and mcg/kg and needs an explicit confirmation. One check (`dosing.services.dose_errors`) on every
path that sets a dose; the schemas refuse the same numbers at the edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from server.dosing.models import DoseAdministration, DosePlanChange
from server.dosing.schemas import DoseSchema, PlanSchema
from server.dosing.services import DosingError, _add_dose, dose_errors, record_dose, set_plan
from server.extensions import db
from server.protocol import Protocol, current_protocol
from server.trials.models import TrialDay
from server.web.forms import load_form
from tests.conftest import field_error
from tests.dosing.conftest import day_id, dose_form

PAST = date(2026, 11, 2)
LATER = datetime(2030, 1, 1, tzinfo=UTC)
REASON = "Partial response at 100 mcg; the team agreed one higher test dose."
ABOVE_MAX = ("5000 mcg is above the absolute maximum of 150 mcg per bolus: no override allows it. "
             "Enter a dose up to 150 mcg.")


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_protocol_has_an_absolute_maximum_with_its_source() -> None:
    p = current_protocol()
    assert p.absolute_max_mcg == Decimal("150") and p.ceiling_mcg < p.absolute_max_mcg
    source = p.sources["absolute_max_mcg"]
    assert "no published source" in source.note and source.status == "Hospital sign-off: pending"
    assert p.above_absolute_max(Decimal("150")) is None
    assert p.above_absolute_max(Decimal("150.1")) is not None


def test_dose_errors_refuses_above_the_absolute_maximum_even_for_a_confirmed_surgeons_override(app, staff) -> None:  # type: ignore[no-untyped-def]
    from server.auth.models import User

    with app.app_context():
        surgeon = db.session.get(User, staff["surgeon"])
        errors = dose_errors(Decimal("5000"), override_reason=REASON, confirmed_mcg=Decimal("5000"), author=surgeon,
                             protocol=current_protocol(), weight_kg=Decimal("12"), field_name="other_dose_mcg")
        assert errors == {"other_dose_mcg": [ABOVE_MAX]}
        # Within the maximum, the override needs a reason of a sentence and the confirmation of this very dose.
        assert dose_errors(Decimal("125"), override_reason="x", confirmed_mcg=None, author=surgeon,
                           protocol=current_protocol(), weight_kg=Decimal("12")) == {
            "override_reason": ["Give the reason for going above 100 mcg in at least a sentence (20 characters "
                                "and 4 words)."],
            "override_confirm": ["Check and confirm the override: 125 mcg = 2.50 mL = 10.42 mcg/kg (12 kg)."]}
        assert "override_confirm" in dose_errors(Decimal("125"), override_reason=REASON, confirmed_mcg=Decimal("120"),
                                                 author=surgeon, protocol=current_protocol())
        assert dose_errors(Decimal("125"), override_reason=REASON, confirmed_mcg=Decimal("125"), author=surgeon,
                           protocol=current_protocol()) == {}


def test_a_configured_absolute_maximum_is_what_counts(app, staff) -> None:  # type: ignore[no-untyped-def]
    from server.auth.models import User

    strict = Protocol(absolute_max_mcg=Decimal("120"))
    with app.app_context():
        surgeon = db.session.get(User, staff["surgeon"])
        errors = dose_errors(Decimal("125"), override_reason=REASON, confirmed_mcg=Decimal("125"), author=surgeon,
                             protocol=strict)
        assert errors["dose_mcg"][0].startswith("125 mcg is above the absolute maximum of 120 mcg per bolus")


@pytest.mark.parametrize("schema", [DoseSchema, PlanSchema])
def test_the_schemas_refuse_above_the_maximum_at_the_edge(app, schema) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.datastructures import MultiDict

    with app.app_context():
        form = MultiDict({"dose_mcg": "other", "other_dose_mcg": "5000", "override_reason": "x",
                          "given_time": "09:00", "planned_time": "09:00", "route": "catheter",
                          "given_by_id": "1", "checked_by_id": "2", "base_revision": "1"})
        data, errors = load_form(schema(), form)
        assert data is None and errors == {"other_dose_mcg": [ABOVE_MAX]}


def test_finding_1_an_override_of_5000_mcg_is_refused_beside_the_field_and_nothing_is_written(  # type: ignore[no-untyped-def]
        app, client, signed_in, staff, make_patient, trial_on) -> None:
    """The issue's reproduction: "Other (override)", 5000 mcg for a 12 kg child, reason "x"."""
    tid = trial_on(PAST, patient_id=make_patient(weight_kg=Decimal("12.0")))
    signed_in("surgeon")
    response = client.post(f"/days/{day_id(app, tid, 1)}/dose", data=dose_form(
        staff, dose_mcg="other", other_dose_mcg="5000", override_reason="x"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "other_dose_mcg") == ABOVE_MAX
    assert 'value="5000"' in html  # what was typed stays in the field
    assert _count(app, DoseAdministration) == 0


def test_the_service_refuses_above_the_maximum_whoever_calls_it(app, staff, trial_on) -> None:  # type: ignore[no-untyped-def]
    """The CLI or any later API calls the service, not the schema: the same bounds hold there."""
    tid = trial_on(PAST)
    with app.app_context():
        with pytest.raises(DosingError) as err:
            record_dose(day_id(app, tid, 1), {"given_time": time(9), "dose_mcg": Decimal("5000"), "route": "catheter",
                                              "override_reason": REASON, "override_confirm": Decimal("5000"),
                                              "given_by_id": staff["surgeon"], "checked_by_id": staff["nurse"]},
                        recorded_by_id=staff["surgeon"], now=LATER)
        assert err.value.errors["dose_mcg"][0].startswith("5000 mcg is above the absolute maximum")
        db.session.rollback()
        with pytest.raises(DosingError):
            set_plan(day_id(app, tid, 2), {"dose_mcg": Decimal("151"), "planned_time": time(9), "base_revision": 1,
                                           "override_reason": REASON, "override_confirm": Decimal("151")},
                     author_id=staff["surgeon"])
        db.session.rollback()
        day = db.session.get(TrialDay, day_id(app, tid, 1))
        with pytest.raises(DosingError):  # the one insert of a dose record checks again (the demo loader uses it)
            _add_dose(day, given_at=datetime(2026, 11, 2, 9, tzinfo=UTC), dose=Decimal("5000"), route="catheter",
                      given_by_id=staff["surgeon"], checked_by_id=staff["nurse"], recorded_by_id=staff["surgeon"],
                      override_reason=REASON, override_confirm=Decimal("5000"), protocol=current_protocol())
        db.session.rollback()
    assert _count(app, DoseAdministration) == 0 and _count(app, DosePlanChange) == 0


def test_an_override_within_the_maximum_shows_mcg_ml_and_mcg_per_kg_and_needs_the_confirmation(  # type: ignore[no-untyped-def]
        app, client, signed_in, staff, make_patient, trial_on) -> None:
    tid = trial_on(PAST, patient_id=make_patient(weight_kg=Decimal("24.0")))
    signed_in("surgeon")
    did = day_id(app, tid, 2)
    form = {"dose_mcg": "other", "other_dose_mcg": "125", "planned_time": "09:00", "base_revision": "1",
            "override_reason": REASON}
    first = client.post(f"/days/{did}/plan", data=form)
    assert first.status_code == 422
    text = first.get_data(as_text=True)
    assert field_error(text, "override_confirm") == (
        "Check and confirm the override: 125 mcg = 2.50 mL = 5.21 mcg/kg (24.0 kg).")
    assert "I confirm this override: 125 mcg = 2.50 mL = 5.21 mcg/kg (24.0 kg)" in text
    # A confirmation of another number (the dose was changed after ticking) is no confirmation.
    assert client.post(f"/days/{did}/plan", data=form | {"override_confirm": "120"}).status_code == 422
    assert _count(app, DosePlanChange) == 0
    assert client.post(f"/days/{did}/plan", data=form | {"override_confirm": "125"}).status_code == 303
    with app.app_context():
        change = db.session.scalars(select(DosePlanChange)).one()
        assert change.planned_dose_mcg == Decimal("125") and change.override_reason == REASON


def test_the_live_check_shows_the_numbers_as_the_surgeon_types(app, client, signed_in, make_patient,  # type: ignore[no-untyped-def]
                                                               trial_on) -> None:
    tid = trial_on(PAST, patient_id=make_patient(weight_kg=Decimal("12.0")))
    signed_in("surgeon")
    html = client.get(f"/trials/{tid}/override-check?other_dose_mcg=125",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "125 mcg = 2.50 mL = 10.42 mcg/kg (12.0 kg)" in html and 'name="override_confirm" value="125"' in html
    above = client.get(f"/trials/{tid}/override-check?other_dose_mcg=5000").get_data(as_text=True)
    assert "above the absolute maximum of 150 mcg" in above and 'name="override_confirm"' not in above
    lots = client.get(f"/trials/{tid}/override-check?other_dose_mcg=lots").get_data(as_text=True)
    assert 'name="override_confirm"' not in lots


def test_the_protocol_page_shows_the_absolute_maximum_as_a_hospital_default(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("nurse")
    html = client.get("/protocol").get_data(as_text=True)
    assert "Absolute maximum per bolus" in html and "<strong>150 mcg</strong>" in html
    block = html[html.index('id="absolute-max"'):]
    block = block[:block.index("</div>")]
    assert "Hospital default, no published source sets an absolute maximum for a screening bolus" in block
    assert "Hospital sign-off: pending" in block
