"""A trial as a FHIR R4 Bundle (type collection), built and validated with fhir.resources.

Every resource has a `urn:uuid:` fullUrl (a name-based UUID of the record under the server's public address, so
the same record keeps its UUID in every export) and every reference points at an entry of the Bundle:

    Patient, Encounter (the admission for the trial), Practitioner (each staff member named)
    Observation       each PT measurement (local codes), each vital sign (LOINC), sedation and pain (local),
                      each charted adverse effect (local), each GAS rating and each day's T-score (local)
    MedicationAdministration   each day's dose record as last corrected: baclofen (RxNorm 1292), intrathecal
                      (SNOMED CT 72607000), dose in micrograms (UCUM ug), giver and checker (verifier)
    Goal              each GAS goal, its ratings as outcomes
    ClinicalImpression         the candidacy outcome, once recorded

fhir.resources 8 models R4B (4.3.0), which is R4 (4.0.1) for every resource and element used here; the
Bundle is validated against those models each time it is built (see docs/exports.md for what that checks).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from ..assessments.instruments import Cell
from ..decisions.models import EFFECTS
from ..dosing.models import ROUTES, DoseAdministration, Observation
from ..dosing.services import observation_flags
from ..dosing.vitals import ADVERSE_EFFECTS, SEDATION_SCALE
from ..goals.scoring import SCALE
from ..trials.models import OUTCOMES, Trial
from ..web import clock
from .records import Records
from .research import recorded_cells

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HL7 = "http://terminology.hl7.org/CodeSystem/"
BACLOFEN = {"system": RXNORM, "code": "1292", "display": "baclofen"}
INTRATHECAL = {"system": SNOMED, "code": "72607000", "display": "Intrathecal route"}

# Vital signs: (column, LOINC codings, display, UCUM unit)
VITAL_CODES: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    ("heart_rate", (("8867-4", "Heart rate"),), "/min"),
    ("resp_rate", (("9279-1", "Respiratory rate"),), "/min"),
    ("spo2", (("2708-6", "Oxygen saturation in Arterial blood"),
              ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")), "%"),
    ("temperature_c", (("8310-5", "Body temperature"),), "Cel"),
)
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_PARTS = (("bp_systolic", "8480-6", "Systolic blood pressure"), ("bp_diastolic", "8462-4",
                                                                    "Diastolic blood pressure"))
UNITS_UCUM = {"°": "deg", "s": "s", "m": "m", "": "{score}"}
ENCOUNTER_STATUS = {"planned": "planned", "active": "in-progress", "completed": "finished", "stopped": "finished"}
PRIORITY = {3: "high-priority", 2: "medium-priority", 1: "low-priority"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)], **({"text": text} if text else {})}


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def _decimal(value: Decimal | int | float) -> Decimal:
    return Decimal(str(value))


def _quantity(value: Decimal | int | float, unit: str, code: str) -> dict[str, Any]:
    return {"value": _decimal(value), "unit": unit, "system": UCUM, "code": code}


class _Builder:
    SURVEY = _concept(HL7 + "observation-category", "survey", "Survey")

    def __init__(self, rec: Records, trial: Trial, base: str):
        self.rec = rec
        self.trial = trial
        self.base = base
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, base)
        self.entries: list[dict[str, Any]] = []
        self.people: set[int] = set()

    # -- plumbing ------------------------------------------------------------------------------------------------

    def url(self, kind: str, key: Any) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, f'{kind}/{key}')}"

    def ref(self, kind: str, key: Any) -> dict[str, str]:
        return {"reference": self.url(kind, key)}

    def add(self, kind: str, key: Any, resource: dict[str, Any]) -> dict[str, str]:
        self.entries.append({"fullUrl": self.url(kind, key), "resource": {"resourceType": kind, **resource}})
        return self.ref(kind, key)

    def system(self, name: str) -> str:
        return f"{self.base}/CodeSystem/{name}"

    def identifier(self, name: str, value: Any) -> dict[str, str]:
        return {"system": f"{self.base}/sid/{name}", "value": str(value)}

    def context(self) -> dict[str, Any]:
        return {"subject": self.ref("Patient", self.trial.patient.id),
                "encounter": self.ref("Encounter", self.trial.id)}

    def person(self, user_id: int | None) -> dict[str, str] | None:
        user = self.rec.users.get(user_id) if user_id is not None else None
        if user is None:
            return None
        if user.id not in self.people:
            self.people.add(user.id)
            self.add("Practitioner", user.id, {"identifier": [self.identifier("staff", user.username)],
                                               "active": user.active, "name": [{"text": user.display_name}]})
        return {**self.ref("Practitioner", user.id), "display": user.display_name}

    # -- the admission -------------------------------------------------------------------------------------------

    def patient(self) -> None:
        p = self.trial.patient
        self.add("Patient", p.id, {
            "identifier": [{**self.identifier("mrn", p.mrn),
                            "type": _concept(HL7 + "v2-0203", "MR", "Medical record number")}],
            "name": [{"family": p.last_name, "given": [p.first_name]}], "birthDate": p.date_of_birth.isoformat()})

    def encounter(self) -> None:
        t = self.trial
        period: dict[str, str] = {"start": _instant(t.catheter_placed_at) if t.catheter_placed_at
                                  else t.start_date.isoformat()}
        if not t.is_open and t.days:
            period["end"] = max(d.date for d in t.days).isoformat()
        self.add("Encounter", t.id, {
            "identifier": [self.identifier("trial", t.id)], "status": ENCOUNTER_STATUS.get(t.status, "unknown"),
            "class": _coding(HL7 + "v3-ActCode", "IMP", "inpatient encounter"),
            "type": [{"text": "Intrathecal baclofen test-dose trial"}],
            "subject": self.ref("Patient", t.patient.id), "period": period,
            "reasonCode": [{"text": t.patient.diagnosis}]})

    # -- PT measurements -----------------------------------------------------------------------------------------

    def measurements(self) -> list[dict[str, str]]:
        refs = []
        for a, first in self.rec.assessments:
            if a.trial_id != self.trial.id:
                continue
            day = self.rec.days[a.trial_day_id].day_number
            for c, state, value in recorded_cells(a.values or {}, a.not_tested or {}):
                obs: dict[str, Any] = {
                    "identifier": [self.identifier("assessment", f"{a.chain_id}/{c.name}")],
                    "status": "amended" if a.version > 1 else "final",
                    "category": [_concept(HL7 + "observation-category", "exam", "Exam")],
                    "code": _concept(self.system("itb-assessment"), c.name, self._label(c)),
                    **self.context(), "effectiveDateTime": _instant(first.recorded_at),
                    "issued": _instant(a.received_at),
                    "note": [{"text": f"Day {day}, {a.phase_label.lower()}, version {a.version}."}]}
                performer = self.person(first.author_id)
                if performer:
                    obs["performer"] = [performer]
                if c.side:
                    obs["bodySite"] = {"text": f"{c.item.label}, {c.side}"}
                if state == "value":
                    obs |= self._value(c, value)
                else:
                    obs["dataAbsentReason"] = _concept(HL7 + "data-absent-reason", "not-performed", "Not Performed",
                                                       text=str(value))
                refs.append(self.add("Observation", f"{a.id}/{c.name}", obs))
        return refs

    @staticmethod
    def _label(c: Cell) -> str:
        parts = [c.item.label]
        if len(c.item.measures) > 1:
            parts.append(c.measure.label)
        if c.side:
            parts.append(c.side)
        return ", ".join(parts)

    def _value(self, c: Cell, value: Any) -> dict[str, Any]:
        m = c.measure
        if not m.is_choice:
            return {"valueQuantity": _quantity(value, m.unit or m.unit_words, UNITS_UCUM.get(m.unit, "{score}"))}
        scale = f"{c.item.instrument}-{m.key or 'grade'}" if c.item.instrument in ("mas", "tardieu") else \
            "-".join(p for p in (c.item.instrument, c.item.key, m.key) if p)
        return {"valueCodeableConcept": _concept(self.system(scale), str(value), m.choice_label(str(value)))}

    # -- nursing observations -----------------------------------------------------------------------------------

    def observations(self) -> None:
        patient = self.trial.patient
        for o in self.rec.observations:
            if self.rec.days[o.trial_day_id].trial_id != self.trial.id:
                continue
            flags = defaultdict(list)
            for f in observation_flags(o, patient):
                flags[f.field].append(f.message)
            for key, codes, unit in VITAL_CODES:
                value = getattr(o, key)
                if value is not None:
                    self._vital(o, key, {"coding": [_coding(LOINC, c, d) for c, d in codes]},
                                {"valueQuantity": _quantity(value, unit, unit)}, flags[key])
            parts = [(col, code, text) for col, code, text in BP_PARTS if getattr(o, col) is not None]
            if parts:
                self._vital(o, "bp", _concept(LOINC, *BP_PANEL), {"component": [
                    {"code": _concept(LOINC, code, text),
                     "valueQuantity": _quantity(getattr(o, col), "mmHg", "mm[Hg]")} for col, code, text in parts]},
                    [m for col, *_ in parts for m in flags[col]])
            if o.sedation_score is not None:
                self._vital(o, "sedation_score", _concept(
                    self.system("itb-observation"), "sedation-score", "University of Michigan Sedation Scale"),
                    {"valueCodeableConcept": _concept(self.system("umss"), str(o.sedation_score),
                                                      SEDATION_SCALE.get(o.sedation_score))},
                    flags["sedation_score"], category="survey")
            if o.pain_score is not None:
                self._vital(o, "pain_score", _concept(self.system("itb-observation"), "pain-score",
                                                      "Pain score (0-10)"),
                            {"valueInteger": o.pain_score}, flags["pain_score"], category="survey")
            for effect in o.effects or []:
                self._vital(o, f"effect/{effect}", _concept(self.system("itb-adverse-effect"), effect,
                                                            ADVERSE_EFFECTS.get(effect, effect)),
                            {"valueBoolean": True}, [], category="exam")

    def _vital(self, o: Observation, key: str, code: dict[str, Any], value: dict[str, Any], flags: list[str],
               category: str = "vital-signs") -> None:
        obs: dict[str, Any] = {
            "identifier": [self.identifier("observation", f"{o.id}/{key}")], "status": "final",
            "category": [_concept(HL7 + "observation-category", category)], "code": code, **self.context(),
            "effectiveDateTime": _instant(o.taken_at), "issued": _instant(o.received_at), **value}
        performer = self.person(o.author_id)
        if performer:
            obs["performer"] = [performer]
        if flags:
            obs["interpretation"] = [{**_concept(HL7 + "v3-ObservationInterpretation", "A", "Abnormal"),
                                      "text": " ".join(flags)}]
        self.add("Observation", f"nursing/{o.id}/{key}", obs)

    # -- doses ---------------------------------------------------------------------------------------------------

    def doses(self) -> list[dict[str, str]]:
        refs = []
        for day in self.trial.days:
            dose = self.rec.latest_dose.get(day.id)
            if dose is not None:
                refs.append(self._dose(day.day_number, dose))
        return refs

    def _dose(self, day_number: int, d: DoseAdministration) -> dict[str, str]:
        performers = []
        for user_id, function, display in ((d.given_by_id, "performer", "Performer"),
                                           (d.checked_by_id, "verifier", "Verifier")):
            actor = self.person(user_id)
            if actor:
                performers.append({"function": _concept(HL7 + "med-admin-perform-function", function, display),
                                   "actor": actor})
        how = ROUTES.get(d.route, d.route)
        notes = [text for text in (d.override_reason and f"Above the ceiling: {d.override_reason}",
                                   d.correction_reason and f"Corrected (version {d.version}): {d.correction_reason}")
                 if text]
        resource: dict[str, Any] = {
            "identifier": [self.identifier("dose-record", d.id)],
            "status": "completed" if d.is_given else "entered-in-error",
            "medicationCodeableConcept": {"coding": [BACLOFEN], "text": "Baclofen (intrathecal test bolus)"},
            "subject": self.ref("Patient", self.trial.patient.id), "context": self.ref("Encounter", self.trial.id),
            "effectiveDateTime": _instant(d.given_at), "performer": performers,
            "reasonCode": [{"text": f"ITB trial test dose, day {day_number}"}],
            "dosage": {"text": f"{d.dose_mcg.normalize():f} mcg intrathecal bolus by {how.lower()} "
                               f"({d.volume_ml.normalize():f} mL of {d.concentration_mcg_per_ml.normalize():f} mcg/mL)",
                       "route": {"coding": [INTRATHECAL]}, "method": {"text": how},
                       "dose": _quantity(d.dose_mcg, "mcg", "ug")}}
        if notes:
            resource["note"] = [{"text": n} for n in notes]
        return self.add("MedicationAdministration", d.id, resource)

    # -- goals and the outcome -----------------------------------------------------------------------------------

    def goals(self) -> list[dict[str, str]]:
        t_refs: list[dict[str, str]] = []
        goals = [g for g in self.rec.goals if g.trial_id == self.trial.id]
        by_day: dict[int, list[dict[str, str]]] = defaultdict(list)
        for g in goals:
            ratings = [(day, self.rec.ratings[(g.id, day.id)]) for day in self.trial.days
                       if (g.id, day.id) in self.rec.ratings]
            outcome_refs = []
            for day, r in ratings:
                obs: dict[str, Any] = {
                    "status": "final", "category": [self.SURVEY],
                    "code": _concept(self.system("itb-gas"), "goal-rating", "GAS goal attainment"),
                    **self.context(), "focus": [self.ref("Goal", g.id)], "effectiveDateTime": _instant(r.rated_at),
                    "valueInteger": r.score, "note": [{"text": f"Day {day.day_number}: {SCALE[r.score]}"}]}
                performer = self.person(r.rated_by_id)
                if performer:
                    obs["performer"] = [performer]
                ref = self.add("Observation", f"gas/{r.id}", obs)
                outcome_refs.append(ref)
                by_day[day.id].append(ref)
            goal: dict[str, Any] = {
                "lifecycleStatus": "active" if self.trial.is_open else "completed",
                "priority": _concept(HL7 + "goal-priority", PRIORITY.get(g.weight, "low-priority")),
                "description": {"text": g.description}, "subject": self.ref("Patient", self.trial.patient.id),
                "startDate": g.set_at.astimezone(UTC).date().isoformat(),
                "note": [{"text": "Agreed with the family; rated by Goal Attainment Scaling (-2 to +2)."}]}
            if ratings:
                latest = ratings[-1][1].score
                goal["achievementStatus"] = _concept(HL7 + "goal-achievement",
                                                     "achieved" if latest >= 0 else "not-achieved")
                goal["outcomeReference"] = outcome_refs
            self.add("Goal", g.id, goal)
        scores = self.rec.t_scores()
        for day in self.trial.days:
            if day.id in scores:
                t_refs.append(self.add("Observation", f"gas-t/{day.id}", {
                    "status": "final", "category": [self.SURVEY],
                    "code": _concept(self.system("itb-gas"), "t-score", "GAS T-score"),
                    **self.context(), "effectiveDateTime": day.date.isoformat(),
                    "valueQuantity": _quantity(scores[day.id], "T-score", "{T-score}"),
                    "derivedFrom": by_day[day.id], "note": [{"text": f"Day {day.day_number}; 50 = as expected."}]}))
        return t_refs

    def outcome(self, supporting: list[dict[str, str]], measured: list[dict[str, str]]) -> None:
        t = self.trial
        if not t.outcome:
            return
        impression: dict[str, Any] = {
            "status": "completed",
            "code": {"text": "Candidacy for an intrathecal baclofen pump after a test-dose trial"},
            "description": "Outcome of the intrathecal baclofen trial, recorded by the team.", **self.context(),
            "finding": [{"itemCodeableConcept": _concept(self.system("itb-candidacy-outcome"), t.outcome,
                                                         OUTCOMES.get(t.outcome, t.outcome))}]}
        if t.outcome_reason:
            impression["summary"] = t.outcome_reason
        if supporting:
            impression["supportingInfo"] = supporting
        if measured:
            impression["investigation"] = [{"code": {"text": "PT assessments (tone, spasticity, range, gait)"},
                                            "item": measured}]
        decided = [f"Day {self.rec.days[day_id].day_number}: {EFFECTS.get(d.effect, d.effect)}"
                   for day_id, d in sorted(self.rec.decisions.items(), key=lambda kv: self.rec.days[kv[0]].day_number)
                   if self.rec.days[day_id].trial_id == t.id]
        if decided:
            impression["note"] = [{"text": "; ".join(decided)}]
        self.add("ClinicalImpression", t.id, impression)


def bundle(rec: Records, trial: Trial, base: str, now: datetime | None = None) -> Bundle:
    """The trial's Bundle, validated by fhir.resources (a ValidationError here is a bug of this module)."""
    b = _Builder(rec, trial, base)
    b.patient()
    b.encounter()
    measured = b.measurements()
    b.observations()
    given = b.doses()
    t_scores = b.goals()
    b.outcome(given + t_scores, measured)
    when = now or clock.now()
    return Bundle.model_validate({
        "resourceType": "Bundle", "identifier": {"system": f"{base}/sid/fhir-export",
                                                 "value": f"trial-{trial.id}-{when:%Y%m%dT%H%M%S}"},
        "type": "collection", "timestamp": _instant(when), "entry": b.entries})
