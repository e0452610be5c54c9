"""Each trial day's result, read from the current assessments: the one calculation the comparison page, the
team's decision page and the parent page all show (baseline vs the post-dose nearest the reassessment time)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..dosing.models import DoseAdministration
from ..dosing.schedule import reassessment
from ..dosing.services import trial_doses
from ..protocol import current_protocol
from ..trials.models import Trial, TrialDay
from ..web.filters import localtime
from .instruments import MAS_MAPPINGS, PHASES, MasMapping
from .models import Assessment
from .scoring import Change, DayResult, Snapshot, compare
from .services import (
    Timing,
    assessed_at,
    choose_baseline,
    current_assessments,
    needs_timing_check,
    out_of_phase,
    plan_for,
    timing,
    usable_posts,
)


def snapshot(assessment: Assessment | None) -> Snapshot | None:
    return Snapshot(assessment.values or {}, assessment.not_tested or {}) if assessment is not None else None


def default_mapping() -> MasMapping:
    """The protocol's MAS numeric mapping (the original 0-4 Ashworth one unless the hospital chose another)."""
    return MAS_MAPPINGS[current_protocol().mas_mapping]


def tone_threshold() -> Decimal:
    return Decimal(current_protocol().tone_response_threshold)


@dataclass(frozen=True)
class ChangeRow:
    """One line of the comparison table: an item's measure, left and right side by side."""

    label: str
    sided: bool
    derived: bool
    by_side: dict[str | None, Change]


def change_rows(changes: list[Change]) -> list[ChangeRow]:
    rows: dict[tuple[str, str], ChangeRow] = {}
    for ch in changes:
        key = (ch.item.id, ch.label)
        if key not in rows:
            rows[key] = ChangeRow(ch.label, ch.item.sided, ch.derived, {})
        rows[key].by_side[ch.side] = ch
    return list(rows.values())


@dataclass(frozen=True)
class DayView:
    day: TrialDay
    dose: DoseAdministration | None
    baseline: Assessment | None
    post: Assessment | None
    other_posts: list[Assessment]
    timing: Timing | None
    result: DayResult
    # Assessments of the day the comparison leaves out, with the reason (a baseline made after the dose...).
    left_out: list[tuple[Assessment, str]]

    @property
    def used(self) -> str:
        """Which assessments the comparison used, and why, in one sentence."""
        if self.baseline is None and self.post is None:
            return "Nothing to compare yet."
        parts = []
        if self.baseline is not None:
            before = "" if self.dose is None else (
                " (made after the dose; confirmed by the PT)" if out_of_phase(self.baseline, self.dose)
                else " (before the dose)")
            parts.append(f"baseline of {localtime(assessed_at(self.baseline))}{before}")
        if self.post is not None:
            why = " (nearest the reassessment time)" if self.other_posts and self.dose is not None else ""
            parts.append(f"post-dose of {localtime(assessed_at(self.post))}{why}")
        return "Compared: " + " with ".join(parts) + "."

    def tables(self) -> dict[str, list[ChangeRow]]:
        return {key: change_rows(rows) for key, rows in self.result.changes.items()}


def _primary_post(posts: list[Assessment], dose: DoseAdministration | None) -> Assessment | None:
    """The post-dose assessment compared: the one nearest the protocol's reassessment time, else the latest."""
    if not posts:
        return None
    if dose is None:
        return posts[-1]
    due = reassessment(dose.given_at, current_protocol()).due
    return min(posts, key=lambda a: (abs((assessed_at(a) - due).total_seconds()), -a.id))


def trial_results(trial: Trial, mapping: MasMapping | None = None) -> list[DayView]:
    """Every trial day with at least one assessment, in day order, compared with `mapping` (default: the
    protocol's)."""
    return day_views(trial, current_assessments(trial.id), trial_doses(trial), plan_for(trial), mapping)


def day_views(trial: Trial, current: list[Assessment], doses: dict[int, DoseAdministration], plan: list[str],
              mapping: MasMapping | None = None) -> list[DayView]:
    """`trial_results` from records already read: the current assessments of the trial (any order), the dose
    given by trial day id, and the assessment plan. No query of its own (a corrected assessment's time is its
    first version's, `assessed_at`: have those loaded too, as `current_versions` does), so a page that reads many
    days at once (the trial summary) stays at a fixed number of queries."""
    mapping = mapping or default_mapping()
    threshold = tone_threshold()
    phase_order = list(PHASES)
    days: list[DayView] = []
    for day in trial.days:
        mine = sorted((a for a in current if a.trial_day_id == day.id),
                      key=lambda a: (phase_order.index(a.phase), assessed_at(a), a.id))
        if not mine:
            continue
        baselines = [a for a in mine if a.phase == "baseline"]
        posts = [a for a in mine if a.phase == "post_dose"]
        dose = doses.get(day.id)
        base = choose_baseline(baselines, dose)
        usable = usable_posts(posts, dose)
        post = _primary_post(usable, dose)
        left_out = [(a, f"{why} Left out of the comparison until the PT confirms or corrects it.")
                    for a in mine if (why := needs_timing_check(a, dose))]
        result = compare(snapshot(base), snapshot(post), plan, mapping, threshold)
        days.append(DayView(day, dose, base, post, [p for p in usable if p is not post],
                            timing(post, dose) if post else None, result, left_out))
    return days
