"""The instruments are data: complete, consistent, sourced, and the names the form uses come from them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.assessments.instruments import (
    CELLS,
    INSTRUMENTS,
    ITEMS,
    LOWER_LIMB_MAS,
    MAS,
    MAS_MAPPINGS,
    default_plan,
    ordered,
    plan_items,
    range_message,
)
from server.protocol import REFERENCES, Protocol


def test_mas_has_the_six_grades_and_the_brief_muscle_groups() -> None:
    assert [c.value for c in MAS.items[0].measures[0].choices] == ["0", "1", "1+", "2", "3", "4"]
    lower = [i.key for i in MAS.items if i.region == "lower"]
    assert lower == ["hip_flexors", "hip_adductors", "hip_internal_rotators", "knee_flexors", "knee_extensors",
                     "gastrocnemius", "soleus"]
    upper = {i.key for i in MAS.items if i.region == "upper"}
    assert upper == {"elbow_flexors", "elbow_extensors", "wrist_flexors", "wrist_extensors", "finger_flexors",
                     "thumb_flexors"}


def test_every_item_is_sourced_and_every_number_has_a_range_and_unit() -> None:
    for item in ITEMS.values():
        shorts = [r.short for r in REFERENCES.values()]
        assert any(short in item.source for short in shorts) or "Hospital default" in item.source, item.id
        assert "[S" not in item.source and "DEFAULT" not in item.source, item.id
        for m in item.measures:
            if m.is_choice:
                assert m.choices, item.id
            else:
                assert m.min is not None and m.max is not None and m.min < m.max, item.id
                assert m.unit_words, item.id
            assert m.lower_means and m.higher_means, (item.id, m.key)


def test_field_names_are_flat_and_derived_from_the_data() -> None:
    assert "mas.hip_adductors.left" in CELLS
    assert "tardieu.hamstrings.right.r1" in CELLS
    assert "tardieu.hamstrings.right.quality" in CELLS
    assert "rom.popliteal_angle.left" in CELLS
    assert "gait.walk_10m_seconds" in CELLS
    assert "gait.evgs.right" in CELLS
    assert "function.penn.severity" in CELLS
    assert ITEMS["mas.hip_adductors"].not_tested_name == "mas.hip_adductors.not_tested"
    assert ITEMS["gait.walk_10m_seconds"].reason_name == "gait.walk_10m_seconds.not_tested_reason"
    with pytest.raises(ValueError, match="needs a side"):
        ITEMS["mas.hip_adductors"].field(None)


def test_tardieu_muscles_and_rom_joints_match_the_brief() -> None:
    assert {i.key for i in INSTRUMENTS["tardieu"].items} == {
        "hamstrings", "rectus_femoris", "gastrocnemius", "soleus", "elbow_flexors"}
    assert {"hip_abduction", "hip_extension", "hip_internal_rotation", "hip_external_rotation", "popliteal_angle",
            "knee_extension_deficit", "ankle_df_knee_extended", "ankle_df_knee_flexed", "elbow_extension",
            "wrist_extension"} == {i.key for i in INSTRUMENTS["rom"].items}


def test_mappings_code_1_plus_between_1_and_2_and_the_default_keeps_the_0_to_4_scale() -> None:
    default = MAS_MAPPINGS[Protocol().mas_mapping]
    assert default.value("1+") == Decimal("1.5") and default.value("4") == 4
    assert MAS_MAPPINGS["ordinal_0_5"].value("1+") == 2 and MAS_MAPPINGS["ordinal_0_5"].value("4") == 5
    assert MAS_MAPPINGS["ashworth_0_4_floor"].value("1+") == 1
    for mapping in MAS_MAPPINGS.values():
        grades = ["0", "1", "1+", "2", "3", "4"]
        values = [mapping.value(g) for g in grades]
        assert values == sorted(values), mapping.key
        assert mapping.source


def test_default_plan_is_lower_limb_and_picks_function_tests_by_gmfcs() -> None:
    walking = default_plan(2)
    assert walking[:7] == list(LOWER_LIMB_MAS)
    assert [i for i in walking if i.startswith("rom.")] == [
        "rom.hip_abduction", "rom.popliteal_angle", "rom.ankle_df_knee_extended", "rom.ankle_df_knee_flexed"]
    assert [i for i in walking if i.startswith("tardieu.")] == ["tardieu.hamstrings", "tardieu.gastrocnemius"]
    assert "gait.walk_10m_seconds" in walking
    sitting = default_plan(5)
    assert "gait.walk_10m_seconds" not in sitting and "function.standing" in sitting
    assert not any(ITEMS[i].region == "upper" for i in walking)


def test_ordering_and_grouping_follow_the_instruments() -> None:
    assert ordered(["gait.tug_seconds", "mas.soleus", "nonsense"]) == ["mas.soleus", "gait.tug_seconds"]
    groups = plan_items(["rom.popliteal_angle", "mas.hip_flexors"])
    assert list(groups) == ["mas", "rom"]


def test_range_message_names_the_field_and_unit() -> None:
    item = ITEMS["rom.popliteal_angle"]
    assert range_message(item, item.measures[0]) == "Popliteal angle must be between 0 and 180 degrees."
    t = ITEMS["tardieu.gastrocnemius"]
    assert range_message(t, t.measure("r1")) == (
        "Gastrocnemius (knee straight) R1 catch angle must be between -90 and 60 degrees.")
