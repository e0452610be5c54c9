"""The PT's day for each child on /today: what happened, not the plan (issue 13, finding 3).

For each child on a trial day today: the dose as given (amount, time, who) or held / cancelled / still planned;
the baseline done or due; the post-dose reassessment window (opens, closes, passed) and whether it was done;
and what needs the PT now, so the list can put that first. Reads other features through their read APIs
(`dosing.services.current_doses`, `dosing.schedule.reassessment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..dosing import schedule
from ..dosing.services import current_doses
from ..protocol import current_protocol
from ..trials.models import Trial, TrialDay
from .services import current_assessments_of, needs_timing_check

# What needs the PT, most urgent first (the list's sort key after an open escalation).
NEEDS = ("post_dose_now", "baseline_now", "check_phase", "post_dose_missed", "later", "done")


@dataclass(frozen=True)
class PtDay:
    trial: Trial
    day: TrialDay
    dose: Any | None  # the DoseAdministration as given (last corrected), or None
    baseline_at: datetime | None  # when the day's baseline was taken (None: not yet)
    post_dose_at: datetime | None
    window: schedule.Window | None  # the reassessment window after the dose given
    window_state: str | None  # "before", "open", "closed" (None: no dose given)
    needs: str  # one of NEEDS
    # Assessments of the day whose time contradicts their phase, not yet confirmed: (assessment id, why).
    flags: tuple[tuple[int, str], ...] = ()

    @property
    def dose_status(self) -> str:
        if self.dose is not None:
            return "given"
        return self.day.dose_status  # planned, held or cancelled


def _needs(dose: Any, baseline_at: datetime | None, post_at: datetime | None, state: str | None,
           day_status: str) -> str:
    if dose is None:
        if day_status in ("held", "cancelled"):
            return "done" if baseline_at else "later"
        return "baseline_now" if baseline_at is None else "later"
    if post_at is not None:
        return "done"
    if state == "open":
        return "post_dose_now"
    if state == "closed":
        return "post_dose_missed"
    return "later"


def pt_days(trials: list[Trial], today: date, now: datetime) -> list[PtDay]:
    """One PtDay per trial with a day today, in the given order (callers sort)."""
    protocol = current_protocol()
    days = {t.id: t.day_on(today) for t in trials}
    doses = current_doses([d.id for d in days.values() if d is not None])
    assessments = current_assessments_of([t.id for t in trials if days[t.id] is not None])
    out: list[PtDay] = []
    for trial in trials:
        day = days[trial.id]
        if day is None:
            continue
        dose = doses.get(day.id)
        taken: dict[str, datetime | None] = {"baseline": None, "post_dose": None}
        flags: list[tuple[int, str]] = []
        for a in assessments[trial.id]:
            if a.trial_day_id != day.id or a.phase not in taken:
                continue
            why = needs_timing_check(a, dose)
            if why:
                flags.append((a.id, why))
            elif taken[a.phase] is None:
                taken[a.phase] = a.recorded_at
        window = schedule.reassessment(dose.given_at, protocol) if dose is not None else None
        state = window.state(now) if window is not None else None
        needs = _needs(dose, taken["baseline"], taken["post_dose"], state, day.dose_status)
        if flags and NEEDS.index(needs) > NEEDS.index("check_phase"):
            needs = "check_phase"
        out.append(PtDay(trial=trial, day=day, dose=dose, baseline_at=taken["baseline"],
                         post_dose_at=taken["post_dose"], window=window, window_state=state, needs=needs,
                         flags=tuple(flags)))
    return out
