"""Which observations are highlighted: age-appropriate ranges and the overdose signs of the brief."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from server.dosing import vitals

SEVEN = 7 * 12 + 3  # months


def test_normal_values_raise_no_flag() -> None:
    values = {"heart_rate": 95, "resp_rate": 22, "spo2": 98, "bp_systolic": 100, "bp_diastolic": 60,
              "temperature_c": Decimal("36.8"), "sedation_score": 1, "pain_score": 2, "effects": []}
    assert vitals.assess(values, SEVEN) == []


def test_a_slow_respiratory_rate_is_an_overdose_sign() -> None:
    [flag] = vitals.assess({"resp_rate": 8}, SEVEN)
    assert flag.field == "resp_rate" and flag.overdose_sign
    assert flag.message == "Respiratory rate 8/min is below 18/min, the lower limit for age 6 to 9 years."


def test_a_fast_heart_rate_is_flagged_but_not_an_overdose_sign() -> None:
    [flag] = vitals.assess({"heart_rate": 150}, SEVEN)
    assert flag.field == "heart_rate" and not flag.overdose_sign
    assert "above 140/min" in flag.message


@pytest.mark.parametrize(("age_months", "rr_ok", "rr_low"), [(2, 30, 29), (18, 24, 23), (60, 22, 21),
                                                              (100, 18, 17), (170, 12, 11)])
def test_respiratory_limits_follow_the_age_band(age_months: int, rr_ok: int, rr_low: int) -> None:
    assert vitals.assess({"resp_rate": rr_ok}, age_months) == []
    assert [f.field for f in vitals.assess({"resp_rate": rr_low}, age_months)] == ["resp_rate"]


@pytest.mark.parametrize(("age_months", "limit"), [(6, 70), (12, 72), (7 * 12, 84), (9 * 12 + 11, 88),
                                                   (10 * 12, 90), (15 * 12, 90)])
def test_hypotension_by_age(age_months: int, limit: int) -> None:
    assert vitals.systolic_lower_limit(age_months) == limit
    assert vitals.assess({"bp_systolic": limit}, age_months) == []
    assert [f.field for f in vitals.assess({"bp_systolic": limit - 1}, age_months)] == ["bp_systolic"]


def test_temperature_sedation_spo2_pain() -> None:
    flags = vitals.assess({"temperature_c": Decimal("35.6"), "sedation_score": 4, "spo2": 91, "pain_score": 8},
                          SEVEN)
    by_field = {f.field: f for f in flags}
    assert by_field["temperature_c"].overdose_sign and "hypothermia" in by_field["temperature_c"].message
    assert by_field["sedation_score"].overdose_sign and "loss of consciousness" in by_field["sedation_score"].message
    assert by_field["spo2"].overdose_sign
    assert not by_field["pain_score"].overdose_sign
    fever = vitals.assess({"temperature_c": Decimal("38.0")}, SEVEN)
    assert [f.overdose_sign for f in fever] == [False] and "fever" in fever[0].message


def test_charted_effects_are_flagged_and_overdose_effects_marked() -> None:
    flags = vitals.assess({"effects": ["headache", "seizure"]}, SEVEN)
    assert [(f.message, f.overdose_sign) for f in flags] == [
        ("Headache (often positional) charted.", False), ("Seizure charted.", True)]


def test_every_adverse_effect_of_the_issue_can_be_charted_with_a_source() -> None:
    assert set(vitals.ADVERSE_EFFECT_SOURCES) == set(vitals.ADVERSE_EFFECTS)
    assert {"hypotonia", "drowsiness", "nausea_vomiting", "headache", "urinary_retention", "seizure",
            "respiratory_depression", "site_leak", "loss_of_standing"} <= set(vitals.ADVERSE_EFFECTS)


def test_age_in_months() -> None:
    assert vitals.age_in_months(date(2019, 3, 14), date(2026, 3, 13)) == 6 * 12 + 11
    assert vitals.age_in_months(date(2019, 3, 14), date(2026, 3, 14)) == 7 * 12
    assert vitals.age_band(0).label == "under 3 months"
