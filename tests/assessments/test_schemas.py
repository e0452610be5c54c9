"""The assessment schema: the same answers from a form post (MultiDict) and a sync payload (dict of strings)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from server.assessments.schemas import AssessmentSchema, PlanSchema
from server.web.forms import load_form

BASE = {"trial_id": "1", "day_number": "1", "phase": "baseline"}


def _load(payload: dict[str, Any], multidict: bool = False) -> tuple[Any, dict[str, list[str]]]:
    data = MultiDict(list(payload.items())) if multidict else payload
    return load_form(AssessmentSchema(), data)  # type: ignore[arg-type]


@pytest.mark.parametrize("multidict", [False, True])
def test_a_full_form_loads_to_typed_values(multidict: bool) -> None:
    data, errors = _load({**BASE, "mas.hip_adductors.left": "1+", "mas.hip_adductors.right": "2",
                          "tardieu.hamstrings.left.r1": "70", "tardieu.hamstrings.left.r2": "45",
                          "tardieu.hamstrings.left.quality": "2", "rom.popliteal_angle.left": " 55 ",
                          "rom.ankle_df_knee_extended.right": "-10", "gait.walk_10m_seconds": "12,4",
                          "function.penn.frequency": "0", "notes": "  calm  ", "csrf_token": "x", "entry_id": "y",
                          "mas.hip_flexors.left": ""}, multidict)
    assert errors == {}
    assert data["values"] == {"mas.hip_adductors.left": "1+", "mas.hip_adductors.right": "2",
                              "tardieu.hamstrings.left.r1": 70, "tardieu.hamstrings.left.r2": 45,
                              "tardieu.hamstrings.left.quality": "2", "rom.popliteal_angle.left": 55,
                              "rom.ankle_df_knee_extended.right": -10, "gait.walk_10m_seconds": 12.4,
                              "function.penn.frequency": "0"}
    assert data["notes"] == "calm"
    assert (data["trial_id"], data["day_number"], data["phase"]) == (1, 1, "baseline")
    assert data["not_tested"] == {} and data["supersedes_id"] is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rom.popliteal_angle.left", "400", "Popliteal angle must be between 0 and 180 degrees."),
    ("rom.hip_abduction.right", "-45", "Hip abduction must be between -10 and 90 degrees."),
    ("tardieu.soleus.left.r2", "400", "Soleus (knee bent) R2 slow range must be between -90 and 60 degrees."),
    ("gait.walk_10m_seconds", "-3", "10 m walk time must be between 2 and 600 seconds."),
    ("gait.tug_seconds", "0", "Timed Up and Go must be between 2 and 300 seconds."),
    ("gait.walk_10m_seconds", "quick", "Enter 10 m walk time as a number with up to 2 decimals, e.g. 12.5."),
    ("gait.walk_10m_seconds", "12.345", "Enter 10 m walk time as a number with up to 2 decimals, e.g. 12.5."),
    ("gait.walk_10m_seconds", "NaN", "Enter 10 m walk time as a number with up to 2 decimals, e.g. 12.5."),
    ("rom.popliteal_angle.left", "35.5", "Enter Popliteal angle in whole degrees, e.g. 35."),
    ("gait.evgs.left", "40", "Edinburgh Visual Gait Score (total) must be between 0 and 34 points."),
    ("mas.hip_adductors.left", "5", "Choose a grade: 0, 1, 1+, 2, 3 or 4."),
    ("mas.hip_adductors.left", "1 +", "Choose a grade: 0, 1, 1+, 2, 3 or 4."),
    ("tardieu.hamstrings.left.quality", "6", "Choose a grade: 0, 1, 2, 3, 4 or 5."),
    ("function.standing", "sometimes", "Choose a value: Unable, With support or On own."),
    ("mas.big_toe.left", "1", "Unknown muscle group “big_toe” for Muscle tone (Modified Ashworth)."),
    ("mas.hip_adductors.middle", "1", "Unknown side “middle” for Hip adductors: use left or right."),
    ("rom.shoulder_flexion.left", "90", "Unknown joint measure “shoulder_flexion” for Range of motion (degrees)."),
    ("tardieu.hamstrings.left.r3", "30", "Unknown measure “r3” for Hamstrings."),
    ("mas.hip_adductors.not_tested", "top", "Choose left, right or both sides."),
])
@pytest.mark.parametrize("multidict", [False, True])
def test_bad_values_are_refused_with_a_message_beside_the_field(field: str, value: str, message: str,
                                                                multidict: bool) -> None:
    data, errors = _load({**BASE, "mas.hip_flexors.left": "1", field: value}, multidict)
    assert data is None
    assert errors[field] == [message]


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({"trial_id": "abc"}, "trial_id", "Unknown trial: open the form from the trial's page."),
    ({"trial_id": ""}, "trial_id", "Unknown trial: open the form from the trial's page."),
    ({"day_number": "0"}, "day_number", "Unknown trial day."),
    ({"phase": "lunch"}, "phase", "Choose baseline or post-dose."),
])
def test_bad_trial_day_or_phase(payload: dict[str, str], field: str, message: str) -> None:
    data, errors = _load({**BASE, "mas.hip_flexors.left": "1", **payload})
    assert data is None and errors[field] == [message]


def test_not_tested_needs_a_reason_and_no_value_on_that_side() -> None:
    data, errors = _load({**BASE, "mas.hip_adductors.not_tested": "left", "mas.hip_adductors.left": "2"})
    assert data is None
    assert errors["mas.hip_adductors.not_tested_reason"][0].startswith("Say why it was not tested")
    assert errors["mas.hip_adductors.left"][0].startswith("Marked not tested")
    data, errors = _load({**BASE, "gait.walk_10m_seconds.not_tested_reason": "asleep"})
    assert errors == {"gait.walk_10m_seconds.not_tested": ["Tick “Not tested”, or clear the reason."]}


def test_not_tested_is_stored_with_its_reason_never_as_zero() -> None:
    data, errors = _load({**BASE, "mas.hip_adductors.not_tested": "both",
                          "mas.hip_adductors.not_tested_reason": "hip pain", "mas.hip_adductors.right": "",
                          "gait.walk_10m_seconds.not_tested": "yes",
                          "gait.walk_10m_seconds.not_tested_reason": "cannot walk today",
                          "rom.popliteal_angle.not_tested": "right",
                          "rom.popliteal_angle.not_tested_reason": "cast", "rom.popliteal_angle.left": "40"})
    assert errors == {}
    assert data["not_tested"] == {
        "mas.hip_adductors": {"sides": ["left", "right"], "reason": "hip pain"},
        "gait.walk_10m_seconds": {"sides": [], "reason": "cannot walk today"},
        "rom.popliteal_angle": {"sides": ["right"], "reason": "cast"}}
    assert data["values"] == {"rom.popliteal_angle.left": 40}
    assert 0 not in data["values"].values()


def test_nothing_recorded_is_refused() -> None:
    data, errors = _load({**BASE, "notes": "nothing done"})
    assert data is None and errors["_schema"][0].startswith("Nothing was recorded")


def test_tardieu_catch_cannot_lie_beyond_the_full_range_in_the_stretch_direction() -> None:
    # Hamstrings as popliteal angle: the angle shrinks as the muscle is stretched, so R1 >= R2.
    _, errors = _load({**BASE, "tardieu.hamstrings.left.r1": "70", "tardieu.hamstrings.left.r2": "40"})
    assert errors == {}
    _, errors = _load({**BASE, "tardieu.hamstrings.left.r1": "30", "tardieu.hamstrings.left.r2": "40"})
    assert errors["tardieu.hamstrings.left.r1"][0].startswith("R1 (the catch on a fast stretch) cannot lie beyond")
    # Gastrocnemius as dorsiflexion: the angle grows with the stretch, so R1 <= R2.
    _, errors = _load({**BASE, "tardieu.gastrocnemius.right.r1": "-10", "tardieu.gastrocnemius.right.r2": "5"})
    assert errors == {}
    _, errors = _load({**BASE, "tardieu.gastrocnemius.right.r1": "10", "tardieu.gastrocnemius.right.r2": "5"})
    assert "tardieu.gastrocnemius.right.r1" in errors


def test_penn_severity_is_skipped_at_frequency_zero_and_needed_above() -> None:
    _, errors = _load({**BASE, "function.penn.frequency": "0", "function.penn.severity": "2"})
    assert errors == {"function.penn.severity": ["Leave severity blank when there are no spasms (frequency 0)."]}
    _, errors = _load({**BASE, "function.penn.frequency": "3"})
    assert errors == {"function.penn.severity": ["Choose how severe the spasms are."]}


def test_a_correction_needs_its_reason() -> None:
    _, errors = _load({**BASE, "mas.hip_flexors.left": "1", "supersedes_id": "4"})
    assert errors == {"correction_reason": ["Give the reason for the correction."]}
    data, errors = _load({**BASE, "mas.hip_flexors.left": "1", "supersedes_id": "4", "correction_reason": "typo"})
    assert errors == {} and data["supersedes_id"] == 4 and data["correction_reason"] == "typo"


def test_json_numbers_and_lists_from_a_payload_are_handled() -> None:
    data, errors = _load({**BASE, "rom.popliteal_angle.left": 40, "gait.walk_10m_seconds": 12.3})
    assert errors == {} and data["values"] == {"rom.popliteal_angle.left": 40, "gait.walk_10m_seconds": 12.3}
    _, errors = _load({**BASE, "mas.hip_flexors.left": ["1", "2"]})
    assert errors["mas.hip_flexors.left"] == ["Choose a grade: 0, 1, 1+, 2, 3 or 4."]
    _, errors = _load({**BASE, "rom.popliteal_angle.left": True})
    assert errors["rom.popliteal_angle.left"] == ["Enter Popliteal angle in whole degrees, e.g. 35."]


def test_plan_schema() -> None:
    data, errors = load_form(PlanSchema(), MultiDict([("items", "mas.soleus"), ("items", "rom.hip_abduction")]))
    assert errors == {} and data["items"] == ["mas.soleus", "rom.hip_abduction"]
    _, errors = load_form(PlanSchema(), MultiDict([("items", "mas.nose")]))
    assert errors == {"items": ["Unknown item(s): mas.nose."]}
    _, errors = load_form(PlanSchema(), MultiDict([]))
    assert errors == {"items": ["Choose at least one muscle group, joint or test."]}


def test_long_unknown_keys_are_answered_but_never_cached() -> None:
    """The message cache holds short field names only: a client cannot fill a worker's memory with huge keys."""
    from server.assessments.schemas import _key_message, _unknown_key_message

    before = _key_message.cache_info().currsize
    huge = "mas." + "x" * 100_000 + ".left"
    assert _unknown_key_message(huge) is not None  # still told it is unknown
    assert _key_message.cache_info().currsize == before
    _unknown_key_message("mas.big_toe.left")
    assert _key_message.cache_info().currsize <= before + 1
