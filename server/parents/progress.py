"""What a parent's page says: one child's trial in plain words, read from the other features' records.

Only the child's first name and roles ("the team", "the physiotherapist") are used: never a last name, a
hospital number, a date of birth, a bed or a staff member's name. Free text typed by staff (reasons, notes,
the wording of the goals) is never shown either, since it may hold any of those: goals are told as counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ..assessments.results import DayView, default_mapping, trial_results
from ..assessments.scoring import fmt
from ..assessments.services import doses_for
from ..decisions.models import DayDecision
from ..decisions.services import decisions_for
from ..dosing.models import DoseAdministration
from ..dosing.schedule import local_label
from ..goals.services import goals_for, ratings_for
from ..protocol import format_mcg
from ..trials.models import Trial, TrialDay
from ..web.clock import hospital_tz

BAR_STEPS = 20  # bar widths are drawn in 5 % steps (CSS classes pbar-0 .. pbar-20: no inline styles)

STATUS_WORDS = {"planned": "Not started yet", "active": "In progress", "completed": "Finished",
                "stopped": "Stopped early"}

DOSE_WORDS = {"escalate": "a slightly higher dose", "repeat": "the same dose again",
              "de_escalate": "a slightly lower dose"}


@dataclass(frozen=True)
class Bar:
    value: str  # the number as shown, e.g. "2.1"
    step: int  # 0..BAR_STEPS, the bar's width


@dataclass(frozen=True)
class Stiffness:
    before: Bar
    after: Bar
    summary: str  # a sentence


@dataclass(frozen=True)
class DayStory:
    number: int
    date: date
    is_today: bool
    dose: str  # a sentence
    dose_given: bool
    stiffness: Stiffness | None
    stiffness_note: str | None  # when there is no before/after pair to show
    plan: str | None
    goals: str | None = None  # how the goals agreed with the family were rated that day, as counts

    @property
    def has_news(self) -> bool:
        return self.dose_given or self.stiffness is not None or self.plan is not None or self.goals is not None


@dataclass(frozen=True)
class Progress:
    first_name: str
    status: str  # "Day 2 of 3", or the trial's state outside its days
    scale_max: str  # the top of the stiffness scale, e.g. "4"
    days: list[DayStory]  # the days so far, latest first
    outcome: str | None

    @property
    def nothing_yet(self) -> bool:
        return self.outcome is None and not any(d.has_news for d in self.days)


def _bar(value: Decimal, top: Decimal) -> Bar:
    step = int((value / top * BAR_STEPS).quantize(Decimal(1), ROUND_HALF_UP)) if top > 0 else 0
    return Bar(fmt(value, 1), max(0, min(BAR_STEPS, step)))


def _mcg(value: Decimal) -> str:
    return f"{format_mcg(value)} micrograms"


def _dose_sentence(name: str, day: TrialDay, dose: DoseAdministration | None, previous: Decimal | None,
                   today: date) -> str:
    if dose is not None:
        kind = "a test dose"
        if previous is not None:
            kind = ("a higher test dose" if dose.dose_mcg > previous else
                    "a lower test dose" if dose.dose_mcg < previous else "the same test dose")
        return f"{name} had {kind} of {_mcg(dose.dose_mcg)} at {local_label(dose.given_at, hospital_tz())}."
    if day.dose_status == "held":
        return "The test dose is on hold for now." if day.date >= today else "No test dose was given on this day."
    if day.dose_status == "cancelled":
        return "There was no test dose on this day." if day.date < today else "No test dose is planned for this day."
    if day.date < today:
        return "No test dose was recorded on this day."
    if day.planned_dose_mcg is None:
        return "The team will choose this day's test dose."
    when = f" for {local_label(day.planned_at, hospital_tz())}" if day.planned_at else ""
    return f"A test dose of {_mcg(day.planned_dose_mcg)} is planned{when}."


def _timing_checked(view: DayView) -> bool:
    """The post-dose check was made after a recorded dose, in the reassessment window: only then is "after
    the dose" what the page can tell a family (anything flagged is for the team to look at first)."""
    return view.timing is not None and not view.timing.flagged


def _stiffness(view: DayView | None, scale_top: Decimal) -> Stiffness | None:
    tone = view.result.tone if view else None
    if view is None or tone is None or tone.baseline_mean is None or tone.post_mean is None:
        return None
    if not _timing_checked(view):
        return None
    if tone.meets:
        summary = "The legs were looser after the dose: a clear change, the size the team looks for."
    elif tone.post_mean < tone.baseline_mean:
        summary = "The legs were a little looser after the dose."
    elif tone.post_mean == tone.baseline_mean:
        summary = "The stiffness was the same after the dose."
    else:
        summary = "The legs were not looser after the dose."
    return Stiffness(_bar(tone.baseline_mean, scale_top), _bar(tone.post_mean, scale_top), summary)


def _stiffness_note(view: DayView | None, day: TrialDay, today: date) -> str | None:
    if view is None or view.baseline is None:
        return None
    if view.post is None:
        if day.date >= today:
            return "The physiotherapist checked the stiffness in the legs before the dose; the check after it is "\
                   "still to come."
        return "The physiotherapist checked the stiffness in the legs before the dose only."
    if not _timing_checked(view):
        return "The physiotherapist checked the stiffness in the legs; the team is looking at these checks."
    return None


def _plan_sentence(name: str, day: TrialDay, decision: DayDecision | None, today: date, decided: bool
                   ) -> str | None:
    """`decided`: the candidacy outcome is recorded (then it says what comes next, not this sentence)."""
    if decision is None:
        return None
    step = decision.next_step
    if step in DOSE_WORDS:
        when = "tomorrow" if day.date == today else f"day {day.day_number + 1}"
        amount = f" ({_mcg(decision.next_dose_mcg)})" if decision.next_dose_mcg is not None else ""
        return f"The team's plan for {when}: {DOSE_WORDS[step]}{amount}."
    if step == "end":
        if decided:
            return "The team's plan: no more test doses."
        return (f"The team's plan: no more test doses. The team will now decide whether a pump is right for {name}, "
                "and talk it through with you.")
    if step == "stop":
        if decided:
            return "The team decided to stop the trial early."
        return "The team decided to stop the trial early. They will talk with you about why, and what comes next."
    return None


def _goals_sentence(scores: list[int], is_today: bool) -> str | None:
    """E.g. "The goals you agreed with the team, rated today: 1 better than expected, 1 as expected." """
    if not scores:
        return None
    parts = [f"{n} {words}" for n, words in (
        (sum(1 for x in scores if x > 0), "better than expected"), (sum(1 for x in scores if x == 0), "as expected"),
        (sum(1 for x in scores if x < 0), "less than expected")) if n]
    when = "today" if is_today else "on this day"
    return f"The goals you agreed with the team, rated {when}: {', '.join(parts)}."


def _outcome_sentence(name: str, outcome: str | None) -> str | None:
    if outcome == "candidate":
        return (f"The trial is finished. The team thinks a baclofen pump could help {name}, and will talk with you "
                "about the next steps.")
    if outcome == "not_candidate":
        return (f"The trial is finished. The team thinks a baclofen pump is not the right choice for {name} at the "
                "moment. They will talk with you about other ways to help.")
    if outcome == "inconclusive":
        return ("The trial is finished. The results were not clear enough to decide about a pump yet. The team "
                "will talk with you about what to do next.")
    return None


def _status(trial: Trial, today: date) -> str:
    day = trial.day_on(today)
    if trial.is_open and day is not None:
        return f"Day {day.day_number} of {len(trial.days)}"
    if trial.is_open and trial.days and today < trial.days[0].date:
        return f"Starts on {trial.days[0].date.strftime('%A %-d %B')}"
    if trial.is_open and trial.days and today > trial.days[-1].date:
        return "The trial days are over"
    return STATUS_WORDS.get(trial.status, trial.status)


def progress(trial: Trial, today: date) -> Progress:
    """The parent's view of `trial` on the hospital date `today`."""
    name = trial.patient.first_name
    doses = doses_for(trial)
    views = {v.day.id: v for v in trial_results(trial)}
    decisions = decisions_for(trial)
    goals = goals_for(trial.id)
    ratings = ratings_for(goals)
    scale_top = max(default_mapping().values.values())  # the same mapping trial_results used
    decided = trial.outcome is not None
    stories: list[DayStory] = []
    previous: Decimal | None = None
    for day in trial.days:
        dose, view, decision = doses.get(day.id), views.get(day.id), decisions.get(day.id)
        if day.date <= today or dose or view or decision:
            stories.append(DayStory(
                number=day.day_number, date=day.date, is_today=day.date == today,
                dose=_dose_sentence(name, day, dose, previous, today), dose_given=dose is not None,
                stiffness=_stiffness(view, scale_top), stiffness_note=_stiffness_note(view, day, today),
                plan=_plan_sentence(name, day, decision, today, decided),
                goals=_goals_sentence([ratings[(g.id, day.id)].score for g in goals if (g.id, day.id) in ratings],
                                      day.date == today)))
        if dose is not None:
            previous = dose.dose_mcg
    return Progress(name, _status(trial, today), fmt(scale_top, 1), list(reversed(stories)),
                    _outcome_sentence(name, trial.outcome))
