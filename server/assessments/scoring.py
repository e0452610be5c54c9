# ruff: noqa: RUF001, RUF002  (clinical text uses en dashes and minus signs on purpose)
"""Scoring and comparison: pure functions over an assessment's values, no database, no Flask.

Definitions follow ../shared/docs/clinical-brief.md:
- MAS: the raw grade is stored; a mean uses a named numeric mapping (instruments.MAS_MAPPINGS) shown beside it.
- Tone criterion: mean lower-limb MAS change, post-dose vs the same day's baseline, over the muscle-side pairs
  scored at both; "meets" at a reduction of at least the threshold (default 1.0 on the 0–4 scale [S17]).
  Pairs with a side not tested or a value missing at either time are left out, and the count is shown.
- Tardieu: R2−R1 in the stretch direction (positive when the catch comes before the end of the range).
- 10 m walk: speed = 10 m / time.
Numbers are flagged, never decided: the team decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .instruments import (
    CELLS,
    DYNAMIC_MEASURE,
    ITEMS,
    WALK_10M_METRES,
    Cell,
    Item,
    MasMapping,
    Measure,
    ordered,
)

VALUE, NOT_TESTED, MISSING = "value", "not_tested", "missing"
SPEED_MEASURE = Measure("speed", "Speed", "number", unit="m/s", unit_words="metres per second", decimals=2,
                        lower_means="slower", higher_means="faster")


@dataclass(frozen=True)
class Snapshot:
    """What one assessment recorded: values by form field name, and not-tested items by item id."""

    values: Mapping[str, Any] = field(default_factory=dict)
    not_tested: Mapping[str, Any] = field(default_factory=dict)

    def state(self, cell: Cell) -> tuple[str, Any]:
        """(VALUE, value) | (NOT_TESTED, reason) | (MISSING, None)."""
        if cell.name in self.values:
            return VALUE, self.values[cell.name]
        nt = self.not_tested.get(cell.item.id)
        if nt is not None and (not cell.item.sided or cell.side in nt.get("sides", [])):
            return NOT_TESTED, nt.get("reason", "")
        return MISSING, None

    def item_ids(self) -> set[str]:
        ids = {CELLS[name].item.id for name in self.values if name in CELLS}
        return ids | {i for i in self.not_tested if i in ITEMS}


def numeric(cell: Cell, value: Any, mapping: MasMapping) -> Decimal | None:
    """A value as a number: MAS through the mapping; other choices by their order; numbers as they are."""
    if value is None:
        return None
    measure = cell.measure
    if measure.is_choice:
        if cell.item.instrument == "mas":
            return mapping.value(str(value))
        values = measure.choice_values()
        return Decimal(values.index(str(value))) if str(value) in values else None
    return Decimal(str(value))


def dynamic_component(item: Item, values: Mapping[str, Any], side: str | None) -> Decimal | None:
    """Tardieu R2−R1 in the stretch direction; None unless both angles were recorded."""
    r1 = values.get(item.field(side, "r1"))
    r2 = values.get(item.field(side, "r2"))
    if r1 is None or r2 is None:
        return None
    return (Decimal(str(r2)) - Decimal(str(r1))) * item.stretch_direction


def walk_speed(values: Mapping[str, Any]) -> Decimal | None:
    """10 m walk speed in m/s, to 2 decimals."""
    seconds = values.get("gait.walk_10m_seconds")
    if seconds is None or Decimal(str(seconds)) <= 0:
        return None
    return (WALK_10M_METRES / Decimal(str(seconds))).quantize(Decimal("0.01"), ROUND_HALF_UP)


def fmt(value: Decimal | None, places: int = 2) -> str:
    """A number for people: at most `places` decimals, no trailing zeros, a real minus sign."""
    if value is None:
        return "—"
    q = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP) if places else value.quantize(Decimal(1),
                                                                                                ROUND_HALF_UP)
    text = f"{q.normalize():f}" if q != 0 else "0"
    return text.replace("-", "−")


def signed(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    text = fmt(value, places)
    return text if value < 0 or text == "0" else f"+{text}"


@dataclass(frozen=True)
class Change:
    """One row of the comparison: an item (and side, and measure), baseline vs post-dose."""

    item: Item
    side: str | None
    measure: Measure
    label: str
    baseline_state: str
    baseline_text: str
    post_state: str
    post_text: str
    delta: Decimal | None
    delta_text: str
    direction: str | None  # "down", "up", "same" or None (not comparable)
    meaning: str  # what the change means in words ("less tone"); "" when not comparable
    derived: bool = False

    @property
    def comparable(self) -> bool:
        return self.direction is not None


def with_unit(text: str, unit: str) -> str:
    """A number and its unit: degrees sit on the number (55°), other units after a space (12.5 s, 320 m)."""
    if not unit or text == "—":
        return text
    return f"{text}{unit}" if unit == "°" else f"{text} {unit}"


def cell_text(cell: Cell, state: str, value: Any) -> str:
    if state == NOT_TESTED:
        return "not tested"
    if state == MISSING:
        return "—"
    if cell.measure.is_choice:
        return cell.measure.choice_label(str(value))
    return with_unit(fmt(Decimal(str(value)), cell.measure.decimals), cell.measure.unit)


def _direction(delta: Decimal | None, measure: Measure) -> tuple[str | None, str]:
    if delta is None:
        return None, ""
    if delta < 0:
        return "down", measure.lower_means
    if delta > 0:
        return "up", measure.higher_means
    return "same", "no change"


def _row(cell: Cell, base: Snapshot | None, post: Snapshot | None, mapping: MasMapping) -> Change:
    b_state, b_val = base.state(cell) if base else (MISSING, None)
    p_state, p_val = post.state(cell) if post else (MISSING, None)
    delta = None
    if b_state == VALUE and p_state == VALUE:
        b_num, p_num = numeric(cell, b_val, mapping), numeric(cell, p_val, mapping)
        delta = p_num - b_num if b_num is not None and p_num is not None else None
    direction, meaning = _direction(delta, cell.measure)
    steps = cell.measure.is_choice and cell.item.instrument == "function"
    if delta is None:
        delta_text = "—"
    elif steps:
        delta_text = f"{signed(delta, 0)} step" + ("" if abs(delta) == 1 else "s")
    else:
        delta_text = with_unit(signed(delta, max(cell.measure.decimals, 2 if cell.item.instrument == "mas" else 0)),
                               "" if cell.measure.is_choice else cell.measure.unit)
    label = cell.item.label if len(cell.item.measures) == 1 else f"{cell.item.label}: {cell.measure.label}"
    return Change(cell.item, cell.side, cell.measure, label, b_state, cell_text(cell, b_state, b_val), p_state,
                  cell_text(cell, p_state, p_val), delta, delta_text, direction, meaning)


def _derived_row(item: Item, side: str | None, measure: Measure, label: str, b: Decimal | None,
                 p: Decimal | None) -> Change:
    delta = p - b if b is not None and p is not None else None
    direction, meaning = _direction(delta, measure)
    def text(v: Decimal | None) -> str:
        return "—" if v is None else with_unit(fmt(v, measure.decimals), measure.unit)
    return Change(item, side, measure, label, VALUE if b is not None else MISSING, text(b),
                  VALUE if p is not None else MISSING, text(p), delta,
                  "—" if delta is None else with_unit(signed(delta, measure.decimals), measure.unit), direction,
                  meaning, derived=True)


def item_changes(item: Item, base: Snapshot | None, post: Snapshot | None, mapping: MasMapping) -> list[Change]:
    """The rows for one item: every side and measure, then the derived values (R2−R1, walking speed)."""
    rows: list[Change] = []
    for side in item.sides():
        for measure in item.measures:
            rows.append(_row(next(c for c in item.cells() if c.side == side and c.measure is measure),
                             base, post, mapping))
        if item.instrument == "tardieu":
            rows.append(_derived_row(item, side, DYNAMIC_MEASURE, f"{item.label}: {DYNAMIC_MEASURE.label}",
                                     dynamic_component(item, base.values, side) if base else None,
                                     dynamic_component(item, post.values, side) if post else None))
    if item.id == "gait.walk_10m_seconds":
        rows.append(_derived_row(item, None, SPEED_MEASURE, "10 m walk speed",
                                 walk_speed(base.values) if base else None, walk_speed(post.values) if post else None))
    return rows


@dataclass(frozen=True)
class ToneSummary:
    """Mean lower-limb MAS, same-day baseline vs post-dose, with the tone criterion flag."""

    mapping: MasMapping
    threshold: Decimal
    pairs: int  # muscle-side pairs scored at both times
    possible: int  # lower-limb MAS muscle-side cells in use
    baseline_mean: Decimal | None
    post_mean: Decimal | None
    change: Decimal | None
    meets: bool | None  # None when no pair could be compared

    @property
    def verdict(self) -> str:
        if self.meets is None:
            return "Not enough data: no lower-limb muscle group was scored at both times."
        word = "Meets" if self.meets else "Does not meet"
        return f"{word} the tone criterion (mean reduction ≥ {self.threshold})"


def mean_mas(snapshot: Snapshot, mapping: MasMapping, item_ids: Iterable[str], region: str = "lower"
             ) -> tuple[Decimal | None, int]:
    """Mean MAS of one assessment over the region's scored cells (for a single phase), and how many."""
    nums = [mapping.value(str(snapshot.values[c.name])) for i in ordered(list(item_ids))
            if ITEMS[i].instrument == "mas" and ITEMS[i].region == region
            for c in ITEMS[i].cells() if c.name in snapshot.values]
    return (sum(nums, Decimal(0)) / len(nums), len(nums)) if nums else (None, 0)


def tone_summary(base: Snapshot | None, post: Snapshot | None, mapping: MasMapping, threshold: Decimal,
                 item_ids: Iterable[str], region: str = "lower") -> ToneSummary:
    cells = [c for i in ordered(list(item_ids)) if ITEMS[i].instrument == "mas" and ITEMS[i].region == region
             for c in ITEMS[i].cells()]
    pairs = [(mapping.value(str(base.values[c.name])), mapping.value(str(post.values[c.name])))
             for c in cells if base and post and c.name in base.values and c.name in post.values]
    if not pairs:
        return ToneSummary(mapping, threshold, 0, len(cells), None, None, None, None)
    n = Decimal(len(pairs))
    b_sum = sum((b for b, _ in pairs), Decimal(0))
    p_sum = sum((p for _, p in pairs), Decimal(0))
    # Exact: compare sums, so a mean change of exactly -1.0 meets a 1.0 threshold whatever the rounding.
    meets = (p_sum - b_sum) <= -threshold * n
    return ToneSummary(mapping, threshold, len(pairs), len(cells), b_sum / n, p_sum / n, (p_sum - b_sum) / n, meets)


def items_in_use(plan_item_ids: Iterable[str], *snapshots: Snapshot | None) -> list[str]:
    """The plan's items plus any item that holds data in the snapshots (e.g. measured under an older plan)."""
    ids = set(plan_item_ids)
    for snap in snapshots:
        if snap is not None:
            ids |= snap.item_ids()
    return ordered(ids)


@dataclass(frozen=True)
class DayResult:
    changes: dict[str, list[Change]]  # instrument key -> rows
    tone: ToneSummary
    walk_speed_baseline: Decimal | None
    walk_speed_post: Decimal | None


def compare(base: Snapshot | None, post: Snapshot | None, plan_item_ids: Iterable[str], mapping: MasMapping,
            threshold: Decimal) -> DayResult:
    """A day's comparison: every item's rows grouped by instrument, and the tone summary."""
    ids = items_in_use(plan_item_ids, base, post)
    changes: dict[str, list[Change]] = {}
    for item_id in ids:
        it = ITEMS[item_id]
        changes.setdefault(it.instrument, []).extend(item_changes(it, base, post, mapping))
    return DayResult(changes, tone_summary(base, post, mapping, threshold, ids),
                     walk_speed(base.values) if base else None, walk_speed(post.values) if post else None)


@dataclass(frozen=True)
class TrendRow:
    label: str  # "Day 1"
    tone: ToneSummary
    walk_speed_baseline: Decimal | None
    walk_speed_post: Decimal | None


def trend(days: list[tuple[str, DayResult]]) -> list[TrendRow]:
    """Across days: the tone summary and walking speed of each day, in day order."""
    return [TrendRow(label, r.tone, r.walk_speed_baseline, r.walk_speed_post) for label, r in days]
