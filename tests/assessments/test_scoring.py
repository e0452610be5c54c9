# ruff: noqa: RUF001  (the app shows a real minus sign and en dashes; the tests check that text)
"""Scoring and comparison, against worked examples that follow the brief's definitions (§3.1, §3.2, §4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.assessments.instruments import ITEMS, LOWER_LIMB_MAS, MAS_MAPPINGS, default_plan
from server.assessments.scoring import (
    Snapshot,
    compare,
    dynamic_component,
    fmt,
    item_changes,
    items_in_use,
    mean_mas,
    signed,
    tone_summary,
    trend,
    walk_speed,
)

ASHWORTH = MAS_MAPPINGS["ashworth_0_4"]
ORDINAL = MAS_MAPPINGS["ordinal_0_5"]
FLOOR = MAS_MAPPINGS["ashworth_0_4_floor"]
ONE = Decimal("1.0")


def _all(grade: str, **overrides: str) -> dict[str, str]:
    values = {f"{i}.{s}": grade for i in LOWER_LIMB_MAS for s in ("left", "right")}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return values


# Worked example 1: 14 lower-limb muscle-side cells. Baseline all "2" except hip adductors left "3".
# Post-dose all "1" except hip adductors left "1+"; knee extensors right NOT TESTED; soleus left MISSING.
# Pairs compared: 14 - 2 = 12.
# Ashworth 0-4 (1+ = 1.5): baseline 11x2 + 3 = 25, post 11x1 + 1.5 = 12.5, change -12.5/12 = -1.0417 -> meets.
# Ordinal 0-5 [S33]:         baseline 11x3 + 4 = 37, post 11x1 + 2 = 13,    change -24/12  = -2.0    -> meets.
# Ashworth 0-4 (1+ = 1):     baseline 25,           post 11x1 + 1 = 12,    change -13/12  = -1.0833 -> meets.
BASE_1 = Snapshot(_all("2", mas__hip_adductors__left="3"))
POST_1 = Snapshot(
    {k: v for k, v in _all("1", mas__hip_adductors__left="1+").items()
     if k not in ("mas.knee_extensors.right", "mas.soleus.left")},
    {"mas.knee_extensors": {"sides": ["right"], "reason": "child upset"}})


@pytest.mark.parametrize(("mapping", "base_mean", "post_mean", "change"), [
    (ASHWORTH, "2.08", "1.04", "-1.04"),
    (ORDINAL, "3.08", "1.08", "-2"),
    (FLOOR, "2.08", "1", "-1.08"),
])
def test_worked_example_1_mean_lower_limb_change(mapping, base_mean, post_mean, change) -> None:  # type: ignore[no-untyped-def]
    tone = tone_summary(BASE_1, POST_1, mapping, ONE, LOWER_LIMB_MAS)
    assert (tone.pairs, tone.possible) == (12, 14)
    assert fmt(tone.baseline_mean) == base_mean
    assert fmt(tone.post_mean) == post_mean
    assert fmt(tone.change) == change.replace("-", "−")
    assert tone.meets is True
    assert tone.verdict == "Meets the tone criterion (mean reduction ≥ 1.0)"


def test_exactly_one_point_reduction_meets_and_half_a_point_does_not() -> None:
    assert tone_summary(Snapshot(_all("2")), Snapshot(_all("1")), ASHWORTH, ONE, LOWER_LIMB_MAS).meets is True
    half = tone_summary(Snapshot(_all("2")), Snapshot(_all("1+")), ASHWORTH, ONE, LOWER_LIMB_MAS)
    assert half.change == Decimal("-0.5") and half.meets is False
    assert half.verdict == "Does not meet the tone criterion (mean reduction ≥ 1.0)"


def test_the_mapping_decides_changes_through_1_plus_which_is_why_it_is_shown() -> None:
    # Worked example 2: three muscle groups (left) 2, 2, 2 -> 1, 1, 1+.
    base = Snapshot({"mas.hip_flexors.left": "2", "mas.hip_adductors.left": "2", "mas.soleus.left": "2"})
    post = Snapshot({"mas.hip_flexors.left": "1", "mas.hip_adductors.left": "1", "mas.soleus.left": "1+"})
    on_0_4 = tone_summary(base, post, ASHWORTH, ONE, LOWER_LIMB_MAS)
    on_0_5 = tone_summary(base, post, ORDINAL, ONE, LOWER_LIMB_MAS)
    assert fmt(on_0_4.change) == "−0.83" and on_0_4.meets is False  # -(1 + 1 + 0.5) / 3
    assert fmt(on_0_5.change) == "−1.67" and on_0_5.meets is True  # -(2 + 2 + 1) / 3


def test_threshold_is_configurable() -> None:
    tone = tone_summary(BASE_1, POST_1, ASHWORTH, Decimal("1.5"), LOWER_LIMB_MAS)
    assert tone.meets is False and "≥ 1.5" in tone.verdict


def test_missing_post_dose_gives_no_verdict_not_a_zero() -> None:
    tone = tone_summary(BASE_1, None, ASHWORTH, ONE, LOWER_LIMB_MAS)
    assert tone.pairs == 0 and tone.change is None and tone.meets is None
    assert tone.verdict.startswith("Not enough data")
    nothing_paired = tone_summary(Snapshot({"mas.hip_flexors.left": "2"}), Snapshot({"mas.hip_flexors.right": "1"}),
                                  ASHWORTH, ONE, LOWER_LIMB_MAS)
    assert nothing_paired.meets is None


def test_not_tested_is_left_out_never_counted_as_zero_which_would_flip_the_verdict() -> None:
    # Worked example 3: hip flexors 2/2 -> 1+/1+; knee flexors 2/2 at baseline, NOT TESTED (both) post-dose.
    # Left out (right): 2 pairs, (1.5 + 1.5 - 4) / 2 = -0.5 -> does not meet.
    # Were "not tested" scored 0 (wrong): (1.5 + 1.5 + 0 + 0 - 8) / 4 = -1.25 -> would "meet".
    base = Snapshot({"mas.hip_flexors.left": "2", "mas.hip_flexors.right": "2", "mas.knee_flexors.left": "2",
                     "mas.knee_flexors.right": "2"})
    post = Snapshot({"mas.hip_flexors.left": "1+", "mas.hip_flexors.right": "1+"},
                    {"mas.knee_flexors": {"sides": ["left", "right"], "reason": "hamstring cramp"}})
    tone = tone_summary(base, post, ASHWORTH, ONE, LOWER_LIMB_MAS)
    assert (tone.pairs, tone.possible, tone.change, tone.meets) == (2, 14, Decimal("-0.5"), False)
    assert fmt(tone.baseline_mean) == "2" and fmt(tone.post_mean) == "1.5"
    rows = {r.side: r for r in item_changes(ITEMS["mas.knee_flexors"], base, post, ASHWORTH)}
    assert [(rows[s].post_text, rows[s].delta_text, rows[s].comparable) for s in ("left", "right")] == [
        ("not tested", "—", False)] * 2


def test_a_day_with_no_post_dose_assessment_compares_nothing_and_decides_nothing() -> None:
    # Worked example 4: the post-dose assessment is missing altogether (not yet made, or still on a phone).
    result = compare(BASE_1, None, default_plan(2), ASHWORTH, ONE)
    rows = [r for rs in result.changes.values() for r in rs]
    assert rows and all(r.post_state == "missing" and r.post_text == "—" and not r.comparable for r in rows)
    assert result.tone.meets is None and result.tone.change is None and result.walk_speed_post is None
    hip = next(r for r in result.changes["mas"] if r.item.key == "hip_adductors" and r.side == "left")
    assert (hip.baseline_text, hip.post_text, hip.delta_text) == ("3", "—", "—")


def test_upper_limb_tone_is_not_in_the_lower_limb_mean() -> None:
    base = Snapshot({"mas.elbow_flexors.left": "4", "mas.hip_flexors.left": "2"})
    post = Snapshot({"mas.elbow_flexors.left": "0", "mas.hip_flexors.left": "2"})
    ids = ["mas.elbow_flexors", "mas.hip_flexors"]
    assert tone_summary(base, post, ASHWORTH, ONE, ids).change == 0
    assert tone_summary(base, post, ASHWORTH, ONE, ids, region="upper").change == -4
    assert mean_mas(base, ASHWORTH, ids) == (Decimal(2), 1)
    assert mean_mas(Snapshot(), ASHWORTH, ids) == (None, 0)


def test_mas_rows_show_grades_change_and_direction_including_1_plus_not_tested_and_missing() -> None:
    rows = {(r.item.key, r.side): r for r in item_changes(ITEMS["mas.hip_adductors"], BASE_1, POST_1, ASHWORTH)}
    left = rows[("hip_adductors", "left")]
    assert (left.baseline_text, left.post_text, left.delta_text) == ("3", "1+", "−1.5")
    assert (left.direction, left.meaning) == ("down", "less tone")
    nt = {(r.side): r for r in item_changes(ITEMS["mas.knee_extensors"], BASE_1, POST_1, ASHWORTH)}["right"]
    assert (nt.post_state, nt.post_text, nt.direction, nt.delta_text) == ("not_tested", "not tested", None, "—")
    missing = {(r.side): r for r in item_changes(ITEMS["mas.soleus"], BASE_1, POST_1, ASHWORTH)}["left"]
    assert (missing.post_state, missing.post_text, missing.delta, missing.comparable) == ("missing", "—", None, False)


def test_tardieu_dynamic_component_in_the_stretch_direction() -> None:
    ham, gas = ITEMS["tardieu.hamstrings"], ITEMS["tardieu.gastrocnemius"]
    base = Snapshot({"tardieu.hamstrings.left.r1": 70, "tardieu.hamstrings.left.r2": 40,
                     "tardieu.hamstrings.left.quality": "2",
                     "tardieu.gastrocnemius.left.r1": -10, "tardieu.gastrocnemius.left.r2": 5})
    post = Snapshot({"tardieu.hamstrings.left.r1": 55, "tardieu.hamstrings.left.r2": 40,
                     "tardieu.hamstrings.left.quality": "1"})
    # Popliteal angle shrinks with the stretch: R2-R1 = (40 - 70) x -1 = 30; dorsiflexion grows: 5 - (-10) = 15.
    assert dynamic_component(ham, base.values, "left") == 30
    assert dynamic_component(gas, base.values, "left") == 15
    assert dynamic_component(gas, post.values, "left") is None
    rows = {r.label: r for r in item_changes(ham, base, post, ASHWORTH) if r.side == "left"}
    dyn = rows["Hamstrings: R2−R1 (dynamic component)"]
    assert (dyn.baseline_text, dyn.post_text, dyn.delta_text, dyn.meaning) == (
        "30°", "15°", "−15°", "smaller dynamic component")
    assert dyn.derived
    assert rows["Hamstrings: R1 catch angle"].meaning == "later catch"  # the catch comes later in the stretch
    assert rows["Hamstrings: Quality of reaction"].delta_text == "−1"


def test_rom_gait_and_function_changes_in_words() -> None:
    base = Snapshot({"rom.popliteal_angle.left": 55, "rom.hip_abduction.left": 20, "gait.walk_10m_seconds": 12.5,
                     "function.standing": "with_support"})
    post = Snapshot({"rom.popliteal_angle.left": 45, "rom.hip_abduction.left": 20, "gait.walk_10m_seconds": 10,
                     "function.standing": "independent"})
    pop = item_changes(ITEMS["rom.popliteal_angle"], base, post, ASHWORTH)[0]
    assert (pop.delta_text, pop.meaning) == ("−10°", "more range")
    abd = item_changes(ITEMS["rom.hip_abduction"], base, post, ASHWORTH)[0]
    assert (abd.direction, abd.meaning, abd.delta_text) == ("same", "no change", "0°")
    walk = item_changes(ITEMS["gait.walk_10m_seconds"], base, post, ASHWORTH)
    assert [(r.label, r.baseline_text, r.post_text, r.delta_text, r.meaning) for r in walk] == [
        ("10 m walk time", "12.5 s", "10 s", "−2.5 s", "faster"),
        ("10 m walk speed", "0.8 m/s", "1 m/s", "+0.2 m/s", "faster")]
    stand = item_changes(ITEMS["function.standing"], base, post, ASHWORTH)[0]
    assert (stand.baseline_text, stand.post_text, stand.delta_text, stand.meaning) == (
        "With support", "On own", "+1 step", "more independent")
    assert walk_speed({"gait.walk_10m_seconds": 12.3}) == Decimal("0.81")
    assert walk_speed({}) is None


def test_compare_groups_by_instrument_and_includes_data_outside_the_plan() -> None:
    base = Snapshot(_all("2", rom__popliteal_angle__left="50"))
    post = Snapshot({**_all("1"), "mas.elbow_flexors.left": "1"})
    plan = default_plan(2)
    assert "mas.elbow_flexors" in items_in_use(plan, base, post)
    result = compare(base, post, plan, ASHWORTH, ONE)
    assert list(result.changes) == ["mas", "tardieu", "rom", "gait"]
    assert result.tone.meets is True and result.tone.pairs == 14
    assert any(r.item.id == "mas.elbow_flexors" for r in result.changes["mas"])
    day2 = compare(base, Snapshot(_all("1+")), plan, ASHWORTH, ONE)
    rows = trend([("Day 1", result), ("Day 2", day2)])
    assert [(r.label, r.tone.meets, fmt(r.tone.change)) for r in rows] == [("Day 1", True, "−1"),
                                                                          ("Day 2", False, "−0.5")]


def test_number_formatting() -> None:
    assert fmt(None) == "—" and signed(None) == "—"
    assert fmt(Decimal("2.0833")) == "2.08" and fmt(Decimal("-0.5")) == "−0.5" and fmt(Decimal("0.00")) == "0"
    assert signed(Decimal("0.2")) == "+0.2" and signed(Decimal(0)) == "0" and signed(Decimal("-1"), 0) == "−1"
