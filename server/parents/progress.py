"""What a parent's page says: one child's trial in plain words, read from the other features' records.

Only the child's first name and roles ("the team", "the physiotherapist") are used: never a last name, a
hospital number, a date of birth, a bed or a staff member's name. Free text typed by staff (reasons, notes,
the wording of the goals) is never shown either, since it may hold any of those: goals are told as counts.

Every sentence is in the page's language (Flask-Babel: gettext here, the catalogues in server/translations/),
with dates, times and numbers formatted for it (web/i18n.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..assessments.results import DayView, default_mapping, trial_results
from ..decisions.models import DayDecision
from ..decisions.services import decisions_for
from ..dosing.models import DoseAdministration
from ..dosing.services import trial_doses
from ..goals.services import goals_for, ratings_for
from ..trials.models import Trial, TrialDay
from ..web.i18n import day_words, number_words, time_words

BAR_STEPS = 20  # bar widths are drawn in 5 % steps (CSS classes pbar-0 .. pbar-20: no inline styles)

STATUS_WORDS = {"planned": _l("Not started yet"), "active": _l("In progress"), "completed": _l("Finished"),
                "stopped": _l("Stopped early")}

DOSE_WORDS = {"escalate": _l("a slightly higher dose"), "repeat": _l("the same dose again"),
              "de_escalate": _l("a slightly lower dose")}


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
    day_id: int
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
    return Bar(number_words(value, 1), max(0, min(BAR_STEPS, step)))


def _mcg(value: Decimal) -> str:
    return _("%(amount)s micrograms", amount=number_words(value, 1))


def _dose_sentence(name: str, day: TrialDay, dose: DoseAdministration | None, previous: Decimal | None,
                   today: date) -> str:
    if dose is not None:
        words = {"name": name, "dose": _mcg(dose.dose_mcg), "time": time_words(dose.given_at)}
        if previous is None:
            return _("%(name)s had a test dose of %(dose)s at %(time)s.", **words)
        if dose.dose_mcg > previous:
            return _("%(name)s had a higher test dose of %(dose)s at %(time)s.", **words)
        if dose.dose_mcg < previous:
            return _("%(name)s had a lower test dose of %(dose)s at %(time)s.", **words)
        return _("%(name)s had the same test dose of %(dose)s at %(time)s.", **words)
    if day.dose_status == "held":
        return _("The test dose is on hold for now.") if day.date >= today else _("No test dose was given on this day.")
    if day.dose_status == "cancelled":
        return (_("There was no test dose on this day.") if day.date < today else
                _("No test dose is planned for this day."))
    if day.date < today:
        return _("No test dose was recorded on this day.")
    if day.planned_dose_mcg is None:
        return _("The team will choose this day's test dose.")
    if day.planned_at:
        return _("A test dose of %(dose)s is planned for %(time)s.", dose=_mcg(day.planned_dose_mcg),
                 time=time_words(day.planned_at))
    return _("A test dose of %(dose)s is planned.", dose=_mcg(day.planned_dose_mcg))


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
        summary = _("The legs were looser after the dose: a clear change, the size the team looks for.")
    elif tone.post_mean < tone.baseline_mean:
        summary = _("The legs were a little looser after the dose.")
    elif tone.post_mean == tone.baseline_mean:
        summary = _("The stiffness was the same after the dose.")
    else:
        summary = _("The legs were not looser after the dose.")
    return Stiffness(_bar(tone.baseline_mean, scale_top), _bar(tone.post_mean, scale_top), summary)


def _stiffness_note(view: DayView | None, day: TrialDay, today: date) -> str | None:
    if view is None or view.baseline is None:
        return None
    if view.post is None:
        if day.date >= today:
            return _("The physiotherapist checked the stiffness in the legs before the dose. The check after it "
                     "is still to come.")
        return _("The physiotherapist checked the stiffness in the legs before the dose only.")
    if not _timing_checked(view):
        return _("The physiotherapist checked the stiffness in the legs. The team is looking at these checks.")
    return None


def _plan_sentence(name: str, day: TrialDay, decision: DayDecision | None, today: date, decided: bool
                   ) -> str | None:
    """`decided`: the candidacy outcome is recorded (then it says what comes next, not this sentence)."""
    if decision is None:
        return None
    step = decision.next_step
    if step in DOSE_WORDS:
        words = {"step": DOSE_WORDS[step], "number": day.day_number + 1}
        if decision.next_dose_mcg is not None:
            words["dose"] = _mcg(decision.next_dose_mcg)
            if day.date == today:
                return _("The team's plan for tomorrow: %(step)s (%(dose)s).", **words)
            return _("The team's plan for day %(number)s: %(step)s (%(dose)s).", **words)
        if day.date == today:
            return _("The team's plan for tomorrow: %(step)s.", **words)
        return _("The team's plan for day %(number)s: %(step)s.", **words)
    if step == "end":
        if decided:
            return _("The team's plan: no more test doses.")
        return _("The team's plan: no more test doses. The team will now decide whether a pump is right for "
                 "%(name)s, and talk it through with you.", name=name)
    if step == "stop":
        if decided:
            return _("The team decided to stop the trial early.")
        return _("The team decided to stop the trial early. They will talk with you about why, and what comes "
                 "next.")
    return None


def _goals_sentence(scores: list[int], is_today: bool) -> str | None:
    """E.g. "The goals you agreed with the team, rated today: 1 better than expected, 1 as expected." """
    if not scores:
        return None
    counts = ((sum(1 for x in scores if x > 0), _l("%(count)s better than expected")),
              (sum(1 for x in scores if x == 0), _l("%(count)s as expected")),
              (sum(1 for x in scores if x < 0), _l("%(count)s less than expected")))
    parts = ", ".join(str(words) % {"count": n} for n, words in counts if n)
    if is_today:
        return _("The goals you agreed with the team, rated today: %(counts)s.", counts=parts)
    return _("The goals you agreed with the team, rated on this day: %(counts)s.", counts=parts)


def _outcome_sentence(name: str, outcome: str | None) -> str | None:
    if outcome == "candidate":
        return _("The trial is finished. The team thinks a baclofen pump could help %(name)s, and will talk with "
                 "you about the next steps.", name=name)
    if outcome == "not_candidate":
        return _("The trial is finished. The team thinks a baclofen pump is not the right choice for %(name)s at "
                 "the moment. They will talk with you about other ways to help.", name=name)
    if outcome == "inconclusive":
        return _("The trial is finished. The results were not clear enough to decide about a pump yet. The team "
                 "will talk with you about what to do next.")
    return None


def _status(trial: Trial, today: date) -> str:
    day = trial.day_on(today)
    if trial.is_open and day is not None:
        return _("Day %(number)s of %(total)s", number=day.day_number, total=len(trial.days))
    if trial.is_open and trial.days and today < trial.days[0].date:
        return _("Starts on %(date)s", date=day_words(trial.days[0].date))
    if trial.is_open and trial.days and today > trial.days[-1].date:
        return _("The trial days are over")
    return str(STATUS_WORDS.get(trial.status, trial.status))


def progress(trial: Trial, today: date) -> Progress:
    """The parent's view of `trial` on the hospital date `today`."""
    name = trial.patient.first_name
    doses = trial_doses(trial)
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
                number=day.day_number, day_id=day.id, date=day.date, is_today=day.date == today,
                dose=_dose_sentence(name, day, dose, previous, today), dose_given=dose is not None,
                stiffness=_stiffness(view, scale_top), stiffness_note=_stiffness_note(view, day, today),
                plan=_plan_sentence(name, day, decision, today, decided),
                goals=_goals_sentence([ratings[(g.id, day.id)].score for g in goals if (g.id, day.id) in ratings],
                                      day.date == today)))
        if dose is not None:
            previous = dose.dose_mcg
    return Progress(name, _status(trial, today), number_words(scale_top, 1), list(reversed(stories)),
                    _outcome_sentence(name, trial.outcome))
