# ruff: noqa: RUF001  (clinical labels use en dashes)
"""The research export: one CSV per kind of record, a REDCap data dictionary listing every column, and a zip.

Files (each a REDCap instrument; the record is a trial):

    trials.csv        one row per trial: study code, (identifiers when asked for), the child, the outcome
    days.csv          one row per trial day: the dose plan and the day's GAS T-score
    measurements.csv  one row per PT measurement (latest version of each assessment), with its numeric coding
    doses.csv         one row per version of every dose record: given, amended or voided
    observations.csv  one row per set of nursing observations, with the vital-sign flags
    decisions.csv     one row per team decision of a day
    goals.csv         one row per GAS goal
    ratings.csv       one row per rating of a goal on a day
    dictionary.csv    the REDCap data dictionary of all of the above

Pure: the rows are made from `records.Records`; nothing here reads the database.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from ..assessments.instruments import INSTRUMENTS, ITEMS, MAS_MAPPINGS, PHASES, SIDES, Cell
from ..assessments.scoring import NOT_TESTED, VALUE, Snapshot
from ..decisions.models import EFFECTS, NEXT_STEPS, TEAM_ROLES
from ..dosing.models import DAY_STATUSES, ROUTES, DoseAdministration
from ..dosing.services import observation_flags
from ..dosing.vitals import ADVERSE_EFFECTS
from ..dosing.vitals import age_in_months as months_of_age
from ..goals.models import WEIGHTS
from ..trials.models import OUTCOMES, TONE_TYPES, TRIAL_STATUSES
from .csvfiles import DICTIONARY_COLUMNS, RECORD_ID, REPEAT_COLUMNS, Column, FileSpec, dictionary_rows, write_csv
from .records import Records, trial_code
from .study import study_code

UTC_NOTE = "UTC (the database's clock; hospital time is HOSPITAL_TIMEZONE)"
FREE_TEXT = "Free text typed by staff, exported as typed: it may name people; read it before sharing."
DOSE_STATUSES = (("given", "Given (first record)"), ("amended", "Amended (a correction of the record before)"),
                 ("voided", "Voided (marked entered in error)"))
CODINGS = (*((m.key, f"MAS: {m.label}") for m in MAS_MAPPINGS.values()),
           ("grade", "The grade as a number (the choice codes are numbers)"),
           ("order", "Position in the choice list, 0 for the first"),
           ("as_recorded", "The number as recorded"))


def _who(name: str, what: str) -> Column:
    return Column(name, what, "text", "users.username", note="A staff username.")


def _at(name: str, what: str, source: str) -> Column:
    return Column(name, f"{what} (UTC)", "datetime", source, note=UTC_NOTE)


IDENTIFIERS = (
    Column("first_name", "First name", "text", "patients.first_name", identifier=True),
    Column("last_name", "Last name", "text", "patients.last_name", identifier=True),
    Column("mrn", "Hospital number (MRN)", "text", "patients.mrn", identifier=True),
    Column("date_of_birth", "Date of birth", "date", "patients.date_of_birth", identifier=True),
)


def _trials_spec(identifiers: bool) -> FileSpec:
    return FileSpec("trials", "Trial and child", repeating=False, columns=(
        Column("study_code", "Study code of the child", "text", "HMAC-SHA256 of patients.id under the server's key",
               note="The same child has the same code in every export; it cannot be worked out from the MRN "
                    "without the server's key.", required=True),
        *(IDENTIFIERS if identifiers else ()),
        Column("age_at_start", "Age at the start of the trial", "integer",
               "patients.date_of_birth and trials.start_date", unit="years", min="0", max="25"),
        Column("weight_kg", "Weight on record at the export", "number", "patients.weight_kg", unit="kg"),
        Column("gmfcs_level", "GMFCS level", "dropdown", "patients.gmfcs_level",
               choices=tuple((str(n), f"Level {n}") for n in range(1, 6))),
        Column("tone_type", "Tone type", "dropdown", "patients.tone_type", choices=tuple(TONE_TYPES.items())),
        Column("diagnosis", "Diagnosis", "text", "patients.diagnosis", note=FREE_TEXT),
        Column("trial_status", "Trial status", "dropdown", "trials.status", choices=tuple(TRIAL_STATUSES.items())),
        Column("start_date", "First trial day", "date", "trials.start_date"),
        _at("catheter_placed_at", "Catheter placed", "trials.catheter_placed_at"),
        Column("small_child", "Small child (lower dose protocol)", "yesno", "trials.small_child"),
        Column("outcome", "Candidacy outcome", "dropdown", "trials.outcome", choices=tuple(OUTCOMES.items())),
        Column("outcome_reason", "Reasons for the outcome", "notes", "trials.outcome_reason", note=FREE_TEXT),
    ))


DAYS = FileSpec("days", "Trial days: dose plan and GAS T-score", columns=(
    Column("day_number", "Trial day", "integer", "trial_days.day_number", min="1", required=True),
    Column("day_date", "Date", "date", "trial_days.date"),
    Column("day_planned_dose", "Planned dose", "number", "trial_days.planned_dose_mcg", unit="mcg"),
    _at("day_planned_at", "Planned time", "trial_days.planned_at"),
    Column("day_dose_status", "Plan status", "dropdown", "trial_days.dose_status", choices=tuple(DAY_STATUSES.items())),
    Column("day_status_reason", "Why held or cancelled", "notes", "trial_days.dose_status_reason", note=FREE_TEXT),
    Column("day_gas_t_score", "GAS T-score of the day", "number",
           "goal_ratings and goals.weight: T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²), ρ from the protocol",
           unit="T-score", note="50 = goals met as expected; empty when nothing was rated that day."),
))

MEASUREMENTS = FileSpec("measurements", "PT measurements", columns=(
    Column("meas_assessment", "Assessment (app record id of its first version)", "integer",
           "assessments.first_version_id, or assessments.id for a first version", required=True,
           note="Rows of one assessment share it. Only the latest version of each assessment is exported: a "
                "corrected assessment appears once, as corrected (meas_version above 1); the superseded versions "
                "stay in the app's assessment history."),
    Column("meas_version", "Version of the assessment", "integer", "assessments.version", min="1"),
    Column("meas_day", "Trial day", "integer", "trial_days.day_number via assessments.trial_day_id", min="1"),
    Column("meas_phase", "Phase", "dropdown", "assessments.phase", choices=tuple(PHASES.items())),
    Column("meas_repeat", "A second assessment of this day and phase", "yesno", "assessments.is_repeat"),
    Column("meas_instrument", "Instrument", "dropdown", "assessments.values key (server/assessments/instruments.py)",
           choices=tuple((k, i.title) for k, i in INSTRUMENTS.items())),
    Column("meas_item", "Item", "text", "assessments.values key (server/assessments/instruments.py)",
           note="instrument.item, e.g. mas.hip_adductors; labels in docs/clinical-defaults.md"),
    Column("meas_side", "Side", "dropdown", "assessments.values key", choices=SIDES,
           note="Empty for an item without sides."),
    Column("meas_measure", "Measure of the item", "text", "assessments.values key",
           note="Empty for an item's only measure; r1 (catch angle), r2 (slow range), quality (Tardieu); "
                "frequency, severity (Penn)."),
    Column("meas_field", "Form field", "text", "assessments.values key",
           note="instrument.item[.side][.measure], the app's name for the measurement"),
    Column("meas_status", "Status", "dropdown", "assessments.values / assessments.not_tested",
           choices=(("value", "Measured"), ("not_tested", "Not tested (with a reason)"))),
    Column("meas_raw", "Value as recorded", "text", "assessments.values",
           note="A grade or category code (e.g. 1+), or a number."),
    Column("meas_numeric", "Numeric value", "number", "assessments.values, coded as meas_coding says",
           note="MAS grades through the protocol's mapping (meas_coding); other graded choices as their number; "
                "categories as their position; numbers as recorded."),
    Column("meas_coding", "How meas_numeric was coded", "dropdown", "server/assessments/instruments.py",
           choices=CODINGS),
    Column("meas_unit", "Unit", "text", "server/assessments/instruments.py", note="degrees, seconds, metres, "
           "points; empty for grades"),
    Column("meas_not_tested_reason", "Why not tested", "text", "assessments.not_tested", note=FREE_TEXT),
    Column("meas_minutes_after_dose", "Time after the day's dose", "integer",
           "assessed time minus dose_administrations.given_at (the day's dose as last corrected)", unit="minutes",
           note="Negative before the dose; empty when the day has no dose given."),
    _at("meas_assessed_at", "Assessed", "assessments.recorded_at of the first version (the phone's clock)"),
    _who("meas_assessed_by", "Assessed by (first version's author)"),
    _at("meas_version_at", "This version recorded", "assessments.recorded_at"),
    _who("meas_version_by", "This version recorded by"),
    Column("meas_timing_confirmed", "PT confirmed a time that contradicts the phase", "yesno",
           "assessments.timing_confirmed"),
    Column("meas_before_dose_record", "Saved before the dose record reached the server", "yesno",
           "assessments.saved_before_dose_record"),
))

DOSES = FileSpec("doses", "Dose records: every version", columns=(
    Column("dose_day", "Trial day", "integer", "trial_days.day_number via dose_administrations.trial_day_id",
           min="1", required=True),
    Column("dose_version", "Version of the day's dose record", "integer", "dose_administrations.version", min="1"),
    Column("dose_status", "Status of this version", "dropdown", "dose_administrations.status and .version",
           choices=DOSE_STATUSES, note="given: version 1, status given; amended: a later version, status given; "
                                       "voided: status entered_in_error."),
    Column("dose_latest", "Latest version (the day's record)", "yesno", "no later dose_administrations version"),
    _at("dose_given_at", "Given", "dose_administrations.given_at"),
    Column("dose_mcg", "Dose", "number", "dose_administrations.dose_mcg", unit="mcg"),
    Column("dose_volume_ml", "Volume", "number", "dose_administrations.volume_ml", unit="mL"),
    Column("dose_concentration", "Concentration", "number", "dose_administrations.concentration_mcg_per_ml",
           unit="mcg/mL"),
    Column("dose_route", "Route", "dropdown", "dose_administrations.route", choices=tuple(ROUTES.items())),
    _who("dose_given_by", "Given by"),
    _who("dose_checked_by", "Checked by (second person)"),
    _who("dose_recorded_by", "Recorded by"),
    Column("dose_override_reason", "Why above the ceiling", "notes", "dose_administrations.override_reason",
           note=FREE_TEXT),
    Column("dose_correction_reason", "Why this version replaces the one before", "notes",
           "dose_administrations.correction_reason", note=FREE_TEXT),
    _at("dose_recorded_at", "This version recorded", "dose_administrations.created_at"),
))

VITALS = (
    ("heart_rate", "Heart rate", "/min", "0", "300"), ("resp_rate", "Respiratory rate", "/min", "0", "150"),
    ("spo2", "Oxygen saturation (SpO2)", "%", "0", "100"),
    ("bp_systolic", "Systolic blood pressure", "mmHg", "0", "300"),
    ("bp_diastolic", "Diastolic blood pressure", "mmHg", "0", "250"),
    ("temperature_c", "Temperature", "°C", "25", "45"),
    ("sedation_score", "Sedation score (University of Michigan Sedation Scale, 0 awake – 4 unrousable)", "", "0",
     "4"),
    ("pain_score", "Pain score (0 – 10)", "", "0", "10"),
)

OBSERVATIONS = FileSpec("observations", "Nursing observations and flags", columns=(
    Column("obs_day", "Trial day", "integer", "trial_days.day_number via observations.trial_day_id", min="1",
           required=True),
    _at("obs_taken_at", "Taken", "observations.taken_at"),
    Column("obs_minutes_after_dose", "Time after the day's dose", "integer",
           "observations.taken_at minus dose_administrations.given_at (the day's dose as last corrected)",
           unit="minutes", note="Negative before the dose; empty when the day has no dose given."),
    *(Column(f"obs_{key}", label, "integer" if key != "temperature_c" else "number", f"observations.{key}",
             unit=unit, min=lo, max=hi) for key, label, unit, lo, hi in VITALS),
    *(Column(f"obs_eff_{key}", f"Charted: {label}", "yesno", "observations.effects") for key, label in
      ADVERSE_EFFECTS.items()),
    Column("obs_notes", "Notes", "notes", "observations.notes", note=FREE_TEXT),
    Column("obs_flags", "Flags", "notes", "server/dosing/vitals.py assess(): limits for the child's age that day",
           note="The app's messages, separated by ' | '; the limits are in docs/clinical-defaults.md."),
    Column("obs_flag_count", "Number of flags", "integer", "server/dosing/vitals.py assess()", min="0"),
    Column("obs_overdose_sign", "A flag is a sign of overdose", "yesno", "server/dosing/vitals.py assess()"),
    _who("obs_by", "Recorded by"),
    _at("obs_recorded_at", "Saved on the phone", "observations.recorded_at"),
    _at("obs_received_at", "Reached the server", "observations.received_at"),
))

DECISIONS = FileSpec("decisions", "Team decisions of the day", columns=(
    Column("dec_day", "Trial day", "integer", "trial_days.day_number via day_decisions.trial_day_id", min="1",
           required=True),
    Column("dec_effect", "How the dose worked", "dropdown", "day_decisions.effect", choices=tuple(EFFECTS.items())),
    Column("dec_next_step", "Next step", "dropdown", "day_decisions.next_step", choices=tuple(NEXT_STEPS.items())),
    Column("dec_next_dose", "Next day's dose", "number", "day_decisions.next_dose_mcg", unit="mcg"),
    Column("dec_rationale", "Why", "notes", "day_decisions.rationale", note=FREE_TEXT),
    *(Column(f"dec_team_{key}", f"Present: {label}", "yesno", "day_decisions.team_present")
      for key, label in TEAM_ROLES.items()),
    Column("dec_parents_present", "Parents took part", "yesno", "day_decisions.parents_present"),
    Column("dec_parents_view", "What the parents said", "notes", "day_decisions.parents_view", note=FREE_TEXT),
    _who("dec_by", "Recorded by (latest revision)"),
    Column("dec_revision", "Revision", "integer", "day_decisions.revision", min="1"),
    _at("dec_decided_at", "First recorded", "day_decisions.decided_at"),
    _at("dec_updated_at", "Last changed", "day_decisions.updated_at"),
))

GOALS = FileSpec("goals", "Goals agreed with the family (GAS)", columns=(
    Column("goal_position", "Goal number", "integer", "goals.position", min="1", required=True),
    Column("goal_description", "Goal", "notes", "goals.description", note=FREE_TEXT),
    Column("goal_weight", "Importance (GAS weight)", "dropdown", "goals.weight",
           choices=tuple((str(k), f"{k} {v}") for k, v in WEIGHTS.items())),
    _who("goal_set_by", "Set by"),
    _at("goal_set_at", "Set", "goals.set_at"),
))

RATINGS = FileSpec("ratings", "GAS ratings of each goal on each day", columns=(
    Column("gas_goal", "Goal number", "integer", "goals.position via goal_ratings.goal_id", min="1", required=True),
    Column("gas_day", "Trial day", "integer", "trial_days.day_number via goal_ratings.trial_day_id", min="1"),
    Column("gas_score", "Attainment", "integer", "goal_ratings.score", min="-2", max="2",
           note="2 much better than expected, 1 somewhat better, 0 as expected, -1 somewhat less, "
                "-2 much less than expected"),
    _who("gas_rated_by", "Rated by"),
    _at("gas_rated_at", "Rated", "goal_ratings.rated_at"),
))

RECORD_LABEL = "Trial code: the child's study code and the trial's number for that child"
DICTIONARY_FILE = "dictionary.csv"
FILE_CHOICES = ("zip", "trials", "days", "measurements", "doses", "observations", "decisions", "goals", "ratings",
                "dictionary")


def specs(identifiers: bool) -> list[FileSpec]:
    return [_trials_spec(identifiers), DAYS, MEASUREMENTS, DOSES, OBSERVATIONS, DECISIONS, GOALS, RATINGS]


# ---- rows ---------------------------------------------------------------------------------------------------

def _age(born: date, on: date) -> int:
    return months_of_age(born, on) // 12


def trial_rows(rec: Records, identifiers: bool) -> Iterator[dict[str, Any]]:
    for t in rec.trials:
        p = t.patient
        row: dict[str, Any] = {
            RECORD_ID: trial_code(t), "study_code": study_code(p), "age_at_start": _age(p.date_of_birth, t.start_date),
            "weight_kg": p.weight_kg, "gmfcs_level": p.gmfcs_level, "tone_type": p.tone_type,
            "diagnosis": p.diagnosis, "trial_status": t.status, "start_date": t.start_date,
            "catheter_placed_at": t.catheter_placed_at, "small_child": t.small_child, "outcome": t.outcome,
            "outcome_reason": t.outcome_reason}
        if identifiers:
            row |= {"first_name": p.first_name, "last_name": p.last_name, "mrn": p.mrn,
                    "date_of_birth": p.date_of_birth}
        yield row


class _Instances:
    """REDCap's repeat columns: the record (trial code) and a running instance number per record."""

    def __init__(self, rec: Records, instrument: str):
        self.codes = {t.id: trial_code(t) for t in rec.trials}
        self.instrument = instrument
        self.counts: dict[int, int] = defaultdict(int)

    def __call__(self, trial_id: int) -> dict[str, Any]:
        self.counts[trial_id] += 1
        return {RECORD_ID: self.codes[trial_id], REPEAT_COLUMNS[0]: self.instrument,
                REPEAT_COLUMNS[1]: self.counts[trial_id]}


def day_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, DAYS.name)
    scores = rec.t_scores()
    for t in rec.trials:
        for d in t.days:
            yield keys(t.id) | {
                "day_number": d.day_number, "day_date": d.date, "day_planned_dose": d.planned_dose_mcg,
                "day_planned_at": d.planned_at, "day_dose_status": d.dose_status,
                "day_status_reason": d.dose_status_reason, "day_gas_t_score": scores.get(d.id)}


def _numeric(cell: Cell, raw: Any, rec: Records) -> tuple[Decimal | None, str]:
    measure = cell.measure
    if not measure.is_choice:
        return Decimal(str(raw)), "as_recorded"
    if cell.item.instrument == "mas":
        return rec.mapping.value(str(raw)), rec.mapping.key
    values = measure.choice_values()
    if str(raw) not in values:
        return None, ""
    if all(v.isdigit() for v in values):
        return Decimal(str(raw)), "grade"
    return Decimal(values.index(str(raw))), "order"


def recorded_cells(values: dict[str, Any], not_tested: dict[str, Any]) -> Iterator[tuple[Cell, str, Any]]:
    """Each cell the assessment recorded, measured or not tested, in instrument order."""
    snap = Snapshot(values, not_tested)
    wanted = snap.item_ids()
    for item_id, item in ITEMS.items():
        if item_id not in wanted:
            continue
        for c in item.cells():
            state, value = snap.state(c)
            if state in (VALUE, NOT_TESTED):
                yield c, state, value


def measurement_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, MEASUREMENTS.name)
    days = rec.days
    for a, first in rec.assessments:
        common = {
            "meas_assessment": a.chain_id, "meas_version": a.version, "meas_day": days[a.trial_day_id].day_number,
            "meas_phase": a.phase, "meas_repeat": a.is_repeat,
            "meas_minutes_after_dose": rec.minutes_after_dose(a.trial_day_id, first.recorded_at),
            "meas_assessed_at": first.recorded_at, "meas_assessed_by": rec.username(first.author_id),
            "meas_version_at": a.recorded_at, "meas_version_by": rec.username(a.author_id),
            "meas_timing_confirmed": a.timing_confirmed, "meas_before_dose_record": a.saved_before_dose_record}
        for c, state, value in recorded_cells(a.values or {}, a.not_tested or {}):
            row = keys(a.trial_id) | common | {
                "meas_instrument": c.item.instrument, "meas_item": c.item.id, "meas_side": c.side,
                "meas_measure": c.measure.key, "meas_field": c.name, "meas_status": state,
                "meas_unit": c.measure.unit_words if not c.measure.is_choice else ""}
            if state == VALUE:
                numeric, coding = _numeric(c, value, rec)
                row |= {"meas_raw": value, "meas_numeric": numeric, "meas_coding": coding}
            else:
                row["meas_not_tested_reason"] = value
            yield row


def dose_status(dose: DoseAdministration) -> str:
    if not dose.is_given:
        return "voided"
    return "amended" if dose.version > 1 else "given"


def dose_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, DOSES.name)
    for d in rec.doses:
        day = rec.days[d.trial_day_id]
        yield keys(day.trial_id) | {
            "dose_day": day.day_number, "dose_version": d.version, "dose_status": dose_status(d),
            "dose_latest": rec.latest_dose[d.trial_day_id] is d, "dose_given_at": d.given_at, "dose_mcg": d.dose_mcg,
            "dose_volume_ml": d.volume_ml, "dose_concentration": d.concentration_mcg_per_ml, "dose_route": d.route,
            "dose_given_by": rec.username(d.given_by_id), "dose_checked_by": rec.username(d.checked_by_id),
            "dose_recorded_by": rec.username(d.recorded_by_id), "dose_override_reason": d.override_reason,
            "dose_correction_reason": d.correction_reason, "dose_recorded_at": d.created_at}


def observation_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, OBSERVATIONS.name)
    for o in rec.observations:
        day = rec.days[o.trial_day_id]
        flags = observation_flags(o, day.trial.patient)  # as the ward saw them
        effects = set(o.effects or [])
        yield keys(day.trial_id) | {f"obs_{key}": getattr(o, key) for key, *_ in VITALS} | {
            f"obs_eff_{key}": key in effects for key in ADVERSE_EFFECTS} | {
            "obs_day": day.day_number, "obs_taken_at": o.taken_at,
            "obs_minutes_after_dose": rec.minutes_after_dose(o.trial_day_id, o.taken_at), "obs_notes": o.notes,
            "obs_flags": " | ".join(f.message for f in flags), "obs_flag_count": len(flags),
            "obs_overdose_sign": any(f.overdose_sign for f in flags), "obs_by": rec.username(o.author_id),
            "obs_recorded_at": o.recorded_at, "obs_received_at": o.received_at}


def decision_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, DECISIONS.name)
    for t in rec.trials:
        for day in t.days:
            d = rec.decisions.get(day.id)
            if d is None:
                continue
            present = set(d.team_present or [])
            yield keys(t.id) | {f"dec_team_{key}": key in present for key in TEAM_ROLES} | {
                "dec_day": day.day_number, "dec_effect": d.effect, "dec_next_step": d.next_step,
                "dec_next_dose": d.next_dose_mcg, "dec_rationale": d.rationale,
                "dec_parents_present": d.parents_present, "dec_parents_view": d.parents_view,
                "dec_by": rec.username(d.decided_by_id), "dec_revision": d.revision, "dec_decided_at": d.decided_at,
                "dec_updated_at": d.updated_at}


def goal_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, GOALS.name)
    for g in rec.goals:
        yield keys(g.trial_id) | {"goal_position": g.position, "goal_description": g.description,
                                  "goal_weight": g.weight, "goal_set_by": rec.username(g.set_by_id),
                                  "goal_set_at": g.set_at}


def rating_rows(rec: Records) -> Iterator[dict[str, Any]]:
    keys = _Instances(rec, RATINGS.name)
    trials = {t.id: t for t in rec.trials}
    for g in rec.goals:
        for day in trials[g.trial_id].days:
            r = rec.ratings.get((g.id, day.id))
            if r is not None:
                yield keys(g.trial_id) | {"gas_goal": g.position, "gas_day": day.day_number, "gas_score": r.score,
                                          "gas_rated_by": rec.username(r.rated_by_id), "gas_rated_at": r.rated_at}


ROWS = {"days": day_rows, "measurements": measurement_rows, "doses": dose_rows, "observations": observation_rows,
        "decisions": decision_rows, "goals": goal_rows, "ratings": rating_rows}


def files(rec: Records, identifiers: bool) -> dict[str, str]:
    """Every file of the export, by file name, as CSV text."""
    out: dict[str, str] = {}
    for spec in specs(identifiers):
        rows = trial_rows(rec, identifiers) if spec.name == "trials" else ROWS[spec.name](rec)
        out[spec.filename] = write_csv(spec.header(), rows)
    dictionary = dictionary_rows(specs(identifiers), RECORD_LABEL)
    out[DICTIONARY_FILE] = write_csv(list(DICTIONARY_COLUMNS), dictionary)
    return out


def zipped(texts: dict[str, str], folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in texts.items():
            z.writestr(f"{folder}/{name}", text.encode("utf-8"))
    return buffer.getvalue()
