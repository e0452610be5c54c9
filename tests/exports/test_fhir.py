"""The FHIR R4 Bundle of a trial: validated by fhir.resources, every reference resolved inside the Bundle, the
codes of doses and vital signs, goals and the outcome, who may read it, and the audit row of each read."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.trials.models import Trial
from tests.conftest import CsrfClient, app_with

INTRATHECAL = {"system": "http://snomed.info/sct", "code": "72607000", "display": "Intrathecal route"}


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def fetch(client: CsrfClient, trial_id: int) -> dict[str, Any]:
    response = client.get(f"/trials/{trial_id}/fhir")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.get_data(as_text=True))


def of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(resource: dict[str, Any]) -> set[str]:
    return {c["code"] for c in resource["code"].get("coding", [])}


def test_the_completed_demo_trial_validates_and_every_reference_resolves(client, signed_in, demo):
    signed_in("pt")
    bundle = fetch(client, demo["DEMO-1004"])  # Daniel: completed
    parsed = Bundle.model_validate(bundle)  # raises on anything R4(B) does not allow
    assert parsed.type == "collection" and len(parsed.entry) == len(bundle["entry"])
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls)) and all(u.startswith("urn:uuid:") for u in urls)
    refs = list(references(bundle))
    assert len(refs) > 500
    assert set(refs) <= set(urls)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["Patient"] == kinds["Encounter"] == kinds["ClinicalImpression"] == 1
    assert kinds["MedicationAdministration"] == 3 and kinds["Practitioner"] >= 2
    [encounter] = of_type(bundle, "Encounter")
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "IMP"
    [patient] = of_type(bundle, "Patient")
    assert patient["identifier"][0]["value"] == "DEMO-1004" and patient["name"][0]["family"] == "Okafor"
    [outcome] = of_type(bundle, "ClinicalImpression")
    assert outcome["finding"][0]["itemCodeableConcept"]["coding"][0]["code"] == "candidate"
    assert outcome["summary"].startswith("Tone clearly lower")
    assert len(outcome["supportingInfo"]) == 3 and outcome["investigation"][0]["item"]


def test_a_dose_is_a_medication_administration_given_intrathecally(client, signed_in, demo):
    signed_in("nurse")
    bundle = fetch(client, demo["DEMO-1004"])
    doses = of_type(bundle, "MedicationAdministration")
    assert sorted(d["dosage"]["dose"]["value"] for d in doses) == [50, 75, 75]
    url = {e["resource"].get("identifier", [{}])[0].get("value"): e["fullUrl"] for e in bundle["entry"]
           if e["resource"]["resourceType"] == "Practitioner"}
    for dose in doses:
        assert dose["status"] == "completed"
        assert dose["medicationCodeableConcept"]["coding"] == [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1292", "display": "baclofen"}]
        assert dose["dosage"]["route"]["coding"] == [INTRATHECAL]
        assert {k: dose["dosage"]["dose"][k] for k in ("unit", "system", "code")} == {
            "unit": "mcg", "system": "http://unitsofmeasure.org", "code": "ug"}
        performers = {p["function"]["coding"][0]["code"]: p["actor"]["reference"] for p in dose["performer"]}
        assert performers == {"performer": url["surgeon"], "verifier": url["nurse"]}
        assert dose["effectiveDateTime"].endswith("Z")


def test_vital_signs_are_loinc_coded_and_flags_interpreted(client, signed_in, demo):
    signed_in("surgeon")
    bundle = fetch(client, demo["DEMO-1003"])  # Chloe: observations, one drowsy (an overdose sign)
    Bundle.model_validate(bundle)
    observations = of_type(bundle, "Observation")
    vital = [o for o in observations if o["category"][0]["coding"][0]["code"] == "vital-signs"]
    heart = [o for o in vital if codes(o) == {"8867-4"}]
    assert heart and heart[0]["valueQuantity"]["code"] == "/min"
    assert any(codes(o) == {"9279-1"} for o in vital)
    assert any(codes(o) == {"2708-6", "59408-5"} and o["valueQuantity"]["code"] == "%" for o in vital)
    assert any(codes(o) == {"8310-5"} and o["valueQuantity"]["code"] == "Cel" for o in vital)
    bp = [o for o in vital if codes(o) == {"85354-9"}]
    assert bp and {c["code"]["coding"][0]["code"] for c in bp[0]["component"]} == {"8480-6", "8462-4"}
    assert bp[0]["component"][0]["valueQuantity"]["code"] == "mm[Hg]"
    sedation = [o for o in observations if codes(o) == {"sedation-score"}]
    flagged = [o for o in sedation if o.get("interpretation")]
    assert len(flagged) == 1 and "Sedation score 2" in flagged[0]["interpretation"][0]["text"]
    assert any(codes(o) == {"drowsiness"} and o["valueBoolean"] is True for o in observations)
    # PT measurements: local codes under our public address, a grade as a coded value, an angle in degrees.
    mas = [o for o in observations if codes(o) == {"mas.hip_adductors.left"}]
    assert mas and mas[0]["code"]["coding"][0]["system"] == "http://localhost/fhir/CodeSystem/itb-assessment"
    assert mas[0]["valueCodeableConcept"]["coding"][0]["system"] == "http://localhost/fhir/CodeSystem/mas-grade"
    angle = [o for o in observations if codes(o) == {"tardieu.gastrocnemius.left.r1"}]
    assert angle and angle[0]["valueQuantity"]["code"] == "deg"


def test_goals_their_ratings_and_a_voided_dose(app, client, signed_in, demo):
    from server.dosing.models import DoseAdministration
    from server.dosing.services import void_dose
    from server.trials.models import Trial

    with app.app_context():
        ben = db.session.get(Trial, demo["DEMO-1002"])
        day1 = next(d for d in ben.days if d.day_number == 1)
        dose = db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == day1.id))
        surgeon = dose.recorded_by_id
        void_dose(dose.id, {"reason": "Recorded against the wrong day of the trial.", "base_version": 1},
                  author_id=surgeon)
        db.session.commit()
    signed_in("admin")
    bundle = fetch(client, demo["DEMO-1002"])  # Ben: two goals rated on day 1
    Bundle.model_validate(bundle)
    assert set(references(bundle)) <= {e["fullUrl"] for e in bundle["entry"]}
    goals = of_type(bundle, "Goal")
    assert len(goals) == 2 and all(g["lifecycleStatus"] == "active" for g in goals)
    assert {g["priority"]["coding"][0]["code"] for g in goals} == {"medium-priority", "low-priority"}
    ratings = [o for o in of_type(bundle, "Observation") if codes(o) == {"goal-rating"}]
    assert sorted(o["valueInteger"] for o in ratings) == [-1, 0]
    goal_urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"}
    assert {o["focus"][0]["reference"] for o in ratings} == goal_urls
    assert any(codes(o) == {"t-score"} for o in of_type(bundle, "Observation"))
    statuses = sorted(d["status"] for d in of_type(bundle, "MedicationAdministration"))
    assert statuses.count("entered-in-error") == 1  # day 1; day 2's dose is given when the demo loads after 10:00
    assert set(statuses) <= {"completed", "entered-in-error"}


def test_every_staff_role_may_read_it_and_each_read_is_audited(app, client, signed_in, demo):
    for role in ("pt", "nurse", "surgeon", "admin"):
        user = signed_in(role)
        fetch(client, demo["DEMO-1004"])
        with app.app_context():
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read")
                                       .order_by(AuditEvent.id.desc())).first()
            assert (event.actor_id, event.entity_type, event.entity_id, event.after["what"]) == (
                user, "Trial", str(demo["DEMO-1004"]), "FHIR bundle")
            # scoped to the trial and its child, so the audit viewer finds the read by either
            assert event.trial_id == demo["DEMO-1004"]
            assert event.patient_id == db.session.get(Trial, demo["DEMO-1004"]).patient_id
        client.post("/logout")
    with app.app_context():
        assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()) == 4


def test_unknown_trial_and_no_public_address(database_url, client, signed_in, demo):
    signed_in("pt")
    assert client.get("/trials/999999/fhir").status_code == 404
    for other in app_with(database_url, PUBLIC_BASE_URL=""):
        other_client = other.test_client()
        other_client.login("pt", "demo-pass")
        response = other_client.get(f"/trials/{demo['DEMO-1004']}/fhir")
        assert response.status_code == 503
        assert "PUBLIC_BASE_URL" in response.get_data(as_text=True)
        break


@pytest.mark.parametrize("mrn", ["DEMO-1001", "DEMO-1002", "DEMO-1003", "DEMO-1004"])
def test_every_demo_trial_validates(client, signed_in, demo, mrn):
    signed_in("admin")
    bundle = fetch(client, demo[mrn])
    Bundle.model_validate(bundle)
    assert set(references(bundle)) <= {e["fullUrl"] for e in bundle["entry"]}
