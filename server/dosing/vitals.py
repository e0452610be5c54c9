"""Nursing observations: what is charted, which values are flagged, and the escalation checklist.

Pure functions, no Flask, no database. Every range here is a DEFAULT for sign-off by the hospital's
nursing and ITB teams (the clinical brief gives no vital-sign ranges): the app highlights, the team decides.

Sources (outside the brief, so named here in full):
- [PALS] American Heart Association, Pediatric Advanced Life Support (2006 edition) normal ranges, awake, as
  tabulated in Fleming S et al., "Normal ranges of heart rate and respiratory rate in children from birth to
  18 years", Lancet 2011;377:1011-18, web appendix, Box 1. Fleming et al. show that published ranges disagree
  with each other and with measured centiles: these are alert limits to review, not normal values.
- [PALS-hypotension] PALS definition of hypotension: systolic < 70 mmHg (1-12 months), < 70 + 2 x age in
  years (1-10 years), < 90 mmHg (10 years and over).
- [UMSS] University of Michigan Sedation Scale, 0 awake and alert to 4 unrousable; validated in children
  (Malviya S et al., Br J Anaesth 2002;88:241-5).
- [NICE-NG143] Fever in under 5s: fever is a temperature of 38 °C or more.
- The brief's tags ([S3] etc.) for the adverse effects, overdose signs and escalation (brief 5.1-5.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..protocol import Protocol

# Adverse effects to chart (brief 5.2; the list), with the brief's sources.
ADVERSE_EFFECTS: dict[str, str] = {
    "hypotonia": "Hypotonia or weakness",
    "rostral_hypotonia": "Floppiness spreading upwards (trunk, arms, face)",
    "drowsiness": "Drowsiness",
    "dizziness": "Dizziness or light-headedness",
    "nausea_vomiting": "Nausea or vomiting",
    "headache": "Headache (often positional)",
    "urinary_retention": "Urinary retention",
    "seizure": "Seizure",
    "respiratory_depression": "Respiratory depression (slow or shallow breathing)",
    "site_leak": "Catheter site problem or CSF leak",
    "loss_of_standing": "Loss of standing or foot drop",
}
# The references (keys of server.protocol.REFERENCES) for each effect.
ADVERSE_EFFECT_SOURCES: dict[str, tuple[str, ...]] = {
    "hypotonia": ("hoving2007", "gilmartin2000"), "rostral_hypotonia": ("lioresal_pi",),
    "drowsiness": ("hoving2007", "gilmartin2000"), "dizziness": ("lioresal_hcp",),
    "nausea_vomiting": ("hoving2007", "gilmartin2000"), "headache": ("hoving2007", "lioresal_hcp", "csf_leak2024"),
    "urinary_retention": ("baclofen_adverse",), "seizure": ("hoving2007", "gilmartin2000"),
    "respiratory_depression": ("lioresal_pi",), "site_leak": ("bleyenheuft2007", "csf_leak2024"),
    "loss_of_standing": ("shin2015", "yoon2017"),
}
# Effects that are also signs of overdose (brief 5.3 [S3][S7]).
OVERDOSE_EFFECTS = frozenset({"drowsiness", "dizziness", "seizure", "respiratory_depression",
                              "rostral_hypotonia"})

SEDATION_SCALE = {  # [UMSS]
    0: "0 \u2013 awake and alert",
    1: "1 \u2013 minimally sedated: tired or sleepy, responds to conversation",
    2: "2 \u2013 moderately sedated: somnolent, roused by light touch or a simple command",
    3: "3 \u2013 deeply sedated: roused only by significant physical stimulation",
    4: "4 \u2013 unrousable",
}
SEDATION_FLAG_AT = 2  # somnolence is an overdose sign [S3][S7]; 4 = loss of consciousness
PAIN_FLAG_AT = 7  # DEFAULT: severe pain on a 0-10 scale (FLACC for non-verbal children, numeric/faces otherwise)
SPO2_FLAG_BELOW = 94  # DEFAULT (UNVERIFIED): hospital oxygen-saturation policy decides
TEMP_LOW_C = Decimal("36.0")  # hypothermia is an overdose sign [S3][S7]; 36.0 °C is a DEFAULT
TEMP_HIGH_C = Decimal("38.0")  # [NICE-NG143]


@dataclass(frozen=True)
class AgeBand:
    label: str
    from_months: int
    to_months: int  # exclusive
    resp_rate: tuple[int, int]
    heart_rate: tuple[int, int]


# [PALS] awake ranges. Heart-rate bands: 0-3 months 85-205, 3 months-2 years 100-190, 2-10 years 60-140,
# over 10 years 60-100. Respiratory bands: under 1 year 30-60, 1-3 years 24-40, 4-5 years 22-34,
# 6-12 years 18-30, 13-18 years 12-16. Combined into bands where both apply.
AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("under 3 months", 0, 3, (30, 60), (85, 205)),
    AgeBand("3 to 11 months", 3, 12, (30, 60), (100, 190)),
    AgeBand("1 year", 12, 24, (24, 40), (100, 190)),
    AgeBand("2 to 3 years", 24, 48, (24, 40), (60, 140)),
    AgeBand("4 to 5 years", 48, 72, (22, 34), (60, 140)),
    AgeBand("6 to 9 years", 72, 120, (18, 30), (60, 140)),
    AgeBand("10 to 12 years", 120, 156, (18, 30), (60, 100)),
    AgeBand("13 years and over", 156, 10_000, (12, 16), (60, 100)),
)


def age_band(age_months: int) -> AgeBand:
    # An age outside the bands (a record dated before birth, or centuries ahead) takes the nearest band.
    age_months = min(max(age_months, AGE_BANDS[0].from_months), AGE_BANDS[-1].to_months - 1)
    return next(b for b in AGE_BANDS if b.from_months <= age_months < b.to_months)


def systolic_lower_limit(age_months: int) -> int:
    """[PALS-hypotension]: below this systolic pressure a child is hypotensive."""
    if age_months < 12:
        return 70
    years = age_months // 12
    return 70 + 2 * years if years < 10 else 90


@dataclass(frozen=True)
class Flag:
    field: str  # the form field it concerns ("effects" for a charted effect)
    message: str
    overdose_sign: bool = False


def assess(values: dict[str, Any], age_months: int) -> list[Flag]:
    """Flags for one set of observations (keys as Observation's columns) in a child of `age_months`."""
    band = age_band(age_months)
    flags: list[Flag] = []

    def out_of(field: str, name: str, unit: str, low: int, high: int, low_is_overdose: bool = False) -> None:
        value = values.get(field)
        if value is None:
            return
        if value < low:
            flags.append(Flag(field, f"{name} {value}{unit} is below {low}{unit}, the lower limit for "
                                     f"age {band.label}.", low_is_overdose))
        elif value > high:
            flags.append(Flag(field, f"{name} {value}{unit} is above {high}{unit}, the upper limit for "
                                     f"age {band.label}."))

    out_of("resp_rate", "Respiratory rate", "/min", *band.resp_rate, low_is_overdose=True)
    out_of("heart_rate", "Heart rate", "/min", *band.heart_rate)
    spo2 = values.get("spo2")
    if spo2 is not None and spo2 < SPO2_FLAG_BELOW:
        flags.append(Flag("spo2", f"SpO2 {spo2}% is below {SPO2_FLAG_BELOW}%.", True))
    systolic = values.get("bp_systolic")
    if systolic is not None and systolic < (limit := systolic_lower_limit(age_months)):
        flags.append(Flag("bp_systolic", f"Systolic blood pressure {systolic} mmHg is below {limit} mmHg "
                                         f"(hypotension for age {age_months // 12} years)."))
    temp = values.get("temperature_c")
    if temp is not None:
        if temp < TEMP_LOW_C:
            flags.append(Flag("temperature_c", f"Temperature {temp} °C is below {TEMP_LOW_C} °C (hypothermia).",
                              True))
        elif temp >= TEMP_HIGH_C:
            flags.append(Flag("temperature_c", f"Temperature {temp} °C is a fever ({TEMP_HIGH_C} °C or more)."))
    sedation = values.get("sedation_score")
    if sedation is not None and sedation >= SEDATION_FLAG_AT:
        what = "unrousable: loss of consciousness" if sedation >= 4 else "drowsy or more deeply sedated"
        flags.append(Flag("sedation_score", f"Sedation score {sedation}: {what}.", True))
    pain = values.get("pain_score")
    if pain is not None and pain >= PAIN_FLAG_AT:
        flags.append(Flag("pain_score", f"Pain score {pain} of 10: severe pain."))
    for key in values.get("effects") or ():
        if key in ADVERSE_EFFECTS:
            flags.append(Flag("effects", f"{ADVERSE_EFFECTS[key]} charted.", key in OVERDOSE_EFFECTS))
    return flags


def age_in_months(born: Any, on: Any) -> int:
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - (1 if on.day < born.day else 0)


# The escalation checklist shown beside flagged observations: each step with its references (keys of
# server.protocol.REFERENCES); a step with none is a hospital default (its sign-off: Protocol.sources
# ["escalation_checklist"]). No doses are calculated. "{every}": the protocol's escalation_obs_every_minutes.
_ESCALATION_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Stay with the child and call for help now: use the hospital's rapid-response escalation.", ("schn_itb",)),
    ("Tell the neurosurgeon on call (and the anaesthetist if breathing is affected).", ()),
    ("Airway and breathing first: oxygen, bag-valve-mask and resuscitation equipment at the bedside; the "
     "medical team intubates if there is respiratory depression.",
     ("lioresal_pi", "itb_dosing_refs", "fadavis_baclofen")),
    ("Continuous SpO2 and heart-rate monitoring; observations every {every} minutes until reviewed.", ()),
    ("Consider 1:1 nursing if overdose is suspected.", ("schn_itb",)),
    ("No specific antidote. The medical team may drain CSF by lumbar puncture or the catheter: their decision "
     "and their volume (the label gives an adult figure only; no paediatric volume is published).",
     ("lioresal_pi", "overdose1991")),
    ("Physostigmine is not a routine treatment (anecdotal; risk of seizures and bradycardia).",
     ("lioresal_pi", "cheo_physostigmine")),
    ("Give no further baclofen until the neurosurgeon has reviewed the child; record the time of each step.", ()),
)


def escalation_checklist(protocol: Protocol) -> list[tuple[str, tuple[str, ...]]]:
    """The escalation checklist's steps with this protocol's numbers, each with its references."""
    return [(step.format(every=protocol.escalation_obs_every_minutes), refs) for step, refs in _ESCALATION_STEPS]
