"""The goals page of a trial: the goals agreed with the family, and each day's rating with its T-score."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from werkzeug.wrappers import Response as ResponseBase

from ..auth.decorators import STAFF, roles_required
from ..auth.session import current_user, current_user_id
from ..extensions import db
from ..trials.lookup import day_or_404, trial_or_404
from ..trials.models import Trial
from ..web import clock
from ..web.forms import load_form
from ..web.htmx import redirect_to, render, wants_fragment
from . import bp
from .models import WEIGHTS
from .schemas import DESCRIPTION_MAX, ROWS, GoalsSchema, ratings_schema
from .scoring import SCALE
from .services import GoalError, goals_for, rate_goals, ratings_for, set_goals, t_scores

EDITORS = ("pt", "surgeon")


def _page(trial: Trial, *, values: Any = None, errors: dict[str, list[str]] | None = None,
          rating_day: int | None = None, rating_values: Any = None,
          rating_errors: dict[str, list[str]] | None = None, status: int = 200) -> Response:
    goals = goals_for(trial.id)
    ratings = ratings_for(goals)
    if values is None:
        values = {}
        for n, goal in enumerate(goals, start=1):
            values[f"goal_{n}"], values[f"weight_{n}"] = goal.description, goal.weight
    user = current_user()
    can_edit = bool(user and user.has_role(*EDITORS) and trial.is_open)
    return render("goals/page.html", "goals/_body.html", trial=trial, goals=goals, ratings=ratings,
                  t_scores=t_scores(trial), values=values, errors=errors or {}, rating_day=rating_day,
                  rating_values=rating_values or {}, rating_errors=rating_errors or {}, can_edit=can_edit,
                  fixed=bool(ratings), rows=ROWS, weights=WEIGHTS, scale=SCALE, description_max=DESCRIPTION_MAX,
                  today=clock.today(), status=status)


@bp.get("/trials/<int:trial_id>/goals")
@roles_required(*STAFF)
def page(trial_id: int) -> Response:
    return _page(trial_or_404(trial_id))


@bp.post("/trials/<int:trial_id>/goals")
@roles_required(*EDITORS)
def save(trial_id: int) -> ResponseBase:
    trial = trial_or_404(trial_id)
    data, errors = load_form(GoalsSchema(), request.form)
    if data is None:
        return _page(trial, values=request.form, errors=errors, status=422)
    try:
        set_goals(trial.id, data["goals"], author_id=current_user_id())
        db.session.commit()
    except GoalError as exc:
        db.session.rollback()
        return _page(trial, values=request.form, errors=exc.errors, status=422)
    return redirect_to(url_for("goals.page", trial_id=trial.id))


@bp.post("/days/<int:day_id>/goal-ratings")
@roles_required(*EDITORS)
def rate(day_id: int) -> ResponseBase:
    day = day_or_404(day_id)
    trial = day.trial
    goals = goals_for(trial.id)
    data, errors = load_form(ratings_schema([g.id for g in goals]), request.form)
    if data is None:
        return _page(trial, rating_day=day.id, rating_values=request.form, rating_errors=errors, status=422)
    try:
        rate_goals(day.id, data["scores"], author_id=current_user_id())
        db.session.commit()
    except GoalError as exc:
        db.session.rollback()
        return _page(trial, rating_day=day.id, rating_values=request.form, rating_errors=exc.errors, status=422)
    if wants_fragment():  # htmx: the page body again, in place (a redirect to this page and #day-N would not reload)
        return _page(trial)
    return redirect_to(url_for("goals.page", trial_id=trial.id, _anchor=f"day-{day.day_number}"))
