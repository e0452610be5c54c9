# ruff: noqa: RUF001, RUF002  (clinical text uses en dashes and minus signs on purpose)
"""The PT instruments, defined once as data: forms, validation, scoring, comparison and export all read this.

Every item names its source by short citation (`server.protocol.cite`; the full references are on
/protocol). Nothing here is a clinical order: ranges are plausibility limits for data entry, and the
numeric MAS mappings are conventions for averaging, shown beside every mean.

Form field names are flat and derived from the data (see `Item.field`):

    <instrument>.<item>[.<side>][.<measure>]     e.g. mas.hip_adductors.left, tardieu.hamstrings.right.r1,
                                                      rom.popliteal_angle.left, gait.walk_10m_seconds,
                                                      function.penn.frequency
    <instrument>.<item>.not_tested               "left" / "right" / "both" (sided items) or "yes"
    <instrument>.<item>.not_tested_reason        required when not_tested is set

A test the child could not do is "not tested" with a reason; it is never stored as zero.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from ..protocol import cite

SIDES: tuple[tuple[str, str], ...] = (("left", "Left"), ("right", "Right"))
SIDE_LABELS = dict(SIDES)
PHASES: dict[str, str] = {"baseline": "Baseline", "post_dose": "Post-dose"}
REGIONS = {"lower": "Lower limb", "upper": "Upper limb"}
NOT_TESTED_SIDED = {"left": "Left side not tested", "right": "Right side not tested", "both": "Neither side tested"}
NOT_TESTED_YES = "yes"
REASON_MAX = 200
NOTES_MAX = 2000


@dataclass(frozen=True)
class Choice:
    value: str  # what is stored ("1+")
    label: str  # what the button shows
    meaning: str = ""  # the grade's definition, shown as a hint


@dataclass(frozen=True)
class Measure:
    """One value an item records: a grade/choice (tapped) or a number (typed on the keypad)."""

    key: str  # "" for an item's only measure, else e.g. "r1", "quality"
    label: str  # e.g. "R1 (catch angle)"
    kind: str  # "choice" or "number"
    unit: str = ""  # "°", "s", "m", "" (a score)
    unit_words: str = ""  # "degrees", "seconds", ... for messages and screen readers
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: int = 0
    choices: tuple[Choice, ...] = ()
    lower_means: str = ""  # what a decrease means, in words ("less tone"); never "better" or "worse"
    higher_means: str = ""
    ordinal: bool = True  # choices are ordered, so a change has a direction

    @property
    def is_choice(self) -> bool:
        return self.kind == "choice"

    def choice_values(self) -> list[str]:
        return [c.value for c in self.choices]

    def choice_label(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)


@dataclass(frozen=True)
class Cell:
    """One input on the form: an item, a side (or None) and a measure."""

    item: Item
    side: str | None
    measure: Measure
    name: str


@dataclass(frozen=True)
class Item:
    instrument: str
    key: str
    label: str
    measures: tuple[Measure, ...]
    sided: bool = True
    region: str | None = None  # "lower" / "upper" for tone and spasticity items
    hint: str = ""
    source: str = ""
    stretch_direction: int = 1  # Tardieu: +1 if the angle grows as the muscle is stretched, -1 if it shrinks

    @property
    def id(self) -> str:
        return f"{self.instrument}.{self.key}"

    @property
    def not_tested_name(self) -> str:
        return f"{self.id}.not_tested"

    @property
    def reason_name(self) -> str:
        return f"{self.id}.not_tested_reason"

    @functools.cache  # noqa: B019 - items are static, frozen and few; names are asked for on every load
    def field(self, side: str | None = None, measure: str = "") -> str:
        parts = [self.instrument, self.key]
        if self.sided:
            if side not in SIDE_LABELS:
                raise ValueError(f"{self.id} needs a side")
            parts.append(str(side))
        if len(self.measures) > 1:
            parts.append(measure)
        return ".".join(parts)

    def sides(self) -> tuple[str | None, ...]:
        return tuple(s for s, _ in SIDES) if self.sided else (None,)

    @functools.cache  # noqa: B019 - as above
    def cells(self) -> list[Cell]:
        return [Cell(self, side, m, self.field(side, m.key)) for side in self.sides() for m in self.measures]

    def measure(self, key: str = "") -> Measure:
        return next(m for m in self.measures if m.key == key)


@dataclass(frozen=True)
class Instrument:
    key: str
    title: str
    item_word: str  # "muscle group", "joint measure", "test": used in messages
    source: str
    items: tuple[Item, ...]
    hint: str = ""


def _number(key: str, label: str, unit: str, unit_words: str, lo: str, hi: str, decimals: int = 0, *,
            lower: str = "", higher: str = "") -> Measure:
    return Measure(key=key, label=label, kind="number", unit=unit, unit_words=unit_words, min=Decimal(lo),
                   max=Decimal(hi), decimals=decimals, lower_means=lower, higher_means=higher)


# ---- Modified Ashworth Scale (Bohannon & Smith 1987) --------------------------------------------------------------

MAS_GRADES: tuple[Choice, ...] = (
    Choice("0", "0", "No increase in tone"),
    Choice("1", "1", "Slight increase: catch and release, or minimal resistance at the end of the range"),
    Choice("1+", "1+", "Slight increase: catch, then minimal resistance through less than half of the range"),
    Choice("2", "2", "Marked increase through most of the range, but the limb is easily moved"),
    Choice("3", "3", "Considerable increase, passive movement difficult"),
    Choice("4", "4", "Rigid in flexion or extension"),
)
MAS_MEASURE = Measure(key="", label="Grade", kind="choice", choices=MAS_GRADES,
                      lower_means="less tone", higher_means="more tone")


_MAS_LOWER, _MAS_UPPER = cite("mutlu2008", "mas_muscles"), cite("mas_muscles")


def _mas(key: str, label: str, region: str, source: str) -> Item:
    return Item("mas", key, label, (MAS_MEASURE,), region=region, source=source)


MAS = Instrument(
    key="mas", title="Muscle tone (Modified Ashworth)", item_word="muscle group",
    source=f"grades: {cite('bohannon1987')}; 0–5 coding: {cite('mas_coding2013')}; reliability in CP: "
           f"{cite('mutlu2008')}; muscle groups: {cite('mutlu2008', 'mas_muscles')}",
    hint=f"Tap one grade per side: 0 no increase … 4 rigid. Same position and test order every day "
         f"({cite('bristol_itb')}).",
    items=(
        _mas("hip_flexors", "Hip flexors", "lower", _MAS_LOWER),
        _mas("hip_adductors", "Hip adductors", "lower", _MAS_LOWER),
        _mas("hip_internal_rotators", "Hip internal rotators", "lower", _MAS_LOWER),
        _mas("knee_flexors", "Knee flexors (hamstrings)", "lower", _MAS_LOWER),
        _mas("knee_extensors", "Knee extensors (quadriceps)", "lower", _MAS_LOWER),
        _mas("gastrocnemius", "Plantar-flexors: gastrocnemius (knee straight)", "lower", _MAS_LOWER),
        _mas("soleus", "Plantar-flexors: soleus (knee bent)", "lower", _MAS_LOWER),
        _mas("elbow_flexors", "Elbow flexors", "upper", _MAS_UPPER),
        _mas("elbow_extensors", "Elbow extensors", "upper", _MAS_UPPER),
        _mas("wrist_flexors", "Wrist flexors", "upper", _MAS_UPPER),
        _mas("wrist_extensors", "Wrist extensors", "upper", _MAS_UPPER),
        _mas("finger_flexors", "Finger flexors", "upper", _MAS_UPPER),
        _mas("thumb_flexors", "Thumb flexors", "upper", _MAS_UPPER),
    ),
)


@dataclass(frozen=True)
class MasMapping:
    """A numeric coding of the raw MAS grades, used only to average them. Shown beside every mean."""

    key: str
    label: str
    values: dict[str, Decimal] = field(hash=False)
    source: str = ""

    def value(self, grade: str) -> Decimal:
        return self.values[grade]


MAS_MAPPINGS: dict[str, MasMapping] = {m.key: m for m in (
    MasMapping(
        "ashworth_0_4", "Ashworth 0–4, 1+ = 1.5",
        {"0": Decimal(0), "1": Decimal(1), "1+": Decimal("1.5"), "2": Decimal(2), "3": Decimal(3),
         "4": Decimal(4)},
        f"Keeps the original 0–4 Ashworth scale on which the ≥ 1.0 responder threshold was published "
        f"({cite('gilmartin2000')}); 1+ sits between 1 and 2 by its definition ({cite('bohannon1987')}). No "
        "published source codes 1+ as 1.5: a hospital default."),
    MasMapping(
        "ordinal_0_5", "Ordinal 0–5 (1+ = 2)",
        {"0": Decimal(0), "1": Decimal(1), "1+": Decimal(2), "2": Decimal(3), "3": Decimal(4), "4": Decimal(5)},
        f"Published analysis coding ({cite('mas_coding2013')}). Stretches the scale: changes through 1+ count "
        f"double against a threshold published on the 0–4 scale ({cite('gilmartin2000')})."),
    MasMapping(
        "ashworth_0_4_floor", "Ashworth 0–4, 1+ = 1",
        {"0": Decimal(0), "1": Decimal(1), "1+": Decimal(1), "2": Decimal(2), "3": Decimal(3), "4": Decimal(4)},
        "Original Ashworth had no 1+ grade; folding it into 1 is the conservative reading of the scale the "
        f"threshold was published on ({cite('gilmartin2000')}). An option of this app, no published source."),
)}


# ---- Modified Tardieu Scale (Tardieu 1954; Boyd & Graham 1999) ----------------------------------------------------

TARDIEU_QUALITY: tuple[Choice, ...] = (
    Choice("0", "0", "No resistance through the passive movement"),
    Choice("1", "1", "Slight resistance, no clear catch at a precise angle"),
    Choice("2", "2", "Clear catch at a precise angle, then release"),
    Choice("3", "3", "Fatigable clonus (< 10 s) at a precise angle"),
    Choice("4", "4", "Unfatigable clonus (> 10 s) at a precise angle"),
    Choice("5", "5", "Joint immovable"),
)


def _tardieu(key: str, label: str, region: str, measured_as: str, lo: str, hi: str, direction: int) -> Item:
    more = "later catch" if direction > 0 else "earlier catch"
    less = "earlier catch" if direction > 0 else "later catch"
    return Item(
        "tardieu", key, label, region=region, stretch_direction=direction, source=cite("tardieu", "banky2019"),
        hint=f"Angles as {measured_as}. R1: catch on a fast stretch (V2/V3, same speed every day). "
             "R2: full range on a slow stretch (V1).",
        measures=(
            _number("r1", "R1 catch angle", "°", "degrees", lo, hi, lower=less, higher=more),
            _number("r2", "R2 slow range", "°", "degrees", lo, hi,
                    lower="less range" if direction > 0 else "more range",
                    higher="more range" if direction > 0 else "less range"),
            Measure(key="quality", label="Quality of reaction", kind="choice", choices=TARDIEU_QUALITY,
                    lower_means="milder reaction", higher_means="stronger reaction"),
        ),
    )


TARDIEU = Instrument(
    key="tardieu", title="Spasticity (Modified Tardieu)", item_word="muscle",
    source=f"quality grades, velocities and recording: {cite('tardieu')}; reliability: "
           f"{cite('tardieu_speed2022')}; muscles: {cite('banky2019')}",
    hint=f"R2−R1 (the dynamic, spastic component) is worked out for you. Its reliability is low "
         f"({cite('tardieu_speed2022')}): read changes with care.",
    items=(
        _tardieu("hamstrings", "Hamstrings", "lower", "popliteal angle (hip at 90°, 0° = knee straight)",
                 "0", "180", -1),
        _tardieu("rectus_femoris", "Rectus femoris", "lower", "knee flexion lying prone", "0", "160", 1),
        _tardieu("gastrocnemius", "Gastrocnemius (knee straight)", "lower",
                 "ankle dorsiflexion, knee straight (minus = plantar-flexion)", "-90", "60", 1),
        _tardieu("soleus", "Soleus (knee bent)", "lower",
                 "ankle dorsiflexion, knee bent 90° (minus = plantar-flexion)", "-90", "60", 1),
        _tardieu("elbow_flexors", "Elbow flexors", "upper", "elbow flexion (0° = elbow straight)", "0", "160", -1),
    ),
)
# The dynamic component in the stretch direction, so it is positive when the catch comes before the end of
# range whichever way the joint angle is read.
DYNAMIC_LABEL = "R2−R1 (dynamic component)"
DYNAMIC_MEASURE = _number("dynamic", DYNAMIC_LABEL, "°", "degrees", "-360", "360",
                          lower="smaller dynamic component", higher="larger dynamic component")


# ---- Goniometric passive range of motion --------------------------------------------------------------------------

def _rom(key: str, label: str, hint: str, lo: str, hi: str, more_is: str, region: str = "lower") -> Item:
    """`more_is`: what a larger number means ("more range" or "less range")."""
    less_is = "less range" if more_is == "more range" else "more range"
    return Item("rom", key, label, (_number("", "Angle", "°", "degrees", lo, hi, lower=less_is, higher=more_is),),
                region=region, hint=hint, source=cite("goniometry2009", "execp2021",
                                                      *(("popliteal2021",) if key == "popliteal_angle" else ())))


ROM = Instrument(
    key="rom", title="Range of motion (degrees)", item_word="joint measure",
    source=f"goniometry: {cite('goniometry2009')}; popliteal angle: {cite('popliteal2021')}; flexibility tests: "
           f"{cite('execp2021')}; range under anaesthesia: {cite('bristol_itb')}",
    hint=f"Passive range with a goniometer, same positions every day. ITB does not change fixed contracture "
         f"({cite('bristol_itb')}).",
    items=(
        _rom("hip_abduction", "Hip abduction", "Supine, hips extended, pelvis stabilised.", "-10", "90",
             "more range"),
        _rom("hip_extension", "Hip flexion contracture (Thomas test)",
             "Modified Thomas test: degrees short of neutral hip extension (0° = none).", "-20", "120", "less range"),
        _rom("hip_internal_rotation", "Hip internal rotation", "Prone, knee at 90°.", "0", "90", "more range"),
        _rom("hip_external_rotation", "Hip external rotation", "Prone, knee at 90°.", "0", "90", "more range"),
        _rom("popliteal_angle", "Popliteal angle",
             "Hip at 90°: 0° = knee straight; a larger angle means tighter hamstrings.", "0", "180", "less range"),
        _rom("knee_extension_deficit", "Knee extension deficit",
             "Degrees short of a straight knee (minus = hyperextension).", "-30", "120", "less range"),
        _rom("ankle_df_knee_extended", "Ankle dorsiflexion, knee straight",
             "Gastrocnemius length. Minus = cannot reach neutral (plantar-flexed).", "-90", "60", "more range"),
        _rom("ankle_df_knee_flexed", "Ankle dorsiflexion, knee bent 90°",
             "Soleus length (Silfverskiöld comparison). Minus = plantar-flexed.", "-90", "60", "more range"),
        _rom("elbow_extension", "Elbow extension deficit",
             "Degrees short of a straight elbow (minus = hyperextension).", "-30", "160", "less range", "upper"),
        _rom("wrist_extension", "Wrist extension", "Fingers relaxed. Minus = cannot reach neutral.", "-90", "90",
             "more range", "upper"),
    ),
)


# ---- Gait and physical function -----------------------------------------------------------------------------------

GAIT = Instrument(
    key="gait", title="Gait", item_word="test",
    source=f"10 m and 6 min walk: {cite('thompson2008')}; TUG: {cite('tug_review')}; OGS: {cite('mackey2003')}; "
           f"EVGS: {cite('read2003')}; loss of standing: {cite('shin2015', 'yoon2017')}",
    hint=f"In ambulant children too much tone reduction can cost standing or cause foot drop: re-test at each "
         f"dose ({cite('shin2015', 'yoon2017')}).",
    items=(
        Item("gait", "walk_10m_seconds", "10 m walk time", (
            _number("", "Time", "s", "seconds", "2", "600", 2, lower="faster", higher="slower"),),
             sided=False, hint=f"Fast walk over 10 m; speed is worked out. Weak test–retest reliability "
                                f"({cite('thompson2008')}).",
             source=cite("thompson2008")),
        Item("gait", "tug_seconds", "Timed Up and Go", (
            _number("", "Time", "s", "seconds", "2", "300", 2, lower="faster", higher="slower"),),
             sided=False, hint=f"Protocols vary: use the same one every day ({cite('tug_review')}).",
             source=cite("tug_review")),
        Item("gait", "walk_6min_metres", "6-minute walk distance", (
            _number("", "Distance", "m", "metres", "1", "1000", 0, lower="shorter", higher="further"),),
             sided=False, hint=f"MDC about 62 / 64 / 47 m for GMFCS I / II / III ({cite('thompson2008')}).",
             source=cite("thompson2008")),
        Item("gait", "evgs", "Edinburgh Visual Gait Score (total)", (
            _number("", "Total", "", "points", "0", "34", 0, lower="fewer deviations", higher="more deviations"),),
             hint=f"17 items per limb, 0–2 each (0 = normal); max 34. Proposed MCID 2.4 ({cite('read2003')}).",
             source=cite("read2003")),
        Item("gait", "ogs", "Observational Gait Scale (total)", (
            _number("", "Total", "", "points", "0", "22", 0, lower="lower score", higher="higher score"),),
             hint=f"8 sections, max 22 per limb; lower = worse ({cite('mackey2003')}).", source=cite("mackey2003")),
    ),
)

_APP_SCALE = (f"Hospital default: descriptive categories (not a validated scale); standing may be lost with ITB "
              f"({cite('shin2015', 'yoon2017')})")
FUNCTION = Instrument(
    key="function", title="Function and spasms", item_word="test",
    source=f"Penn Spasm Frequency Scale: {cite('penn1989')}; standing, transfers and sitting: hospital default "
           f"categories ({cite('shin2015', 'yoon2017')})",
    items=(
        Item("function", "standing", "Standing", (
            Measure("", "Standing", "choice", choices=(
                Choice("unable", "Unable"), Choice("with_support", "With support"),
                Choice("independent", "On own")),
                lower_means="less independent", higher_means="more independent"),),
             sided=False, source=_APP_SCALE),
        Item("function", "transfers", "Transfers", (
            Measure("", "Transfers", "choice", choices=(
                Choice("dependent", "Dependent"), Choice("assisted", "Assisted"),
                Choice("supervised", "Supervised"), Choice("independent", "On own")),
                lower_means="less independent", higher_means="more independent"),),
             sided=False, source=_APP_SCALE),
        Item("function", "sitting", "Sitting", (
            Measure("", "Sitting", "choice", choices=(
                Choice("unable", "Unable"), Choice("with_support", "With support"),
                Choice("independent", "On own")),
                lower_means="less independent", higher_means="more independent"),),
             sided=False, source=_APP_SCALE),
        Item("function", "penn", "Penn Spasm Frequency Scale", (
            Measure("frequency", "Frequency", "choice", choices=(
                Choice("0", "0", "No spasms"), Choice("1", "1", "Mild spasms, only on stimulation"),
                Choice("2", "2", "Full spasms, less than once an hour"),
                Choice("3", "3", "Spasms more than once an hour"),
                Choice("4", "4", "Spasms more than 10 times an hour")),
                lower_means="fewer spasms", higher_means="more spasms"),
            Measure("severity", "Severity", "choice", choices=(
                Choice("1", "1", "Mild"), Choice("2", "2", "Moderate"), Choice("3", "3", "Severe")),
                lower_means="milder spasms", higher_means="more severe spasms"),
        ), sided=False, hint=f"Child or carer report. Severity is left blank when there are no spasms (0) "
                             f"({cite('penn1989')}).",
             source=cite("penn1989")),
    ),
)

INSTRUMENTS: dict[str, Instrument] = {i.key: i for i in (MAS, TARDIEU, ROM, GAIT, FUNCTION)}
ITEMS: dict[str, Item] = {item.id: item for inst in INSTRUMENTS.values() for item in inst.items}
CELLS: dict[str, Cell] = {cell.name: cell for item in ITEMS.values() for cell in item.cells()}
WALK_10M_METRES = Decimal(10)


def item(item_id: str) -> Item:
    return ITEMS[item_id]


# ---- The per-trial plan: which items apply to this child ----------------------------------------------------------

LOWER_LIMB_MAS = tuple(i.id for i in MAS.items if i.region == "lower")
DEFAULT_ROM = ("rom.hip_abduction", "rom.popliteal_angle", "rom.ankle_df_knee_extended", "rom.ankle_df_knee_flexed")
DEFAULT_TARDIEU = ("tardieu.hamstrings", "tardieu.gastrocnemius")


def default_plan(gmfcs_level: int | None = None) -> list[str]:
    """Lower limb by default. GMFCS I–III walk, so the 10 m walk; IV–V sit, stand and transfer (Palisano et al.)."""
    walking = gmfcs_level is None or gmfcs_level <= 3
    function = ("gait.walk_10m_seconds",) if walking else ("function.standing", "function.transfers",
                                                            "function.sitting")
    return [*LOWER_LIMB_MAS, *DEFAULT_TARDIEU, *DEFAULT_ROM, *function]


def ordered(item_ids: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """Known item ids in instrument order (unknown ones dropped)."""
    wanted = set(item_ids)
    return [i for i in ITEMS if i in wanted]


def plan_items(item_ids: list[str]) -> dict[str, list[Item]]:
    """The plan's items grouped by instrument, in instrument order (empty instruments left out)."""
    groups: dict[str, list[Item]] = {}
    for item_id in ordered(item_ids):
        it = ITEMS[item_id]
        groups.setdefault(it.instrument, []).append(it)
    return groups


def range_message(item_: Item, measure: Measure) -> str:
    """The one message for an out-of-range number (server and phone show the same words)."""
    what = item_.label if len(item_.measures) == 1 else f"{item_.label} {measure.label}"
    lo = f"{measure.min.normalize():f}" if measure.min is not None else "?"
    hi = f"{measure.max.normalize():f}" if measure.max is not None else "?"
    return f"{what} must be between {lo} and {hi} {measure.unit_words}.".replace("  ", " ")


def number_message(item_: Item, measure: Measure) -> str:
    what = item_.label if len(item_.measures) == 1 else f"{item_.label} {measure.label}"
    if measure.decimals:
        return f"Enter {what} as a number with up to {measure.decimals} decimals, e.g. 12.5."
    example = "12" if measure.max is not None and measure.max <= 40 else "35"
    return f"Enter {what} in whole {measure.unit_words}, e.g. {example}."


def choice_message(measure: Measure) -> str:
    values = [c.label for c in measure.choices]
    listed = ", ".join(values[:-1]) + " or " + values[-1]
    word = "grade" if measure is MAS_MEASURE or measure.key == "quality" else "value"
    return f"Choose a {word}: {listed}."
