"""A parent's daily observation: the one write path, and the read functions the team's pages call.

A family member writes, through their link, how their child was on a trial day (comfort, sleep, ease of care,
movement, each 1 to 5 with words, and a note of their own). They may change it until the team records that
day's decision (or the trial's outcome); from then on it is kept as it was, as the evidence the team decided
with. One observation per link and day.

Messages are in the parent page's language (Flask-Babel); the team's pages read the same words in English.
Like every service these flush and never commit: the caller owns the transaction. The audit row (the Audited
hook) names the link by its id; the token never reaches this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sync.protocol import text_problem

from ..decisions.services import decisions_by_day
from ..extensions import db
from ..trials.models import Trial, TrialDay
from ..web import clock
from ..web.forms import Refused
from .models import NOTE_MAX, OBSERVATION_SCALES, SCALE_MAX, SCALE_MIN, ParentLink, ParentObservation

# The words for 1..5 of each question (1 the worst, 5 the best), in English here and translated on the page.
_EASE = (_l("Much harder than usual"), _l("Harder than usual"), _l("Same as usual"), _l("Easier than usual"),
         _l("Much easier than usual"))
SCALE_WORDS: dict[str, tuple[Any, ...]] = {
    "comfort": (_l("Very uncomfortable"), _l("Uncomfortable"), _l("In between"), _l("Comfortable"),
                _l("Very comfortable")),
    "sleep": (_l("Very badly"), _l("Badly"), _l("In between"), _l("Well"), _l("Very well")),
    "care": _EASE,
    "movement": _EASE,
}
# The team's short names for the questions (staff pages, English).
SCALE_TITLES = {"comfort": "Comfort", "sleep": "Sleep", "care": "Ease of care (dressing, bathing)",
                "movement": "Movement"}


class ObservationError(Refused):
    """Refused, with messages by form field ("_form" for the whole form), and the HTTP status to answer (422, or 409
    once the team has decided). Nothing was written."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422):
        super().__init__(errors)
        self.status = status


class NoSuchDay(Exception):
    """The day is not one of the link's trial's days: answered like an unknown link."""


@dataclass(frozen=True)
class Answer:
    key: str
    title: str  # the team's name for the question (English)
    value: int
    words: str  # the words the parent chose

    @property
    def out_of(self) -> str:
        return f"{self.value} of {SCALE_MAX}"


@dataclass(frozen=True)
class TeamView:
    """An observation as the team reads it (English), with who it came from (the link's label, staff-only)."""

    observation: ParentObservation
    label: str
    answers: list[Answer]
    note: str | None
    language: str
    written_at: datetime
    edited: bool

    @property
    def language_name(self) -> str:
        """The page's language in English, e.g. "Spanish"."""
        return Locale.parse(self.language).get_display_name("en") or self.language


def scale_words(key: str, value: int) -> str:
    return str(SCALE_WORDS[key][value - SCALE_MIN])


def _team_view(obs: ParentObservation) -> TeamView:
    answers = [Answer(k, SCALE_TITLES[k], v, scale_words(k, v)) for k in OBSERVATION_SCALES
               if (v := getattr(obs, k)) is not None]
    return TeamView(obs, obs.link.label, answers, obs.note, obs.language, obs.updated_at, obs.revision > 1)


def _query(day_ids: list[int]) -> list[ParentObservation]:
    if not day_ids:
        return []
    return list(db.session.scalars(select(ParentObservation).where(ParentObservation.trial_day_id.in_(day_ids))
                                   .options(selectinload(ParentObservation.link))
                                   .order_by(ParentObservation.created_at, ParentObservation.id)))


def observations_for_day(day_id: int) -> list[TeamView]:
    """The families' observations of one trial day, oldest first, for the team (the decision page)."""
    return [_team_view(o) for o in _query([day_id])]


def observations_for_trial(trial: Trial) -> dict[int, list[TeamView]]:
    """Every observation of the trial by trial day id (days without one are left out), for a trial summary."""
    out: dict[int, list[TeamView]] = {}
    for obs in _query([d.id for d in trial.days]):
        out.setdefault(obs.trial_day_id, []).append(_team_view(obs))
    return out


def _decided_day_ids(trial: Trial) -> set[int]:
    ids = [d.id for d in trial.days]
    if not ids:
        return set()
    return set(decisions_by_day(ids))


@dataclass(frozen=True)
class Slot:
    """A trial day on the parent's page: what this link wrote for it, and whether it may still be changed."""

    day_id: int
    observation: ParentObservation | None
    open: bool  # the form is shown (the day has begun and the team has not decided it yet)


def _is_open(trial: Trial, day: TrialDay, decided: set[int], today: date) -> bool:
    return trial.outcome is None and day.date <= today and day.id not in decided


def slots_for(link: ParentLink, today: date) -> dict[int, Slot]:
    """For the parent's page: by day number, what `link` wrote and whether the form is open."""
    trial = link.trial
    decided = _decided_day_ids(trial)
    mine = {o.trial_day_id: o for o in db.session.scalars(
        select(ParentObservation).where(ParentObservation.link_id == link.id))}
    return {d.day_number: Slot(d.id, mine.get(d.id), _is_open(trial, d, decided, today)) for d in trial.days}


def _check(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same bounds as the form's schema, for any caller: 1..5 or None, a note of text within NOTE_MAX."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in OBSERVATION_SCALES:
        value = data.get(key)
        if value is not None and (type(value) is not int or not SCALE_MIN <= value <= SCALE_MAX):
            errors[key] = [_("Choose one of the five answers.")]
        clean[key] = value
    note = data.get("note")
    if note is not None:
        if not isinstance(note, str) or text_problem(note):
            errors["note"] = [_("Please write your note as text.")]
        elif len(note.strip()) > NOTE_MAX:
            errors["note"] = [_("Please keep your note to {max} characters.").format(max=NOTE_MAX)]
        else:
            note = note.strip() or None
    clean["note"] = note
    if not errors and all(clean[k] is None for k in (*OBSERVATION_SCALES, "note")):
        errors["_form"] = [_("Choose at least one answer, or write a note.")]
    if errors:
        raise ObservationError(errors)
    return clean


def record_observation(link: ParentLink, day_id: int, data: Mapping[str, Any], *, language: str, today: date,
                       now: datetime | None = None) -> ParentObservation:
    """Save `link`'s observation of trial day `day_id` (a new one, or a change to theirs). Refused, with nothing
    written: a day of another trial (NoSuchDay), a day not begun, a day the team has decided, a closed trial,
    any value out of bounds (ObservationError)."""
    day = db.session.get(TrialDay, day_id)
    if day is None or day.trial_id != link.trial_id:
        raise NoSuchDay(day_id)
    clean = _check(data)
    trial = day.trial
    if day.date > today:
        raise ObservationError({"_form": [_("This day has not started yet. You can write about it on the day.")]})
    if not _is_open(trial, day, _decided_day_ids(trial), today):
        raise ObservationError({"_form": [_("The team has already made the decision for this day, so your "
                                            "answers are kept as they were. You can write about the next day.")]},
                               status=409)
    now = now or clock.now()
    obs = db.session.scalar(select(ParentObservation).where(ParentObservation.trial_day_id == day.id,
                                                            ParentObservation.link_id == link.id))
    if obs is None:
        obs = ParentObservation(trial_day_id=day.id, link_id=link.id, language=language, created_at=now,
                                updated_at=now, revision=1, **clean)
        db.session.add(obs)
    elif any(getattr(obs, k) != v for k, v in clean.items()):
        for key, value in clean.items():
            setattr(obs, key, value)
        obs.language, obs.updated_at, obs.revision = language, now, obs.revision + 1
    db.session.flush()
    return obs
